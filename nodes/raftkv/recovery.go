package raftkv

// Starting a server: recover the snapshot and WAL from disk (or bootstrap an
// initial member), decide the recovery-time planted bugs, then start raft.

import (
	"fmt"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/sofasim/sofasim/sim"
)

// Start recovers from the disk (or bootstraps) and starts raft.
func (s *Server) Start(env *sim.Env) {
	s.env = env
	s.disk = env.Disk()
	s.sm = s.cfg.NewStateMachine()
	s.sessions = sessionTable{}
	s.pending = map[uint64]pendingWrite{}
	s.localProps = map[uint64]func([]byte, error){}
	s.peerConns = make([]sim.ConnID, len(s.ids))
	s.peerInc = make([]uint32, len(s.ids))
	s.store = raft.NewMemoryStorage()
	s.confState = &raftpb.ConfState{}

	rec, err := recoverDisk(s.disk)
	if err != nil {
		s.fatal("recovery: " + err.Error())
		return
	}
	if rec.empty && s.initial {
		if !s.bootstrap(&rec) {
			return
		}
	} else if !rec.empty {
		s.reachedAtRecovery(&rec)
		s.planBugs(&rec)
	}
	if rec.snap != nil {
		if err := s.store.ApplySnapshot(rec.snap); err != nil {
			s.fatal("recovery: " + err.Error())
			return
		}
		if err := s.restore(rec.snap, s.noSessionsUpTo > 0); err != nil {
			s.fatal("recovery: " + err.Error())
			return
		}
		if len(s.replay) > 0 {
			s.replayMargin(s.replay)
			s.replay = nil
		}
		s.observeState(true)
	}
	if err := s.store.Append(rec.entries); err != nil {
		s.fatal("recovery: " + err.Error())
		return
	}
	if rec.hs != nil {
		if err := s.store.SetHardState(rec.hs); err != nil {
			s.fatal("recovery: " + err.Error())
			return
		}
		s.hs = rec.hs
	}
	if !rec.walOK {
		// No usable WAL (a spare's first start, or a crash between
		// writing the snapshot and the WAL): start one at the snapshot.
		var base, term uint64
		if rec.snap != nil {
			base, term = rec.snap.GetMetadata().GetIndex(), rec.snap.GetMetadata().GetTerm()
		}
		if !s.rewriteWAL(base, term, s.hs, rec.entries) {
			return
		}
	}
	rn, err := raft.NewRawNode(&raft.Config{
		ID:                        s.raftID,
		ElectionTick:              s.cfg.ElectionTick,
		HeartbeatTick:             s.cfg.HeartbeatTick,
		Storage:                   s.store,
		Applied:                   s.applied,
		MaxSizePerMsg:             s.cfg.MaxSizePerMsg,
		MaxInflightMsgs:           s.cfg.MaxInflightMsgs,
		MaxUncommittedEntriesSize: 64 << 20,
		CheckQuorum:               true,
		PreVote:                   true,
		ReadOnlyOption:            raft.ReadOnlySafe,
		StepDownOnRemoval:         true,
		Logger:                    silentLogger{},
	})
	if err != nil {
		s.fatal("raft: " + err.Error())
		return
	}
	s.rn = rn
	if !rec.empty || s.initial {
		env.Trace("raftkv/recovered", s.snapIndex, uint64(len(rec.entries)), s.hs.GetTerm(), s.hs.GetCommit(), uint64(rec.truncated))
	}
	env.SetTimer(s.cfg.TickInterval, tagTick)
	s.drive()
}

// bootstrap writes the initial state of an initial member: a snapshot at
// index 1, term 1 with the initial voters and an empty state machine, and a
// WAL based on it. A member added later receives a snapshot instead.
func (s *Server) bootstrap(rec *recovered) bool {
	voters := make([]uint64, len(s.cfg.Peers))
	for i := range voters {
		voters[i] = uint64(i + 1)
	}
	snap := &raftpb.Snapshot{
		Data: encodeSnapPayload(sessionTable{}, s.sm.Snapshot()),
		Metadata: &raftpb.SnapshotMetadata{
			ConfState: raftpb.EnsureConfState(&raftpb.ConfState{Voters: voters}),
			Index:     new(uint64(1)),
			Term:      new(uint64(1)),
		},
	}
	if !s.saveSnapshotFile(snap) {
		return false
	}
	hs := &raftpb.HardState{Term: new(uint64(1)), Vote: new(uint64(0)), Commit: new(uint64(1))}
	if !s.rewriteWAL(1, 1, hs, nil) {
		return false
	}
	rec.snap, rec.hs, rec.walOK = snap, hs, true
	return true
}

