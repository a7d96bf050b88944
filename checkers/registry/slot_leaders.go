package registry

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// SlotLeaders: at most one data server serves a slot at a given table
// epoch, and a data server process's epoch never goes back.
type SlotLeaders struct{}

func (SlotLeaders) Name() string { return "slot-leaders" }

func (c SlotLeaders) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	type lead struct {
		node string
		op   int
	}
	leaders := map[string]lead{}
	epochs := map[string]int{}
	var bad []string
	var ops []int
	for i, ev := range s.evs {
		if ev.Kind != Slots {
			continue
		}
		proc := fmt.Sprintf("%s#%d", ev.Node, ev.Inc)
		if j, ok := epochs[proc]; ok && s.evs[j].Epoch > ev.Epoch {
			bad = append(bad, fmt.Sprintf("%s went back from epoch %d (op %d) to %d (op %d)", proc, s.evs[j].Epoch, j, ev.Epoch, i))
			ops = append(ops, i, j)
		}
		epochs[proc] = i
		for _, sl := range ev.Slots {
			k := fmt.Sprintf("%d/%d", ev.Epoch, sl)
			if l, ok := leaders[k]; ok && l.node != ev.Node {
				bad = append(bad, fmt.Sprintf("slot %d had two leaders at epoch %d: %s (op %d) and %s (op %d)", sl, ev.Epoch, l.node, l.op, ev.Node, i))
				ops = append(ops, i, l.op)
				continue
			}
			leaders[k] = lead{ev.Node, i}
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("one leader per slot per epoch across %d (slot, epoch) pairs; epochs never went back", len(leaders)))
}
