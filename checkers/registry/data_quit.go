package registry

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// DataQuit: a data server told to quit gracefully leads no slot within
// Bound, when no fault acted on the servers in that time (its publishers
// must survive the move: no-loss judges the pushes around it).
type DataQuit struct{ Bound int64 }

func (DataQuit) Name() string { return "data-quit" }

func (c DataQuit) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	ds := s.disturbances()
	var bad []string
	var ops []int
	judged := 0
	for _, d := range s.drills(DrillDataQuit) {
		deadline := d.T + c.Bound
		if deadline > s.end || deadline > s.until(d) || !quiet(ds, d.T, deadline, 0, func(n string) bool { return n != "ops" && n != d.Node }) {
			continue
		}
		judged++
		last := -1
		for i, ev := range s.evs {
			if ev.T > deadline {
				break
			}
			if (ev.Kind == Slots || ev.Kind == DataDown) && ev.Node == d.Node {
				last = i
			}
		}
		if last >= 0 && s.evs[last].Kind == Slots && len(s.evs[last].Slots) > 0 {
			bad = append(bad, fmt.Sprintf("data server %s, told to quit at %v, still led %d slots at %v (op %d)",
				d.Node, vt(d.T), len(s.evs[last].Slots), vt(deadline), last))
			ops = append(ops, last)
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("%d graceful quits left the slot table within %v", judged, vt(c.Bound)))
}
