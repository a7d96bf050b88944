package raftkv

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// DurableVotes: a server never votes for two candidates in one term, across
// its restarts. A vote must be synced before it is sent; one that is not
// can be forgotten in a crash and given again to another candidate.
type DurableVotes struct{}

func (DurableVotes) Name() string { return "durable-votes" }

func (c DurableVotes) Check(p *Protocol, _ checkers.Options) checkers.Result {
	type key struct {
		node string
		term uint64
	}
	votes := map[key]Event{}
	var bad []string
	for _, e := range p.Events {
		if e.Kind != Vote {
			continue
		}
		k := key{e.Node, e.Term}
		if prev, ok := votes[k]; ok && prev.Peer != e.Peer {
			bad = append(bad, fmt.Sprintf("%s voted twice in term %d: %s, then %s", e.Node, e.Term, prev, e))
			continue
		}
		votes[k] = e
	}
	if len(bad) > 0 {
		return fail(c.Name(), bad)
	}
	return pass(c.Name(), fmt.Sprintf("%d votes, none given twice in a term", len(votes)))
}
