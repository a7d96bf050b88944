package raftkv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/sofasim/sofasim/sim"
)

// ServerConfig configures one member. Every server of a cluster (and every
// client) must be given the same Peers and Spares, in the same order: they
// define the stable map between node names and raft ids.
type ServerConfig struct {
	// ID is this server's node name; it must appear in Peers or Spares.
	ID sim.NodeID
	// Peers are the initial members, in order: raft ids 1..len(Peers).
	Peers []sim.NodeID
	// Spares are servers that may be added later, in order: raft ids
	// len(Peers)+1, ... A spare starts with an empty disk and waits to be
	// added. Raft ids are never reused: a removed member must not be added
	// back with its old disk.
	Spares []sim.NodeID
	// NewStateMachine builds the replicated state machine (empty). It is
	// called on every start; recovery fills it from the snapshot and log.
	// Nil means the KV store.
	NewStateMachine func() StateMachine
	// SnapshotEvery is the number of applied entries between snapshots
	// (default 1000). A snapshot is also taken after every membership
	// change, so that a new member can be sent one that includes it.
	SnapshotEvery uint64
	// CatchUpEntries is the number of entries kept in the log behind a
	// snapshot, for followers that lag a little (default 100); followers
	// further behind are sent the snapshot.
	CatchUpEntries uint64
	// TickInterval is the raft tick (default 10ms).
	TickInterval time.Duration
	// ElectionTick and HeartbeatTick are in ticks (defaults 10 and 1).
	ElectionTick, HeartbeatTick int
	// MaxSizePerMsg bounds the entries in one append message (default 1 MiB).
	MaxSizePerMsg uint64
	// MaxInflightMsgs bounds pipelined append messages per follower
	// (default 256).
	MaxInflightMsgs int
}

func (c *ServerConfig) defaults() {
	if c.NewStateMachine == nil {
		c.NewStateMachine = NewKVStateMachine
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = 1000
	}
	if c.CatchUpEntries == 0 {
		c.CatchUpEntries = 100
	}
	if c.TickInterval <= 0 {
		c.TickInterval = 10 * time.Millisecond
	}
	if c.ElectionTick <= 0 {
		c.ElectionTick = 10
	}
	if c.HeartbeatTick <= 0 {
		c.HeartbeatTick = 1
	}
	if c.MaxSizePerMsg == 0 {
		c.MaxSizePerMsg = 1 << 20
	}
	if c.MaxInflightMsgs <= 0 {
		c.MaxInflightMsgs = 256
	}
}

// Members returns every server name in raft id order (Peers, then Spares).
func (c *ServerConfig) Members() []sim.NodeID {
	return append(append([]sim.NodeID(nil), c.Peers...), c.Spares...)
}

// AddServers adds every server of the config (Peers and Spares) to the
// world, each with cfg.ID set to its own name.
func AddServers(w *sim.World, cfg ServerConfig) {
	for _, id := range cfg.Members() {
		c := cfg
		c.ID = id
		w.AddNode(id, func() sim.Node { return NewServer(c) })
	}
}

// Errors of the server's local API and of clients.
var (
	// ErrNotLeader: the server is not the leader; nothing was proposed.
	ErrNotLeader = errors.New("raftkv: not the leader")
	// ErrUnknown: the outcome of a local proposal is unknown (leadership
	// was lost before it applied); it may still be applied.
	ErrUnknown = errors.New("raftkv: outcome unknown")
)

