package raftkv

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// DurableAcks: what a server acknowledged to a leader is on its disk. The
// leader counts the acknowledgement towards a quorum, so a member that
// restarts in the same term with a shorter log (an ack sent before the
// append was written, or before its sync) let an entry count as
// committed on a copy that is gone. A restart in a later term is not
// judged: a new leader may have cut the acknowledged suffix.
type DurableAcks struct{}

func (DurableAcks) Name() string { return "durable-acks" }

func (c DurableAcks) Check(p *Protocol, _ checkers.Options) checkers.Result {
	acked := map[string]Event{}
	var bad []string
	judged := 0
	for _, e := range p.Events {
		switch e.Kind {
		case Acked:
			acked[e.Node] = e
		case Recovered:
			a, ok := acked[e.Node]
			if !ok || a.Inc >= e.Inc {
				continue
			}
			delete(acked, e.Node)
			if a.Term != e.Term {
				continue
			}
			judged++
			if e.Index < a.Index {
				bad = append(bad, fmt.Sprintf("%s acknowledged its log up to %d in term %d, then recovered it only up to %d", e.Node, a.Index, a.Term, e.Index))
			}
		}
	}
	if len(bad) > 0 {
		return fail(c.Name(), bad)
	}
	return pass(c.Name(), fmt.Sprintf("%d restarts in the term of their last acknowledgement kept what they acknowledged", judged))
}
