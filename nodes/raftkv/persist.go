package raftkv

// The server's writes to disk: WAL appends and rewrites, snapshot files, and
// compaction. The formats themselves are in storage.go.

import (
	"math"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// appendWAL appends a Ready's entries and hard state with one write and
// syncs, before the Ready's messages are sent.
func (s *Server) appendWAL(ents []*raftpb.Entry, hs *raftpb.HardState) bool {
	buf := s.walBuf[:0]
	for _, e := range ents {
		buf = appendEntryRecord(buf, e)
	}
	if !raft.IsEmptyHardState(hs) {
		buf = appendHardStateRecord(buf, hs)
	}
	s.walBuf = buf
	if _, err := s.disk.Append(walFile, buf); err != nil {
		s.fatal("wal write: " + err.Error())
		return false
	}
	if _, ok := s.env.Failpoint(BugAckBeforeSync); ok {
		return true // the planted bug: acknowledge what is only in the page cache
	}
	if err := s.disk.Sync(walFile); err != nil {
		s.fatal("wal sync: " + err.Error())
		return false
	}
	return true
}

// rewriteWAL replaces the WAL with one based at (base, term) holding hs and
// ents, atomically and durably.
func (s *Server) rewriteWAL(base, term uint64, hs *raftpb.HardState, ents []*raftpb.Entry) bool {
	buf := appendHeaderRecord(s.walBuf[:0], base, term)
	if !raft.IsEmptyHardState(hs) {
		buf = appendHardStateRecord(buf, hs)
	}
	for _, e := range ents {
		buf = appendEntryRecord(buf, e)
	}
	s.walBuf = buf
	if err := writeFileAtomic(s.disk, walTmpFile, walFile, buf); err != nil {
		s.fatal("wal rewrite: " + err.Error())
		return false
	}
	return true
}

// saveSnapshotFile writes the snapshot file atomically (temporary file,
// sync, rename): it is always durable before any WAL that relies on it.
func (s *Server) saveSnapshotFile(snap *raftpb.Snapshot) bool {
	b, err := encodeSnapshotFile(snap)
	if err == nil {
		err = writeFileAtomic(s.disk, snapTmpFile, snapFile, b)
	}
	if err != nil {
		s.fatal("snapshot write: " + err.Error())
		return false
	}
	return true
}

// installSnapshot persists a snapshot received from the leader: the
// snapshot file first, then a WAL that starts at it.
func (s *Server) installSnapshot(snap *raftpb.Snapshot, hs *raftpb.HardState, ents []*raftpb.Entry) bool {
	if !s.saveSnapshotFile(snap) {
		return false
	}
	if raft.IsEmptyHardState(hs) {
		hs = s.hs
	}
	md := snap.GetMetadata()
	if !s.rewriteWAL(md.GetIndex(), md.GetTerm(), hs, ents) {
		return false
	}
	if err := s.store.ApplySnapshot(snap); err != nil {
		s.fatal("storage snapshot: " + err.Error())
		return false
	}
	return true
}

// maybeSnapshot takes a snapshot every SnapshotEvery applied entries and
// after membership changes, then compacts the log and the WAL.
func (s *Server) maybeSnapshot() {
	if s.dead || s.applied <= s.snapIndex {
		s.confDirty = false
		return
	}
	if s.applied-s.snapIndex < s.cfg.SnapshotEvery && !s.confDirty {
		return
	}
	s.confDirty = false
	data := encodeSnapPayload(s.sessions, s.sm.Snapshot())
	snap, err := s.store.CreateSnapshot(s.applied, s.confState, data)
	if err != nil {
		return // out of date: a newer snapshot was installed
	}
	if !s.saveSnapshotFile(snap) {
		return
	}
	s.snapIndex = s.applied
	if s.applied > s.cfg.CatchUpEntries {
		compact := s.applied - s.cfg.CatchUpEntries
		if first, _ := s.store.FirstIndex(); compact >= first {
			_ = s.store.Compact(compact)
		}
	}
	first, _ := s.store.FirstIndex()
	last, _ := s.store.LastIndex()
	baseTerm, _ := s.store.Term(first - 1)
	var ents []*raftpb.Entry
	if last >= first {
		ents, _ = s.store.Entries(first, last+1, math.MaxUint64)
	}
	if !s.rewriteWAL(first-1, baseTerm, s.hs, ents) {
		return
	}
	s.env.Trace("raftkv/snapshot", s.snapIndex, first-1)
}
