package coordinator

import (
	"fmt"
	"maps"
	"slices"

	"github.com/sofasim/sofasim/checkers"
)

// Recovery: once faults heal, a TC serves, every TC and RM runs, and every
// xid that began reaches a final status within Bound (ns) of the heal; the
// serving TC holds no session at the end (a failed rollback kept for an
// operator counts as not recovered).
type Recovery struct{ Bound int64 }

func (Recovery) Name() string { return "recovery" }

func (c Recovery) Check(h *History, _ checkers.Options) checkers.Result {
	st, fi := finalState(h)
	if st == nil {
		return noFinal(c.Name())
	}
	heal := healAt(h)
	began := map[uint64]int{}
	done := map[uint64]int64{}
	for i, ev := range h.Events {
		switch {
		case ev.Kind == Begin:
			began[ev.XID] = i
		case ev.Kind == Transition && final(ev.To), ev.Kind == End:
			if _, ok := done[ev.XID]; !ok {
				done[ev.XID] = ev.T
			}
		}
	}
	var bad []string
	var ops []int
	if st.ServingTC == "" {
		bad = append(bad, "no TC serves at the end")
		ops = append(ops, fi)
	}
	for _, id := range st.Down {
		bad = append(bad, fmt.Sprintf("%s is down at the end", id))
		ops = append(ops, fi)
	}
	for _, x := range slices.Sorted(maps.Keys(began)) {
		t, ok := done[x]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("xid %d never reached a final status", x))
			ops = append(ops, began[x])
		case heal >= 0 && t > heal+c.Bound:
			bad = append(bad, fmt.Sprintf("xid %d reached a final status at %s, more than %s after the heal at %s", x, vt(t), vt(c.Bound), vt(heal)))
			ops = append(ops, began[x])
		}
	}
	for _, s := range st.Open {
		bad = append(bad, fmt.Sprintf("the serving TC still holds xid %d (%s) at the end", s.XID, s.Status))
		ops = append(ops, fi)
	}
	return verdict(c.Name(), bad, ops, fmt.Sprintf("all %d xids reached a final status and were cleaned up within %s of the heal", len(began), vt(c.Bound)))
}