// Server is one raftkv member: a sim.Node driving a raft RawNode. Every
// input (message, tick, proposal) is handled synchronously, followed by
// the Ready loop: persist entries and hard state to the WAL and sync,
// only then send messages; apply committed entries; answer reads whose
// ReadIndex is applied; advance; snapshot and compact when due.
//
// A node that wraps a Server (to add its own messages) forwards the
// sim.Node methods; Message and Timer ignore what is not raftkv's.
type Server struct {
	cfg     ServerConfig
	ids     []sim.NodeID // raft id - 1 -> node name
	raftID  uint64
	initial bool

	env   *sim.Env
	disk  *sim.Disk
	rn    *raft.RawNode
	store *raft.MemoryStorage
	dead  bool
	busy  bool // inside the Ready loop

	sm        StateMachine
	sessions  sessionTable
	applied   uint64
	snapIndex uint64
	installed uint64
	confState *raftpb.ConfState
	confDirty bool
	hs        *raftpb.HardState // the latest (the WAL may hold an older commit index)

	lead       uint64
	role       raft.StateType
	leaderTerm uint64

	peerConns   []sim.ConnID // raft id - 1 -> our dialed connection
	peerInc     []uint32     // raft id - 1 -> the incarnation it reaches (0: not known yet)
	snapReports []snapReport
	walBuf      []byte

	pending    map[uint64]pendingWrite // by client session
	reads      []pendingRead
	readRound  uint64 // the ReadIndex round in flight, 0: none
	roundTicks int    // ticks the round has been in flight
	readsStale bool   // the membership changed under the round in flight
	nextRound  uint64
	localProps map[uint64]func([]byte, error)
	nextLocal  uint64

	// planted bugs, decided at recovery
	noSessionsUpTo uint64          // dedup-lost-on-restart: entries up to here bypass sessions
	replay         []*raftpb.Entry // double-apply-after-snapshot: entries to apply again
}

type pendingWrite struct {
	seq  uint64
	conn sim.ConnID
}

type pendingRead struct {
	round   uint64 // the ReadIndex round it waits on, 0: the next one
	index   uint64 // 0 until raft confirms the read index
	conn    sim.ConnID
	session uint64
	seq     uint64
	query   []byte
	local   func([]byte, error)
}

type snapReport struct {
	to uint64
	ok bool
}

type timerTag uint8

const tagTick timerTag = 1

// adminTask is a harness request queued through a zero-delay timer so that
// it runs as a node event.
type adminTask struct{ op AdminOp }

// Validate checks the config: a known ID, at least one initial member, no
// name listed twice.
func (c *ServerConfig) Validate() error {
	if len(c.Peers) == 0 {
		return errors.New("raftkv: no initial members")
	}
	seen := map[sim.NodeID]bool{}
	found := false
	for _, id := range c.Members() {
		if id == "" || seen[id] {
			return fmt.Errorf("raftkv: member %q empty or listed twice", id)
		}
		seen[id] = true
		found = found || id == c.ID
	}
	if !found {
		return fmt.Errorf("raftkv: server %q is in neither Peers nor Spares", c.ID)
	}
	return nil
}

// NewServer returns a server for the world to start (a sim.Node). It panics
// on an invalid config, a harness error (see Validate).
func NewServer(cfg ServerConfig) *Server {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	cfg.defaults()
	s := &Server{cfg: cfg, ids: cfg.Members()}
	for i, id := range s.ids {
		if id == cfg.ID {
			s.raftID = uint64(i + 1)
			s.initial = i < len(cfg.Peers)
		}
	}
	return s
}

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

func (s *Server) fatal(reason string) {
	if s.dead {
		return
	}
	s.dead = true
	s.env.Trace("raftkv/fatal", reason)
	s.env.Exit(reason)
}

// Connected answers a peer server's dial with a Hello, so that the dialer
// learns which incarnation its connection reaches.
func (s *Server) Connected(conn sim.ConnID, peer sim.NodeID) {
	if s.dead || s.rn == nil || s.raftIDOf(peer) == 0 {
		return
	}
	for _, c := range s.peerConns {
		if c == conn {
			return // our own dial
		}
	}
	s.env.Send(conn, &Hello{Incarnation: s.env.Incarnation()})
}

