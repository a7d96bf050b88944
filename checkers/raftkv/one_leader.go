package raftkv

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// OneLeaderPerTerm: raft's election safety, at most one leader per term.
// Two leaders in one term means a vote was cast twice (a vote lost at a
// restart) or a quorum was miscounted.
type OneLeaderPerTerm struct{}

func (OneLeaderPerTerm) Name() string { return "one-leader-per-term" }

func (c OneLeaderPerTerm) Check(p *Protocol, _ checkers.Options) checkers.Result {
	leaders := map[uint64]Event{}
	var bad []string
	for _, e := range p.Events {
		if e.Kind != Leader {
			continue
		}
		if prev, ok := leaders[e.Term]; ok && prev.Node != e.Node {
			bad = append(bad, fmt.Sprintf("two leaders in term %d: %s and %s", e.Term, prev, e))
			continue
		}
		leaders[e.Term] = e
	}
	if len(bad) > 0 {
		return fail(c.Name(), bad)
	}
	return pass(c.Name(), fmt.Sprintf("one leader in each of %d terms", len(leaders)))
}
