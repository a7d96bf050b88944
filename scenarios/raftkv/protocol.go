package raftkv

// The protocol recorder: what every raftkv server reports of itself
// (kv.Observation), kept as checkers/raftkv's typed protocol history for the
// checkers of raft's own invariants.

import (
	"github.com/sofasim/sofasim/checkers"
	rkcheck "github.com/sofasim/sofasim/checkers/raftkv"
	kv "github.com/sofasim/sofasim/nodes/raftkv"
	"github.com/sofasim/sofasim/sim"
)

// digestEvery samples the replicas' state machines every this many applied
// indexes (and at every snapshot restore and the run's end).
const digestEvery = 4

var obsKinds = map[kv.ObservationKind]rkcheck.Kind{
	kv.ObsLeader: rkcheck.Leader, kv.ObsVote: rkcheck.Vote, kv.ObsCommit: rkcheck.Commit,
	kv.ObsState: rkcheck.State, kv.ObsReadReceived: rkcheck.ReadReceived, kv.ObsReadServed: rkcheck.ReadServed,
}

// protocol records the servers' observations.
type protocol struct {
	w       *sim.World
	h       rkcheck.Protocol
	term    uint64 // the newest term a leader was elected in
	commit  uint64
	settled bool
}

func (p *protocol) observe(o kv.Observation) {
	switch o.Kind {
	case kv.ObsCommit:
		if o.Index <= p.commit {
			return // only news matters to the checkers; keeps the history small
		}
		p.commit = o.Index
	case kv.ObsLeader:
		p.term = max(p.term, o.Term)
	case kv.ObsReadServed:
		if o.Term < p.term {
			p.w.Reach("raftkv/read-served-by-behind-term")
		}
	}
	p.h.Events = append(p.h.Events, rkcheck.Event{Kind: obsKinds[o.Kind], T: int64(p.w.Now()), Node: string(o.Node),
		Inc: o.Incarnation, Term: o.Term, Peer: string(o.Peer), Index: o.Index, Digest: o.Digest, Session: o.Session, Seq: o.Seq})
}

// settle records every running replica's final state machine, once.
func (p *protocol) settle(members []sim.NodeID) {
	if p.settled {
		return
	}
	p.settled = true
	for _, id := range members {
		srv, ok := p.w.Node(id).(*kv.Server)
		if !ok || !p.w.Up(id) {
			continue
		}
		st := srv.Status()
		if st.Role == "down" {
			continue
		}
		p.h.Events = append(p.h.Events, rkcheck.Event{Kind: rkcheck.State, T: int64(p.w.Now()), Node: string(id),
			Index: st.Applied, Digest: kv.Digest(srv.StateMachine())})
	}
}

// protocolCheck runs a protocol checker as one of the scenario's
// key-value checkers: the protocol history is the system's, not the
// clients'.
type protocolCheck struct {
	c checkers.CheckerOf[*rkcheck.Protocol]
	p *protocol
}

func (c protocolCheck) Name() string { return c.c.Name() }

func (c protocolCheck) Check(_ checkers.History, opts checkers.Options) checkers.Result {
	return c.c.Check(&c.p.h, opts)
}

// protocolCheckers are raft's own invariants.
func (p *protocol) checkers() []checkers.Checker {
	var out []checkers.Checker
	for _, c := range []checkers.CheckerOf[*rkcheck.Protocol]{rkcheck.OneLeaderPerTerm{}, rkcheck.DurableVotes{}, rkcheck.ReplicasAgree{}, rkcheck.FreshReads{}} {
		out = append(out, protocolCheck{c, p})
	}
	return out
}
