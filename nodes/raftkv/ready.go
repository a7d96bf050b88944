package raftkv

// The Ready loop: raft hands over what to persist, send and apply; the order
// (persist and sync, then send, then apply) is what makes acknowledgements durable.

import (
	"maps"
	"slices"

	"go.etcd.io/raft/v3"
)

// drive runs the Ready loop until raft has nothing more to hand over.
func (s *Server) drive() {
	if s.busy {
		return // re-entered from a callback: the running loop picks it up
	}
	s.busy = true
	for !s.dead && s.rn.HasReady() {
		s.handleReady(s.rn.Ready())
	}
	s.busy = false
}

// handleReady handles one Ready: persist (and sync), only then send, then
// apply, advance, serve reads and snapshot when due.
func (s *Server) handleReady(rd raft.Ready) {
	if rd.SoftState != nil {
		s.softState(rd.SoftState)
	}
	if s.role == raft.StateLeader && rd.HardState != nil && rd.HardState.GetTerm() != s.leaderTerm {
		s.stepDown() // re-elected in a later term between two Readies
		s.leaderTerm = rd.HardState.GetTerm()
	}

	// 1. Persist, and sync, before anything leaves the node.
	hasHS := !raft.IsEmptyHardState(rd.HardState)
	if !raft.IsEmptySnap(rd.Snapshot) {
		if !s.installSnapshot(rd.Snapshot, rd.HardState, rd.Entries) {
			return
		}
	} else if rd.MustSync {
		// New entries, or a new term or vote. A Ready that only moves the
		// commit index writes nothing: a stale commit index on disk is
		// safe (raft learns it again), and it saves a record per Ready.
		if !s.appendWAL(rd.Entries, rd.HardState) {
			return
		}
	}
	if len(rd.Entries) > 0 {
		if err := s.store.Append(rd.Entries); err != nil {
			s.fatal("storage append: " + err.Error())
			return
		}
	}
	if hasHS {
		_ = s.store.SetHardState(rd.HardState)
		s.hs = rd.HardState
		s.observe(Observation{Kind: ObsCommit, Term: rd.HardState.GetTerm(), Index: rd.HardState.GetCommit()})
	}

	// 2. Send.
	for _, m := range rd.Messages {
		s.send(m)
	}

	// 3. Apply.
	if !raft.IsEmptySnap(rd.Snapshot) {
		if s.applied > 1 {
			s.env.Reached("raftkv/snapshot-over-live-data")
		}
		if err := s.restore(rd.Snapshot, false); err != nil {
			s.fatal("restore snapshot: " + err.Error())
			return
		}
		s.installed++
		s.env.Trace("raftkv/installed-snapshot", s.snapIndex)
		s.observeState(true)
	}
	s.apply(rd.CommittedEntries)
	for _, rs := range rd.ReadStates {
		s.readState(rs)
	}
	s.rn.Advance(rd)
	if s.readsStale {
		s.readsStale = false
		s.retryReadRound()
	} else if len(rd.ReadStates) > 0 {
		s.nextReadRound()
	}

	s.serveReads()
	for _, r := range s.snapReports {
		st := raft.SnapshotFinish
		if !r.ok {
			st = raft.SnapshotFailure
		}
		s.rn.ReportSnapshot(r.to, st)
	}
	s.snapReports = s.snapReports[:0]
	s.maybeSnapshot()
}

// softState tracks the leader and this server's role; losing leadership
// answers everything that waited on it.
func (s *Server) softState(ss *raft.SoftState) {
	wasLeader := s.role == raft.StateLeader
	s.lead, s.role = ss.Lead, ss.RaftState
	if s.role == raft.StateLeader && !wasLeader {
		st := s.rn.BasicStatus()
		s.leaderTerm = st.GetTerm()
		s.env.Trace("raftkv/leader", st.GetTerm())
		s.observe(Observation{Kind: ObsLeader, Term: st.GetTerm()})
		if s.env.Incarnation() > 1 {
			s.env.Reached("raftkv/leader-after-restart")
		}
	}
	if wasLeader && s.role != raft.StateLeader {
		if len(s.pending) > 0 {
			s.env.Reached("raftkv/deposed-with-pending-writes")
		}
		s.stepDown()
	}
}

// stepDown answers what was waiting on this server's leadership: pending
// writes and reads without a confirmed read index get NotLeader (the
// client retries elsewhere; a write may still commit, and its retry is
// deduplicated). Reads with a confirmed read index stay: they are still
// linearizable once applied.
func (s *Server) stepDown() {
	hint := s.nodeOf(s.lead)
	for _, id := range slices.Sorted(maps.Keys(s.pending)) {
		p := s.pending[id]
		delete(s.pending, id)
		s.env.Send(p.conn, &Response{Session: id, Seq: p.seq, Code: CodeNotLeader, Leader: hint})
	}
	keep := s.reads[:0]
	for _, r := range s.reads {
		if r.index != 0 {
			s.env.Reached("raftkv/confirmed-read-outlives-leadership")
			keep = append(keep, r)
			continue
		}
		if r.local != nil {
			r.local(nil, ErrNotLeader)
		} else {
			s.env.Send(r.conn, &Response{Session: r.session, Seq: r.seq, Code: CodeNotLeader, Leader: hint})
		}
	}
	clear(s.reads[len(keep):])
	s.reads = keep
	s.readRound = 0
	if len(s.localProps) > 0 {
		for _, id := range slices.Sorted(maps.Keys(s.localProps)) {
			cb := s.localProps[id]
			delete(s.localProps, id)
			cb(nil, ErrUnknown)
		}
	}
}