// onHello tracks peer incarnations: a connection of ours that reaches an
// older incarnation than the one now talking to us is stale (the peer
// restarted; the kernel tells us only after up to a keepalive timeout), so
// it is closed and redialled on the next send.
func (s *Server) onHello(conn sim.ConnID, from sim.NodeID, h *Hello) {
	id := s.raftIDOf(from)
	if id == 0 {
		return
	}
	i := id - 1
	if conn == s.peerConns[i] {
		s.peerInc[i] = h.Incarnation
		return
	}
	if s.peerConns[i] != 0 && s.peerInc[i] != 0 && s.peerInc[i] < h.Incarnation {
		s.env.Close(s.peerConns[i])
		s.peerConns[i], s.peerInc[i] = 0, 0
		s.rn.ReportUnreachable(id)
	}
}

// Datagram is part of sim.Node; raftkv uses none.
func (s *Server) Datagram(sim.NodeID, any) {}

// Message steps a raft message or serves a client request.
func (s *Server) Message(conn sim.ConnID, from sim.NodeID, msg any) {
	if s.dead || s.rn == nil {
		return
	}
	switch m := msg.(type) {
	case RaftMessage:
		if m.Msg.GetTo() != s.raftID {
			return
		}
		_ = s.rn.Step(m.Msg) // errors: a response from a peer no longer in the config
	case *Request:
		s.onRequest(conn, m)
	case *Hello:
		s.onHello(conn, from, m)
	default:
		return
	}
	s.drive()
}

// Closed forgets a broken peer connection (it is redialled on the next
// send) and tells raft the peer is unreachable.
func (s *Server) Closed(conn sim.ConnID, _ sim.NodeID) {
	if s.dead || s.rn == nil {
		return
	}
	for i, c := range s.peerConns {
		if c == conn {
			s.peerConns[i], s.peerInc[i] = 0, 0
			s.rn.ReportUnreachable(uint64(i + 1))
			s.drive()
			return
		}
	}
}

