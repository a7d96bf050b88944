package raftkv

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/sofasim/sofasim/checkers"
)

// ReadsSeeCommitted: a read a client saw answered reflects every command
// committed before the client invoked it. It judges the boundary between
// raft and the state machine (each query and the last command applied
// before it) and what the client saw (which server answered), so it holds
// the server's read path to account without trusting it to report its own
// reads: a leader answering from local state on a lease it does not hold,
// or a follower answering at all, fails it whenever the cluster had moved
// on, even if the stale value happened to be the current one.
type ReadsSeeCommitted struct{}

func (ReadsSeeCommitted) Name() string { return "reads-see-committed" }

func (c ReadsSeeCommitted) Check(p *Protocol, _ checkers.Options) checkers.Result {
	type at struct {
		t     int64
		index uint64
	}
	type nodeKey struct{ node, key string }
	var commits []at // the newest commit index known anywhere, in time order
	commands := map[uint64]bool{}
	queries := map[nodeKey][]at{}
	var reads []Event
	for _, e := range p.Events {
		switch e.Kind {
		case Commit:
			commits = append(commits, at{e.T, e.Index})
		case Apply:
			commands[e.Index] = true
		case Query:
			k := nodeKey{e.Node, e.Key}
			queries[k] = append(queries[k], at{e.T, e.Index})
		case ClientRead:
			reads = append(reads, e)
		}
	}
	cmds := slices.Sorted(maps.Keys(commands))
	var bad []string
	judged := 0
	for _, r := range reads {
		// committed strictly before the call: an instant shared with it
		// has no order
		n, _ := slices.BinarySearchFunc(commits, r.Call, func(a at, t int64) int { return cmp.Compare(a.t, t) })
		if n == 0 {
			continue
		}
		committed := commits[n-1].index
		// the last command at or below the commit index (the rest are
		// raft's own entries: no-ops and membership changes)
		j, found := slices.BinarySearch(cmds, committed)
		if !found {
			j--
		}
		if j < 0 {
			continue
		}
		need := cmds[j]
		// the freshest query of the key on the answering server while the
		// read was out: the most lenient match
		best, seen := uint64(0), false
		for _, q := range queries[nodeKey{r.Node, r.Key}] {
			if q.t >= r.Call && q.t <= r.T {
				best, seen = max(best, q.index), true
			}
		}
		if !seen {
			continue
		}
		judged++
		if best < need {
			bad = append(bad, fmt.Sprintf("stale read: a read of %q invoked at %v was answered by %s at %v from a state whose last command is %d, but command %d was committed before it was invoked",
				r.Key, time.Duration(r.Call), r.Node, time.Duration(r.T), best, need))
		}
	}
	if len(bad) > 0 {
		return fail(c.Name(), bad)
	}
	return pass(c.Name(), fmt.Sprintf("%d of %d client reads judged: each reflects every command committed before it was invoked", judged, len(reads)))
}
