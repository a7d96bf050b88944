package raftkv

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// DurableVotes: what a server promised before a crash it still holds after
// the restart. A vote, or a leadership (a vote for itself), must be synced
// before it is sent; one that is not can be forgotten in a crash. So a
// server never votes for two candidates in one term across its restarts,
// and it recovers a term at least that of every vote it gave and of every
// term it led, with the same vote in that term. The second part sees a
// forgotten vote at the restart itself, whether or not the server is ever
// asked for a vote in that term again.
type DurableVotes struct{}

func (DurableVotes) Name() string { return "durable-votes" }

func (c DurableVotes) Check(p *Protocol, _ checkers.Options) checkers.Result {
	type key struct {
		node string
		term uint64
	}
	votes := map[key]Event{}
	promised := map[string]Event{} // a server's newest vote (a leadership counts as one for itself)
	var bad []string
	restarts := 0
	for _, e := range p.Events {
		switch e.Kind {
		case Vote:
			k := key{e.Node, e.Term}
			if prev, ok := votes[k]; ok && prev.Peer != e.Peer {
				bad = append(bad, fmt.Sprintf("%s voted twice in term %d: %s, then %s", e.Node, e.Term, prev, e))
				continue
			}
			votes[k] = e
			if e.Term >= promised[e.Node].Term {
				promised[e.Node] = e
			}
		case Leader:
			if e.Term >= promised[e.Node].Term {
				promised[e.Node] = Event{Kind: Vote, T: e.T, Node: e.Node, Inc: e.Inc, Term: e.Term, Peer: e.Node}
			}
		case Recovered:
			restarts++
			pr, ok := promised[e.Node]
			if !ok || pr.Inc >= e.Inc || e.Term > pr.Term || (e.Term == pr.Term && e.Peer == pr.Peer) {
				continue
			}
			bad = append(bad, fmt.Sprintf("%s forgot a vote: %s, then %s", e.Node, pr, e))
		}
	}
	if len(bad) > 0 {
		return fail(c.Name(), bad)
	}
	return pass(c.Name(), fmt.Sprintf("%d votes, none given twice in a term or forgotten in %d restarts", len(votes), restarts))
}
