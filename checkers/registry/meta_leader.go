package registry

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// MetaLeader: at most one meta leader per raft term, and a meta
// process's applied table epoch never goes back.
type MetaLeader struct{}

func (MetaLeader) Name() string { return "meta-leader" }

func (c MetaLeader) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	terms := map[uint64]int{}
	epochs := map[string]int{}
	var bad []string
	var ops []int
	for i, ev := range s.evs {
		if ev.Kind != Meta {
			continue
		}
		proc := fmt.Sprintf("%s#%d", ev.Node, ev.Inc)
		if j, ok := epochs[proc]; ok && s.evs[j].Epoch > ev.Epoch {
			bad = append(bad, fmt.Sprintf("%s's table went back from epoch %d (op %d) to %d (op %d)", proc, s.evs[j].Epoch, j, ev.Epoch, i))
			ops = append(ops, i, j)
		}
		epochs[proc] = i
		if !ev.Leader {
			continue
		}
		if j, ok := terms[ev.Term]; ok && s.evs[j].Node != ev.Node {
			bad = append(bad, fmt.Sprintf("two meta leaders in term %d: %s (op %d) and %s (op %d)", ev.Term, s.evs[j].Node, j, ev.Node, i))
			ops = append(ops, i, j)
		}
		terms[ev.Term] = i
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("one meta leader in each of %d terms", len(terms)))
}
