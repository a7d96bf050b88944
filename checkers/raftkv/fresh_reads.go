package raftkv

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// FreshReads: a read is answered from a state that includes every entry
// some server knew to be committed when the read arrived. ReadIndex
// guarantees it; a read served from local state (a follower, or a deposed
// leader whose term is behind) breaks it, whether or not the stale value
// happens to differ.
type FreshReads struct{}

func (FreshReads) Name() string { return "fresh-reads" }

func (c FreshReads) Check(p *Protocol, _ checkers.Options) checkers.Result {
	type key struct {
		node          string
		inc           uint32
		session, seqn uint64
	}
	var commit, maxTerm uint64
	arrived := map[key]uint64{} // the commit index known anywhere at the first arrival
	var bad []string
	served, behind := 0, 0
	for _, e := range p.Events {
		switch e.Kind {
		case Commit:
			commit = max(commit, e.Index)
		case Leader:
			maxTerm = max(maxTerm, e.Term)
		case ReadReceived:
			k := key{e.Node, e.Inc, e.Session, e.Seq}
			if _, ok := arrived[k]; !ok {
				arrived[k] = commit
			}
		case ReadServed:
			served++
			if e.Term < maxTerm {
				behind++
			}
			known, ok := arrived[key{e.Node, e.Inc, e.Session, e.Seq}]
			if ok && e.Index < known {
				bad = append(bad, fmt.Sprintf("stale read: %s, but index %d was committed when it arrived (newest term %d)", e, known, maxTerm))
			}
		}
	}
	if len(bad) > 0 {
		return fail(c.Name(), bad)
	}
	return pass(c.Name(), fmt.Sprintf("%d reads served fresh (%d by a server whose term was behind)", served, behind))
}
