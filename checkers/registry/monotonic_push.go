package registry

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// MonotonicPush: the versions a subscriber receives never go back.
type MonotonicPush struct{}

func (MonotonicPush) Name() string { return "monotonic-push" }

func (c MonotonicPush) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	last := map[string]int{}
	var bad []string
	var ops []int
	n := 0
	for i, ev := range s.evs {
		if ev.Kind != Push {
			continue
		}
		n++
		k := fmt.Sprintf("%d/%s", ev.Client, ev.RegID)
		if j, ok := last[k]; ok && s.evs[j].Version > ev.Version {
			bad = append(bad, fmt.Sprintf("subscriber %s of client %d received version %d at %v (op %d) after version %d at %v (op %d)",
				ev.RegID, ev.Client, ev.Version, vt(ev.T), i, s.evs[j].Version, vt(s.evs[j].T), j))
			ops = append(ops, i, j)
		}
		last[k] = i
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("push versions never went back in %d pushes", n))
}
