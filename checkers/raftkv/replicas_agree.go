package raftkv

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// ReplicasAgree: every replica's state machine is the same at the same
// applied index, at the sampled points during the run and at its end
// (state machine safety). A replica that applied an entry twice, skipped
// one or restored the wrong snapshot diverges here even when no client
// reads the difference.
type ReplicasAgree struct{}

func (ReplicasAgree) Name() string { return "replicas-agree" }

func (c ReplicasAgree) Check(p *Protocol, _ checkers.Options) checkers.Result {
	first := map[uint64]Event{}
	var bad []string
	diverged := map[string]bool{} // report each replica's first divergence only
	for _, e := range p.Events {
		if e.Kind != State {
			continue
		}
		prev, ok := first[e.Index]
		if !ok {
			first[e.Index] = e
			continue
		}
		if prev.Digest != e.Digest && !diverged[e.Node] {
			diverged[e.Node] = true
			bad = append(bad, fmt.Sprintf("replicas differ at applied index %d: %s vs %s", e.Index, prev, e))
		}
	}
	if len(bad) > 0 {
		return fail(c.Name(), bad)
	}
	return pass(c.Name(), fmt.Sprintf("replicas equal at all %d sampled applied indexes", len(first)))
}
