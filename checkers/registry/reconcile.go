package registry

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// The slot reconcile drills (nodes/registry/reconcile.go).
const (
	DrillReconcileStop = "reconcile-stop" // every meta server's arrangement stopped, started again at Until
	DrillForceRefresh  = "force-refresh"  // the meta leader rebuilt the slot table round robin
)

// ReconcileHold: while slot reconcile is stopped (from DrillLag after the
// drill until it is undone) no slot leaves a data server that stays up,
// unless a force refresh was issued meanwhile or just before (it works
// while stopped; the console asks for it for DrillLag).
type ReconcileHold struct{}

func (ReconcileHold) Name() string { return "reconcile-hold" }

func (c ReconcileHold) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	stops := s.drills(DrillReconcileStop)
	refreshes := s.drills(DrillForceRefresh)
	held := func(t int64) bool {
		for _, d := range stops {
			if t >= d.T+DrillLag && t < s.until(d) {
				for _, r := range refreshes {
					if r.T <= t && r.T+2*DrillLag >= d.T {
						return false
					}
				}
				return true
			}
		}
		return false
	}
	type proc struct {
		node string
		inc  uint32
	}
	leads := map[proc]map[int]bool{}
	var bad []string
	var ops []int
	judged := 0
	for i, ev := range s.evs {
		if ev.Kind != Slots {
			continue
		}
		p := proc{ev.Node, ev.Inc}
		now := map[int]bool{}
		for _, x := range ev.Slots {
			now[x] = true
		}
		if prev := leads[p]; prev != nil && held(ev.T) {
			judged++
			for _, x := range sortedInts(prev) {
				if !now[x] {
					bad = append(bad, fmt.Sprintf("%s stopped leading slot %d at %v (epoch %d) while slot reconcile was stopped", ev.Node, x, vt(ev.T), ev.Epoch))
					ops = append(ops, i)
				}
			}
		}
		leads[p] = now
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("%d reconcile stops, %d changes of a data server's slots while stopped, none lost a slot", len(stops), judged))
}

// ForceRefreshBalanced: a force refresh leaves the live data servers
// leading the slots evenly (BalanceTask's round robin: each floor or ceil
// of Slots/servers) within Bound, judged when no fault and no other drill
// that moves slots acted in between.
type ForceRefreshBalanced struct {
	Bound int64
	Slots int
}

func (ForceRefreshBalanced) Name() string { return "force-refresh-balanced" }

func (c ForceRefreshBalanced) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	ds := s.faults() // not the drills': this one is one
	var bad []string
	var ops []int
	judged := 0
	for i, d := range s.evs {
		if d.Kind != Drill || d.Op != DrillForceRefresh {
			continue
		}
		at := d.T + c.Bound
		if at > s.end || !quiet(ds, d.T, at, 0, func(string) bool { return true }) || s.otherDrill(i, at) {
			continue
		}
		judged++
		// each data server's last sample by then, with downs
		last := map[string][]int{}
		for _, ev := range s.evs {
			if ev.T > at {
				break
			}
			switch ev.Kind {
			case Slots:
				last[ev.Node] = ev.Slots
			case DataDown:
				delete(last, ev.Node)
			}
		}
		n := len(last)
		if n == 0 {
			continue
		}
		lo, hi := c.Slots/n, (c.Slots+n-1)/n
		total := 0
		for _, node := range sortedStr(last) {
			k := len(last[node])
			total += k
			if k < lo || k > hi {
				bad = append(bad, fmt.Sprintf("%s leads %d slots %v after the force refresh at %v (round robin over %d data servers: %d to %d)",
					node, k, vt(c.Bound), vt(d.T), n, lo, hi))
				ops = append(ops, i)
			}
		}
		if total != c.Slots && len(bad) == 0 {
			bad = append(bad, fmt.Sprintf("%d of %d slots led %v after the force refresh at %v", total, c.Slots, vt(c.Bound), vt(d.T)))
			ops = append(ops, i)
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("%d force refreshes judged, slots spread evenly within %v", judged, vt(c.Bound)))
}

// otherDrill: a drill other than event i that moves slots or meta
// leadership was in force between it and to.
func (s *regState) otherDrill(i int, to int64) bool {
	d := s.evs[i]
	for j, ev := range s.evs {
		moves := ev.Op == DrillDataQuit || ev.Op == DrillMetaQuit || ev.Op == DrillReconcileStop || ev.Op == DrillForceRefresh
		// its end moves slots too (a quit data server joins again)
		if ev.Kind == Drill && moves && j != i && ev.T <= to && max(s.until(ev), ev.T)+2*DrillLag >= d.T {
			return true
		}
	}
	return false
}
