package raftkv

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// ApplyOnce: a state machine applies each log index at most once and in
// order: after it is built or restored from a snapshot at index R, every
// command it applies has an index above R and above the one before. An
// entry applied again after a restart (the WAL's margin replayed over a
// snapshot that already holds it, etcd#13766) breaks it even when the
// command is idempotent and the replicas end up equal. And a client's
// write (its Value is unique) is applied at one index only: a retry
// committed twice must be applied once, whatever the command.
type ApplyOnce struct{}

func (ApplyOnce) Name() string { return "apply-once" }

func (c ApplyOnce) Check(p *Protocol, _ checkers.Options) checkers.Result {
	floor := map[string]Event{}
	type write struct{ node, value string }
	writes := map[write]Event{}
	var bad []string
	applied := 0
	for _, e := range p.Events {
		switch e.Kind {
		case Restore:
			floor[e.Node] = e
		case Apply:
			applied++
			if f, ok := floor[e.Node]; ok && e.Index <= f.Index {
				bad = append(bad, fmt.Sprintf("%s applied index %d after %s", e.Node, e.Index, f))
			}
			floor[e.Node] = e
			if e.Value == "" {
				continue
			}
			w := write{e.Node, e.Value}
			if prev, ok := writes[w]; ok && prev.Index != e.Index {
				bad = append(bad, fmt.Sprintf("%s applied the write %q of %q twice, at %d and %d", e.Node, e.Value, e.Key, prev.Index, e.Index))
			}
			writes[w] = e
		}
	}
	if len(bad) > 0 {
		return fail(c.Name(), bad)
	}
	return pass(c.Name(), fmt.Sprintf("%d commands applied, each index once and in order", applied))
}
