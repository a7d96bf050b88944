package raftkv

// Protocol facts a server reports to a harness as they happen, for
// checkers of raft's own invariants (one leader per term, durable votes,
// replicas equal at the same applied index, fresh reads). Observing never
// changes what the server does.

import (
	"github.com/sofasim/sofasim/sim"
)

// ObservationKind names a protocol fact.
type ObservationKind uint8

const (
	// ObsLeader: the server became leader in Term.
	ObsLeader ObservationKind = iota + 1
	// ObsVote: the server sent a vote for Peer in Term (a granted MsgVoteResp).
	ObsVote
	// ObsCommit: the server learned that the log is committed up to Index.
	ObsCommit
	// ObsState: the state machine at applied Index has Digest.
	ObsState
	// ObsReadReceived: a client read (Session, Seq) arrived.
	ObsReadReceived
	// ObsReadServed: a client read (Session, Seq) was answered from the
	// state at applied Index while the server was in Term.
	ObsReadServed
	// ObsAck: the server told the leader of Term that its log holds
	// everything up to Index (a granted MsgAppResp).
	ObsAck
)

// Observation is one protocol fact. Node and Incarnation say who.
type Observation struct {
	Kind        ObservationKind
	Node        sim.NodeID
	Incarnation uint32
	Term        uint64
	Peer        sim.NodeID
	Index       uint64
	Digest      uint64
	Session     uint64
	Seq         uint64
}

// observe reports a fact to the configured observer, if any.
func (s *Server) observe(o Observation) {
	if s.cfg.Observe == nil || s.env == nil {
		return
	}
	o.Node, o.Incarnation = s.cfg.ID, s.env.Incarnation()
	s.cfg.Observe(o)
}

// observeState reports the state machine's digest at the applied index
// when the sampling interval says so (force: always, at restores).
func (s *Server) observeState(force bool) {
	if s.cfg.Observe == nil || s.cfg.DigestEvery == 0 {
		return
	}
	if !force && s.applied%s.cfg.DigestEvery != 0 {
		return
	}
	s.observe(Observation{Kind: ObsState, Index: s.applied, Digest: s.StateDigest()})
}

// StateDigest hashes the replicated state (FNV-1a): the client session
// table, which deduplicates retried writes and is replicated state as much
// as the store is, and the state machine's snapshot. Replicas at the same
// applied index must have equal digests.
func (s *Server) StateDigest() uint64 {
	s.digestBuf = appendSnapPayload(s.digestBuf[:0], s.sessions, s.sm.Snapshot())
	h := uint64(fnvOffset)
	for _, c := range s.digestBuf {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}