// Timer ticks raft or runs a queued admin task.
func (s *Server) Timer(_ sim.TimerID, tag any) {
	if s.dead || s.rn == nil {
		return
	}
	switch t := tag.(type) {
	case timerTag:
		if t != tagTick {
			return
		}
		s.rn.Tick()
		s.env.SetTimer(s.cfg.TickInterval, tagTick)
		if s.readRound != 0 {
			if s.roundTicks++; s.roundTicks > s.cfg.ElectionTick {
				s.retryReadRound()
			}
		}
	case *adminTask:
		if s.role == raft.StateLeader {
			s.admin(t.op, nil)
		}
	default:
		return
	}
	s.drive()
}

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
	}

	// 2. Send.
	for _, m := range rd.Messages {
		s.send(m)
	}

	// 3. Apply.
	if !raft.IsEmptySnap(rd.Snapshot) {
		if err := s.restore(rd.Snapshot, false); err != nil {
			s.fatal("restore snapshot: " + err.Error())
			return
		}
		s.installed++
		s.env.Trace("raftkv/installed-snapshot", s.snapIndex)
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

func (s *Server) softState(ss *raft.SoftState) {
	wasLeader := s.role == raft.StateLeader
	s.lead, s.role = ss.Lead, ss.RaftState
	if s.role == raft.StateLeader && !wasLeader {
		st := s.rn.BasicStatus()
		s.leaderTerm = st.GetTerm()
		s.env.Trace("raftkv/leader", st.GetTerm())
	}
	if wasLeader && s.role != raft.StateLeader {
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

func (s *Server) send(m *raftpb.Message) {
	to := m.GetTo()
	if to == 0 || to > uint64(len(s.ids)) {
		return
	}
	i := to - 1
	c := s.peerConns[i]
	if c == 0 {
		c = s.env.Dial(s.ids[i])
		s.peerConns[i], s.peerInc[i] = c, 0
		s.env.Send(c, &Hello{Incarnation: s.env.Incarnation()})
	}
	ok := s.env.Send(c, RaftMessage{Msg: m})
	if !ok {
		s.peerConns[i], s.peerInc[i] = 0, 0
	}
	if m.GetType() == raftpb.MsgSnap {
		s.snapReports = append(s.snapReports, snapReport{to: to, ok: ok})
	}
}

// apply applies committed entries in order.
func (s *Server) apply(ents []*raftpb.Entry) {
	for _, e := range ents {
		idx := e.GetIndex()
		if idx <= s.applied {
			continue
		}
		switch e.GetType() {
		case raftpb.EntryNormal:
			if len(e.GetData()) > 0 {
				s.applyCommand(idx, e.GetData())
			}
		case raftpb.EntryConfChange:
			var cc raftpb.ConfChange
			if err := proto.Unmarshal(e.GetData(), &cc); err != nil {
				s.fatal("bad conf change entry: " + err.Error())
				return
			}
			s.applyConfChange(&cc, cc.GetContext())
		case raftpb.EntryConfChangeV2:
			var cc raftpb.ConfChangeV2
			if err := proto.Unmarshal(e.GetData(), &cc); err != nil {
				s.fatal("bad conf change entry: " + err.Error())
				return
			}
			s.applyConfChange(&cc, cc.GetContext())
		}
		s.applied = idx
	}
}

func (s *Server) applyCommand(idx uint64, data []byte) {
	d, err := decodeCmd(data)
	if err != nil {
		s.env.Trace("raftkv/bad-entry", idx)
		return
	}
	switch d.kind {
	case cmdClient:
		var resp []byte
		if idx <= s.noSessionsUpTo {
			resp = s.sm.Apply(idx, d.cmd) // the dedup-lost bug: replay bypasses the sessions
		} else {
			sess := s.sessions[d.session]
			switch {
			case sess != nil && d.seq < sess.seq:
				return // an old retry: its client has moved on
			case sess != nil && d.seq == sess.seq:
				resp = sess.resp // a retry that committed twice: applied once
			default:
				resp = s.sm.Apply(idx, d.cmd)
				if sess == nil {
					sess = &session{}
					s.sessions[d.session] = sess
				}
				sess.seq, sess.resp = d.seq, resp
			}
		}
		if p, ok := s.pending[d.session]; ok && p.seq == d.seq {
			delete(s.pending, d.session)
			s.env.Send(p.conn, &Response{Session: d.session, Seq: d.seq, Code: CodeOK, Data: resp})
		}
	case cmdLocal:
		resp := s.sm.Apply(idx, d.cmd)
		if d.origin == s.raftID && d.inc == uint64(s.env.Incarnation()) {
			if cb := s.localProps[d.id]; cb != nil {
				delete(s.localProps, d.id)
				cb(resp, nil)
			}
		}
	}
}

func (s *Server) applyConfChange(cc raftpb.ConfChangeI, ctx []byte) {
	s.confState = s.rn.ApplyConfChange(cc)
	s.confDirty = true
	s.readsStale = s.readRound != 0
	for _, c := range cc.AsV2().GetChanges() {
		s.env.Trace("raftkv/conf-change", c.GetType().String(), s.nodeOf(c.GetNodeId()))
	}
	if len(ctx) == 16 {
		session, seq := binary.LittleEndian.Uint64(ctx), binary.LittleEndian.Uint64(ctx[8:])
		if p, ok := s.pending[session]; ok && p.seq == seq {
			delete(s.pending, session)
			s.env.Send(p.conn, &Response{Session: session, Seq: seq, Code: CodeOK})
		}
	}
}

// retryReadRound abandons the round in flight and starts another for its
// reads. Raft keeps a ReadIndex request pending until a quorum of the
// current config acks a heartbeat carrying it; a request made before a
// membership change can wait forever (after shrinking to one voter, no
// heartbeat responses come at all), so rounds are retried after a
// membership change and after an election timeout.
func (s *Server) retryReadRound() {
	if s.readRound == 0 {
		return
	}
	for i := range s.reads {
		if s.reads[i].round == s.readRound && s.reads[i].index == 0 {
			s.reads[i].round = 0
		}
	}
	s.readRound = 0
	s.nextReadRound()
}

// readState records the read index confirmed for a round of reads.
func (s *Server) readState(rs raft.ReadState) {
	if len(rs.RequestCtx) != 8 {
		return
	}
	round := binary.LittleEndian.Uint64(rs.RequestCtx)
	for i := range s.reads {
		if s.reads[i].round == round {
			s.reads[i].index = max(rs.Index, 1)
		}
	}
	if round == s.readRound {
		s.readRound = 0
	}
}

// serveReads answers the reads whose read index has been applied, in
// arrival order.
func (s *Server) serveReads() {
	if len(s.reads) == 0 {
		return
	}
	keep := s.reads[:0]
	for _, r := range s.reads {
		if r.index == 0 || r.index > s.applied {
			keep = append(keep, r)
			continue
		}
		resp := s.sm.Query(r.query)
		if r.local != nil {
			r.local(resp, nil)
		} else {
			s.env.Send(r.conn, &Response{Session: r.session, Seq: r.seq, Code: CodeOK, Data: resp})
		}
	}
	clear(s.reads[len(keep):])
	s.reads = keep
}

// startRead queues a read. Reads are confirmed in rounds, one ReadIndex
// (one heartbeat round) at a time: reads that arrive while a round is in
// flight wait for the next one, which starts after they arrived, as
// etcd's linearizable read loop does.
func (s *Server) startRead(r pendingRead) {
	s.reads = append(s.reads, r)
	s.nextReadRound()
}

// nextReadRound starts a ReadIndex round for the waiting reads, unless one
// is in flight.
func (s *Server) nextReadRound() {
	if s.readRound != 0 || s.role != raft.StateLeader {
		return
	}
	var round uint64
	for i := range s.reads {
		if s.reads[i].round == 0 {
			if round == 0 {
				s.nextRound++
				round = uint64(s.env.Incarnation())<<40 | s.nextRound
			}
			s.reads[i].round = round
		}
	}
	if round == 0 {
		return
	}
	s.readRound, s.roundTicks = round, 0
	var ctx [8]byte
	binary.LittleEndian.PutUint64(ctx[:], round)
	s.rn.ReadIndex(ctx[:])
}

func (s *Server) onRequest(conn sim.ConnID, req *Request) {
	reply := func(st Code, data []byte) {
		s.env.Send(conn, &Response{Session: req.Session, Seq: req.Seq, Code: st, Leader: s.nodeOf(s.lead), Data: data})
	}
	switch req.Kind {
	case ReqRead:
		if _, ok := s.env.Failpoint(BugStaleRead); ok {
			reply(CodeOK, s.sm.Query(req.Data)) // the planted bug: no ReadIndex
			return
		}
		if s.role != raft.StateLeader {
			reply(CodeNotLeader, nil)
			return
		}
		s.startRead(pendingRead{conn: conn, session: req.Session, seq: req.Seq, query: req.Data})
	case ReqWrite:
		if s.role != raft.StateLeader {
			reply(CodeNotLeader, nil)
			return
		}
		if sess := s.sessions[req.Session]; sess != nil && req.Seq <= sess.seq {
			if req.Seq == sess.seq {
				reply(CodeOK, sess.resp) // applied already: answer from the session
			}
			return
		}
		if p, ok := s.pending[req.Session]; ok && p.seq == req.Seq {
			s.pending[req.Session] = pendingWrite{seq: req.Seq, conn: conn} // in our log this term
			return
		}
		if err := s.rn.Propose(encodeClientCmd(req.Session, req.Seq, req.Data)); err != nil {
			reply(CodeNotLeader, nil) // dropped: leadership transfer, or too much uncommitted
			return
		}
		s.pending[req.Session] = pendingWrite{seq: req.Seq, conn: conn}
	case ReqAdmin:
		if s.role != raft.StateLeader {
			reply(CodeNotLeader, nil)
			return
		}
		var ctx [16]byte
		binary.LittleEndian.PutUint64(ctx[:], req.Session)
		binary.LittleEndian.PutUint64(ctx[8:], req.Seq)
		st, why := s.admin(req.Admin, ctx[:])
		switch st {
		case CodeOK:
			if why == "pending" {
				s.pending[req.Session] = pendingWrite{seq: req.Seq, conn: conn}
				return
			}
			reply(CodeOK, nil)
		default:
			reply(st, []byte(why))
		}
	}
}

// admin runs an administrative operation on the leader. It returns
// CodeOK with why "pending" when a conf change was proposed (answered
// when it applies), CodeOK when done, or a refusal.
func (s *Server) admin(op AdminOp, ctx []byte) (Code, string) {
	target := s.raftIDOf(op.Target)
	if target == 0 {
		return CodeRejected, fmt.Sprintf("unknown node %q", op.Target)
	}
	voter := s.isVoter(target)
	switch op.Kind {
	case AdminTransferLeader:
		if !voter {
			return CodeRejected, fmt.Sprintf("%s is not a member", op.Target)
		}
		if target != s.raftID {
			s.rn.TransferLeader(target)
		}
		return CodeOK, ""
	case AdminAddMember, AdminRemoveMember:
		typ := raftpb.ConfChangeAddNode
		if op.Kind == AdminRemoveMember {
			typ = raftpb.ConfChangeRemoveNode
			if !voter {
				return CodeOK, ""
			}
			if len(s.confState.GetVoters()) <= 1 {
				return CodeRejected, "cannot remove the last member"
			}
		} else if voter {
			return CodeOK, ""
		}
		cc := &raftpb.ConfChange{Type: typ.Enum(), NodeId: new(target), Context: ctx}
		if err := s.rn.ProposeConfChange(cc); err != nil {
			return CodeNotLeader, ""
		}
		return CodeOK, "pending"
	}
	return CodeRejected, "unknown admin operation"
}

func (s *Server) isVoter(id uint64) bool {
	for _, v := range s.confState.GetVoters() {
		if v == id {
			return true
		}
	}
	return false
}

func (s *Server) nodeOf(id uint64) sim.NodeID {
	if id == 0 || id > uint64(len(s.ids)) {
		return ""
	}
	return s.ids[id-1]
}

func (s *Server) raftIDOf(n sim.NodeID) uint64 {
	for i, id := range s.ids {
		if id == n {
			return uint64(i + 1)
		}
	}
	return 0
}

// Status is a server's view of the cluster, for nemeses, harnesses and
// tests.
type Status struct {
	ID            sim.NodeID   `json:"id"`
	RaftID        uint64       `json:"raft_id"`
	Term          uint64       `json:"term"`
	Vote          sim.NodeID   `json:"vote,omitempty"`
	Lead          sim.NodeID   `json:"lead,omitempty"`
	Role          string       `json:"role"` // leader, follower, candidate, pre-candidate; "down" before start or after a fatal error
	Applied       uint64       `json:"applied"`
	Commit        uint64       `json:"commit"`
	SnapshotIndex uint64       `json:"snapshot_index"`
	FirstIndex    uint64       `json:"first_index"`
	LastIndex     uint64       `json:"last_index"`
	Members       []sim.NodeID `json:"members"`
	// InstalledSnapshots counts snapshots received from a leader by this
	// incarnation.
	InstalledSnapshots uint64 `json:"installed_snapshots"`
}

// Status reports the server's state.
func (s *Server) Status() Status {
	st := Status{ID: s.cfg.ID, RaftID: s.raftID, Role: "down"}
	if s.rn == nil || s.dead {
		return st
	}
	bs := s.rn.BasicStatus()
	st.Term, st.Vote, st.Commit = bs.GetTerm(), s.nodeOf(bs.GetVote()), bs.GetCommit()
	st.Lead = s.nodeOf(bs.Lead)
	st.Role = roleName(bs.RaftState)
	st.Applied, st.SnapshotIndex = s.applied, s.snapIndex
	st.InstalledSnapshots = s.installed
	st.FirstIndex, _ = s.store.FirstIndex()
	st.LastIndex, _ = s.store.LastIndex()
	for _, v := range s.confState.GetVoters() {
		st.Members = append(st.Members, s.nodeOf(v))
	}
	return st
}

func roleName(r raft.StateType) string {
	switch r {
	case raft.StateLeader:
		return "leader"
	case raft.StateFollower:
		return "follower"
	case raft.StateCandidate:
		return "candidate"
	case raft.StatePreCandidate:
		return "pre-candidate"
	}
	return "unknown"
}

// IsLeader reports whether the server believes it leads.
func (s *Server) IsLeader() bool { return !s.dead && s.rn != nil && s.role == raft.StateLeader }

// StateMachine returns the live state machine, for tests and checkers to
// inspect (never to modify).
func (s *Server) StateMachine() StateMachine { return s.sm }

// TransferLeader asks this server, which must be the leader, to hand
// leadership to the named member. It is queued as a node event; watch
// Status for the result.
func (s *Server) TransferLeader(to sim.NodeID) error {
	return s.queueAdmin(AdminOp{Kind: AdminTransferLeader, Target: to})
}

// AddMember asks this server, which must be the leader, to add a spare
// server as a voting member. It is queued as a node event.
func (s *Server) AddMember(id sim.NodeID) error {
	return s.queueAdmin(AdminOp{Kind: AdminAddMember, Target: id})
}

// RemoveMember asks this server, which must be the leader, to remove a
// member. It is queued as a node event.
func (s *Server) RemoveMember(id sim.NodeID) error {
	return s.queueAdmin(AdminOp{Kind: AdminRemoveMember, Target: id})
}

func (s *Server) queueAdmin(op AdminOp) error {
	if !s.IsLeader() {
		return ErrNotLeader
	}
	if s.raftIDOf(op.Target) == 0 {
		return fmt.Errorf("raftkv: unknown node %q", op.Target)
	}
	s.env.SetTimer(0, &adminTask{op: op})
	return nil
}

// Propose proposes a command on behalf of the node embedding this server
// (for example a coordinator's timeout sweep), bypassing client sessions.
// done runs once it is applied here, with the state machine's response, or
// with ErrNotLeader (nothing proposed) or ErrUnknown (leadership lost; it
// may still apply). Call it from the node's own event handlers.
func (s *Server) Propose(cmd []byte, done func([]byte, error)) {
	if !s.IsLeader() {
		done(nil, ErrNotLeader)
		return
	}
	s.nextLocal++
	id := s.nextLocal
	if err := s.rn.Propose(encodeLocalCmd(s.raftID, s.env.Incarnation(), id, cmd)); err != nil {
		done(nil, ErrNotLeader)
		return
	}
	s.localProps[id] = done
	s.drive()
}

// Read runs a linearizable query (through ReadIndex) on behalf of the node
// embedding this server. done gets the response, or ErrNotLeader.
func (s *Server) Read(query []byte, done func([]byte, error)) {
	if !s.IsLeader() {
		done(nil, ErrNotLeader)
		return
	}
	s.startRead(pendingRead{query: query, local: done})
	s.drive()
}

// silentLogger discards raft's logging; Panic and Fatal still panic, so
// that an invariant violation becomes a finding instead of a silent exit.
type silentLogger struct{}

func (silentLogger) Debug(...any)            {}
func (silentLogger) Debugf(string, ...any)   {}
func (silentLogger) Error(...any)            {}
func (silentLogger) Errorf(string, ...any)   {}
func (silentLogger) Info(...any)             {}
func (silentLogger) Infof(string, ...any)    {}
func (silentLogger) Warning(...any)          {}
func (silentLogger) Warningf(string, ...any) {}
func (silentLogger) Fatal(v ...any)          { panic(fmt.Sprint(v...)) }
func (silentLogger) Fatalf(f string, v ...any) {
	panic(fmt.Sprintf(f, v...))
}
func (silentLogger) Panic(v ...any) { panic(fmt.Sprint(v...)) }
func (silentLogger) Panicf(f string, v ...any) {
	panic(fmt.Sprintf(f, v...))
}