// reachedAtRecovery marks the recovery states the planted bugs and their
// real counterparts need: a WAL margin behind the snapshot (double apply),
// client writes to replay (lost dedup), a torn tail cut off.
func (s *Server) reachedAtRecovery(rec *recovered) {
	s.env.Reached("raftkv/restart-from-disk")
	if len(rec.margin) > 0 {
		s.env.Reached("raftkv/restart-with-wal-margin")
	}
	if rec.truncated > 0 {
		s.env.Reached("raftkv/restart-with-torn-wal")
	}
	for _, e := range rec.entries {
		if len(e.GetData()) == 0 {
			continue
		}
		if d, err := decodeCmd(e.GetData()); err == nil && d.kind == cmdClient {
			s.env.Reached("raftkv/restart-replays-client-writes")
			break
		}
	}
}

// planBugs evaluates the recovery-time planted bugs once per recovery.
func (s *Server) planBugs(rec *recovered) {
	if _, ok := s.env.Failpoint(BugDedupLostOnRestart); ok {
		// The session table is treated as soft state: not restored from
		// the snapshot, and not rebuilt from the log found on disk, which
		// is replayed bypassing it.
		last := uint64(len(rec.entries))
		if rec.snap != nil {
			last += rec.snap.GetMetadata().GetIndex()
		} else if len(rec.entries) > 0 {
			last = rec.entries[len(rec.entries)-1].GetIndex()
		}
		s.noSessionsUpTo = max(last, 1)
		s.env.Trace("raftkv/bug", BugDedupLostOnRestart, s.noSessionsUpTo)
	}
	if len(rec.margin) > 0 {
		if _, ok := s.env.Failpoint(BugDoubleApplyAfterSnapshot); ok {
			s.env.Trace("raftkv/bug", BugDoubleApplyAfterSnapshot, uint64(len(rec.margin)))
			s.replay = rec.margin
		}
	}
}

// restore installs a snapshot's payload into the session table and the
// state machine. With dropSessions (the dedup-lost bug) the snapshot's
// session table is ignored.
func (s *Server) restore(snap *raftpb.Snapshot, dropSessions bool) error {
	sessions, data, err := decodeSnapPayload(snap.GetData())
	if err != nil {
		return err
	}
	sm := s.cfg.NewStateMachine()
	if err := sm.Restore(data); err != nil {
		return err
	}
	if dropSessions {
		sessions = sessionTable{}
	}
	s.sm, s.sessions = sm, sessions
	md := snap.GetMetadata()
	s.applied, s.snapIndex = md.GetIndex(), md.GetIndex()
	s.confState = proto.Clone(raftpb.EnsureConfState(md.GetConfState())).(*raftpb.ConfState)
	return nil
}

// replayMargin is the double-apply bug: entries the restored snapshot
// already contains are applied to the state machine again, straight (the
// recovery code assumes they are newer than the snapshot).
func (s *Server) replayMargin(ents []*raftpb.Entry) {
	for _, e := range ents {
		if e.GetType() != raftpb.EntryNormal || len(e.GetData()) == 0 {
			continue
		}
		if d, err := decodeCmd(e.GetData()); err == nil {
			s.sm.Apply(e.GetIndex(), d.cmd)
		}
	}
}

// DiskAgrees reports whether the server's disk, as a crash now would leave
// it, recovers to what the server holds: its last log index, term and vote
// (everything raft has acted on is synced), and with commit its commit
// index too (right after a start, when it holds what it recovered). For
// checkers: a recovery that damages the WAL it repairs fails here at once.
func (s *Server) DiskAgrees(commit bool) error {
	if s.dead || s.rn == nil {
		return nil
	}
	rec, err := recoverImage(s.disk)
	if err != nil {
		return err
	}
	var last uint64
	if rec.snap != nil {
		last = rec.snap.GetMetadata().GetIndex()
	}
	last += uint64(rec.count)
	hs := rec.hs
	if hs == nil {
		hs = &raftpb.HardState{Term: new(uint64(0)), Vote: new(uint64(0)), Commit: new(uint64(0))}
	}
	mem, _ := s.store.LastIndex()
	memCommit, diskCommit := uint64(0), uint64(0)
	if commit {
		memCommit, diskCommit = s.hs.GetCommit(), hs.GetCommit()
	}
	if last != mem || hs.GetTerm() != s.hs.GetTerm() || hs.GetVote() != s.hs.GetVote() || memCommit != diskCommit {
		return fmt.Errorf("raftkv: the disk recovers to last index %d, term %d, vote %d, commit %d; the server holds %d, %d, %d, %d",
			last, hs.GetTerm(), hs.GetVote(), hs.GetCommit(), mem, s.hs.GetTerm(), s.hs.GetVote(), s.hs.GetCommit())
	}
	return nil
}
