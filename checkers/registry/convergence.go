package registry

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// Convergence: at the end of the run (faults healed, a quiet period
// passed), every live client's subscriber last received exactly the
// publishers of live clients under its dataInfoId.
type Convergence struct{}

func (Convergence) Name() string { return "convergence" }

func (c Convergence) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	return c.check(s, res)
}

// Converged reports whether the events end converged (for a harness
// deciding when a run may stop).
func Converged(evs []Event) bool {
	return Convergence{}.check(loadEvents(evs), checkers.Result{}).Verdict == checkers.Pass
}

func (c Convergence) check(s *regState, res checkers.Result) checkers.Result {
	exp := s.expected()
	last := map[string]int{} // "client/sub" -> event index of the last push
	for i, ev := range s.evs {
		if ev.Kind == Push {
			last[fmt.Sprintf("%d/%s", ev.Client, ev.RegID)] = i
		}
	}
	var bad []string
	var ops []int
	n := 0
	for _, cl := range sortedInts(s.subs) {
		if _, d := s.dead[cl]; d {
			continue
		}
		for _, reg := range sortedStr(s.subs[cl]) {
			n++
			sub := s.subs[cl][reg]
			want := map[string]bool{}
			for _, r := range sortedStr(exp[sub.DataID]) {
				want[r+"="+exp[sub.DataID][r].Data] = true
			}
			got := map[string]bool{}
			i, pushed := last[fmt.Sprintf("%d/%s", cl, reg)]
			if pushed {
				for _, p := range s.evs[i].Pubs {
					got[p] = true
				}
			}
			var missing, extra []string
			for _, k := range sortedStr(want) {
				if !got[k] {
					missing = append(missing, k)
				}
			}
			for _, k := range sortedStr(got) {
				if !want[k] {
					extra = append(extra, k)
				}
			}
			if len(missing)+len(extra) == 0 {
				continue
			}
			where := "received no push"
			if pushed {
				where = fmt.Sprintf("last received version %d at %v (op %d)", s.evs[i].Version, vt(s.evs[i].T), i)
				ops = append(ops, i)
			}
			bad = append(bad, fmt.Sprintf("subscriber %s of client %d on %s %s: missing %v, unexpected %v",
				reg, cl, sub.DataID, where, missing, extra))
		}
	}
	if len(bad) > 0 {
		return fail(res, append([]string{fmt.Sprintf("%d of %d live subscribers did not converge by the end of the run at %v", len(bad), n, vt(s.end))}, bad...), ops)
	}
	return pass(res, fmt.Sprintf("all %d live subscribers ended with exactly the live publishers", n))
}
