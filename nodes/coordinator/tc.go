package coordinator

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"

	"github.com/sofasim/sofasim/nodes/raftkv"
	"github.com/sofasim/sofasim/nodes/rowdb"
	"github.com/sofasim/sofasim/sim"
)

// TC is the transaction coordinator. With StoreFile it keeps its state in
// a rowdb on its disk; with StoreRaft it embeds a raftkv.Server whose
// state machine is the TC state, and serves while it leads.
type TC struct {
	cfg Config
	id  sim.NodeID
	env *sim.Env
	st  *tcState
	rs  *raftkv.Server
	db  *rowdb.DB
	rpc *rpc
	dsc *discovery

	ready   bool
	noop    bool
	term    uint64
	driving map[XID]uint64 // session -> drive generation
	gen     uint64
	skip    map[XID]bool // sessions not reloaded (planted bug)
	batch   []proposal   // commands waiting for the group commit
}

type recoveryTick struct{}

// NewTC builds a TC.
func NewTC(cfg Config, id sim.NodeID) *TC {
	cfg.defaults()
	tc := &TC{cfg: cfg, id: id, st: newState()}
	if cfg.Store == StoreRaft {
		// HeartbeatTick 1: the TCs keep raftkv's former heartbeat (every tick) so this
		// system's histories and pins stay as measured; raftkv alone moved to 3.
		tc.rs = raftkv.NewServer(raftkv.ServerConfig{HeartbeatTick: 1, ID: id, Peers: cfg.TCs, SnapshotEvery: cfg.SnapshotEvery, CatchUpEntries: 50,
			NewStateMachine: func() raftkv.StateMachine {
				sm := &tcSM{st: newState(), tc: tc}
				tc.st = sm.st
				return sm
			}})
	}
	return tc
}

func (tc *TC) Start(env *sim.Env) {
	tc.env = env
	tc.rpc = newRPC(env)
	tc.driving, tc.skip = map[XID]uint64{}, map[XID]bool{}
	if tc.rs != nil {
		tc.rs.Start(env)
	} else if !tc.loadFile() {
		return
	}
	tc.dsc = newDiscovery(env, &tc.cfg, true)
	env.SetTimer(tc.cfg.RecoveryInterval, recoveryTick{})
}

// Row keys of the file store.
var (
	keyNext = rowdb.Key{Table: "meta", PK: "next"}
)

func sessionKey(x XID) rowdb.Key {
	return rowdb.Key{Table: "session", PK: strconv.FormatUint(uint64(x), 10)}
}
func finishedKey(x XID) rowdb.Key {
	return rowdb.Key{Table: "finished", PK: strconv.FormatUint(uint64(x), 10)}
}

func (tc *TC) loadFile() bool {
	db, _, err := rowdb.Open(tc.env, tc.cfg.DB)
	if err != nil {
		tc.env.Exit("tc: " + err.Error())
		return false
	}
	tc.db = db
	if r, ok := db.Read(keyNext); ok {
		tc.st.Next, _ = strconv.ParseUint(r.Value, 10, 64)
	}
	for _, kr := range db.Rows("session") {
		var s Session
		if json.Unmarshal([]byte(kr.Row.Value), &s) == nil {
			tc.st.Sessions[s.XID] = &s
		}
	}
	for _, kr := range db.Rows("finished") {
		x, _ := strconv.ParseUint(kr.Key.PK, 10, 64)
		v, _ := strconv.ParseUint(kr.Row.Value, 10, 64)
		tc.st.Finished[XID(x)] = GlobalStatus(v)
	}
	tc.st.rebuildLocks()
	tc.env.Trace("tc/reloaded", len(tc.st.Sessions), len(tc.st.Finished), tc.st.Next)
	tc.reload()
	tc.ready = true
	return true
}

// reload starts serving a state found at restart or election: recovery
// jobs pick every unfinished session up (unless a planted bug skips some).
func (tc *TC) reload() {
	clear(tc.driving)
	clear(tc.skip)
	for _, x := range slices.Sorted(maps.Keys(tc.st.Sessions)) {
		s := tc.st.Sessions[x]
		if s.Status.Rollback() && !s.Status.Final() {
			if _, fire := tc.env.Failpoint(BugNoReloadRollbacking); fire {
				tc.skip[x] = true
				tc.env.Trace("tc/bug", BugNoReloadRollbacking, uint64(x))
			}
		}
	}
}

// tcSM is the raft store's state machine.
type tcSM struct {
	st *tcState
	tc *TC
}

func (m *tcSM) Apply(index uint64, cmd []byte) []byte {
	if isBatch(cmd) {
		cmds, err := decodeBatch(cmd)
		if err != nil {
			return encodeResult(result{Code: CodeFailed})
		}
		for i, c := range cmds {
			cmds[i] = m.apply(index, c)
		}
		return encodeBatch(cmds)
	}
	return m.apply(index, cmd)
}

func (m *tcSM) apply(index uint64, cmd []byte) []byte {
	c, err := decodeCommand(cmd)
	if err != nil {
		return encodeResult(result{Code: CodeFailed})
	}
	if c.Op == "noop" {
		return encodeResult(result{Code: CodeOK})
	}
	m.st.emit = m.tc.emitter(index)
	r := m.st.apply(&c)
	m.st.emit = nil
	clear(m.st.dirty)
	return encodeResult(r)
}
func (m *tcSM) Query([]byte) []byte    { return nil }
func (m *tcSM) Snapshot() []byte       { return m.st.encode() }
func (m *tcSM) Restore(b []byte) error { return m.st.decode(b) }

func (tc *TC) emitter(index uint64) func(TCEvent) {
	return func(ev TCEvent) {
		ev.Node, ev.Index = tc.id, index
		tc.env.Trace("tc/"+string(ev.Kind), uint64(ev.XID), uint64(ev.Branch), ev.From.String(), ev.To.String(), ev.BranchStatus.String())
		tc.cfg.Observer.TC(ev)
	}
}

// submit applies a command through the store: durably (file: one synced
// rowdb transaction) or replicated (raft: once applied here).
func (tc *TC) submit(c *command, done func(result, error)) {
	if tc.rs != nil {
		tc.propose(encodeCommand(c), func(resp []byte, err error) {
			var r result
			if err == nil {
				r, err = decodeResult(resp)
			}
			done(r, err)
		})
		return
	}
	// The command's events are told once its commit is durable: a sync
	// that fails exits the process, and what it would have changed (an
	// xid handed out, say) never happened.
	emit := tc.emitter(tc.db.LSN() + 1) // the commit below gets the next LSN
	var evs []TCEvent
	tc.st.emit = func(ev TCEvent) { evs = append(evs, ev) }
	r := tc.st.apply(c)
	tc.st.emit = nil
	tx := tc.db.Begin()
	put := func(k rowdb.Key, v string, del bool) {
		tx.Lock(k, func(error) {}) // nothing else holds TC rows: granted at once
		if del {
			_ = tx.Delete(k)
		} else {
			_ = tx.Put(k, v)
		}
	}
	for _, x := range slices.Sorted(maps.Keys(tc.st.dirty)) {
		if s := tc.st.Sessions[x]; s != nil {
			b, _ := json.Marshal(s)
			put(sessionKey(x), string(b), false)
		} else {
			put(sessionKey(x), "", true)
		}
		if f, ok := tc.st.Finished[x]; ok {
			put(finishedKey(x), strconv.Itoa(int(f)), false)
		}
	}
	clear(tc.st.dirty)
	put(keyNext, strconv.FormatUint(tc.st.Next, 10), false)
	if err := tx.Commit(); err != nil {
		done(r, err)
		return
	}
	for _, ev := range evs {
		emit(ev)
	}
	done(r, nil)
}

// serving reports whether this TC may serve: file store always; raft
// store while it leads and its term's no-op has applied.
func (tc *TC) serving() bool {
	if tc.rs == nil {
		return tc.ready
	}
	st := tc.rs.Status()
	if !tc.rs.IsLeader() {
		tc.ready, tc.noop = false, false
		return false
	}
	if tc.ready && st.Term != tc.term {
		tc.ready = false
	}
	if !tc.ready && !tc.noop {
		tc.noop = true
		term := st.Term
		tc.rs.Propose(encodeCommand(&command{Op: "noop"}), func(_ []byte, err error) {
			tc.noop = false
			if err != nil || !tc.rs.IsLeader() || tc.rs.Status().Term != term {
				return
			}
			tc.ready, tc.term = true, term
			tc.env.Trace("tc/leader", term, len(tc.st.Sessions))
			tc.reload()
		})
	}
	return tc.ready
}

func (tc *TC) Connected(c sim.ConnID, p sim.NodeID) {
	if tc.dsc != nil && tc.dsc.handleConnected(c, p) {
		return
	}
	if tc.rs != nil {
		tc.rs.Connected(c, p)
	}
}

func (tc *TC) Closed(c sim.ConnID, p sim.NodeID) {
	if tc.rpc.handleClosed(c) || tc.dsc != nil && tc.dsc.handleClosed(c, p) {
		return
	}
	if tc.rs != nil {
		tc.rs.Closed(c, p)
	}
}

func (tc *TC) Datagram(from sim.NodeID, msg any) {}

func (tc *TC) Message(c sim.ConnID, from sim.NodeID, msg any) {
	if req, ok := msg.(*TCRequest); ok {
		tc.onRequest(c, from, req)
		return
	}
	if tc.rpc.handleMessage(msg) || tc.dsc != nil && tc.dsc.handleMessage(c, from, msg) {
		return
	}
	if tc.rs != nil {
		tc.rs.Message(c, from, msg)
	}
}

func (tc *TC) Timer(id sim.TimerID, tag any) {
	switch {
	case tag == groupTick{}:
		tc.flush()
	case tag == recoveryTick{}:
		tc.recover()
		tc.env.SetTimer(tc.cfg.RecoveryInterval, recoveryTick{})
	case tc.rpc.handleTimer(tag):
	case tc.db != nil && tc.db.HandleTimer(tag):
	case tc.dsc != nil && tc.dsc.handleTimer(id, tag):
	case tc.rs != nil:
		tc.rs.Timer(id, tag)
	}
}

func (tc *TC) reply(c sim.ConnID, req *TCRequest, r result) {
	tc.env.Send(c, &TCResponse{Req: req.Req, Code: r.Code, XID: r.XID, Branch: r.Branch, Status: r.Status, Holder: r.Holder})
}

func (tc *TC) onRequest(c sim.ConnID, from sim.NodeID, req *TCRequest) {
	if !tc.serving() {
		var hint sim.NodeID
		if tc.rs != nil {
			hint = tc.rs.Status().Lead
		}
		tc.env.Send(c, &TCResponse{Req: req.Req, Code: CodeNotLeader, Leader: hint})
		return
	}
	answer := func(r result, err error) {
		if err != nil {
			return // leadership lost or fatal: the client retries elsewhere
		}
		tc.reply(c, req, r)
	}
	s := tc.st.Sessions[req.XID]
	switch req.Kind {
	case ReqBegin:
		tc.submit(&command{Op: opBegin, Timeout: int64(req.Timeout), Now: tc.env.Now().UnixNano(), TM: from}, answer)
	case ReqRegister:
		cmd := &command{Op: opRegister, XID: req.XID, RM: req.RM, Resource: req.Resource, Mode: req.Mode, Keys: req.Keys}
		if s != nil && s.Status != StatusBegin {
			if _, fire := tc.env.Failpoint(BugRegisterAfterRollback); fire {
				cmd.Force = true
			}
		}
		tc.submit(cmd, answer)
	case ReqReport:
		tc.submit(&command{Op: opBranch, XID: req.XID, Branch: req.Branch, BStatus: req.BStatus}, answer)
	case ReqStatus:
		tc.reply(c, req, tc.statusOf(req.XID))
	case ReqLockQuery:
		query := func() {
			r := result{Code: CodeOK}
			for _, k := range req.Keys {
				if h, ok := tc.st.locks[k]; ok && h != req.XID {
					r = result{Code: CodeLockConflict, Holder: h}
					break
				}
			}
			tc.reply(c, req, r)
		}
		if tc.rs == nil {
			query()
			return
		}
		// A deposed leader that has not heard of its successor still
		// thinks it serves, with a lock table that lags: a SELECT FOR
		// UPDATE it answered could read a row another transaction holds.
		// The answer waits until a no-op of this term is applied, so the
		// table holds every lock granted before the query.
		tc.rs.Propose(encodeCommand(&command{Op: "noop"}), func(_ []byte, err error) {
			if err == nil && tc.serving() {
				query()
			}
		})
	case ReqCommit, ReqRollback:
		if s == nil || s.Status != StatusBegin {
			r := tc.statusOf(req.XID)
			if r.Code == CodeOK {
				r.Code = CodeNotActive
			}
			tc.reply(c, req, r)
			return
		}
		to := StatusRollbacking
		if req.Kind == ReqCommit {
			to = StatusAsyncCommitting
			for _, b := range s.Branches {
				if b.Mode != ModeAT {
					to = StatusCommitting
				}
			}
		}
		x := req.XID
		tc.submit(&command{Op: opStatus, XID: x, From: StatusBegin, To: to}, func(r result, err error) {
			if err != nil {
				return
			}
			if r.Code == CodeBadStatus {
				r.Code = CodeNotActive
			}
			tc.reply(c, req, r)
			if r.Code == CodeOK {
				tc.drive(x)
			}
		})
	default:
		tc.reply(c, req, result{Code: CodeFailed})
	}
}

func (tc *TC) statusOf(x XID) result {
	if s := tc.st.Sessions[x]; s != nil {
		return result{Code: CodeOK, XID: x, Status: s.Status}
	}
	if f, ok := tc.st.Finished[x]; ok {
		return result{Code: CodeOK, XID: x, Status: f}
	}
	return result{Code: CodeNotExist, XID: x}
}

// recover runs the recovery jobs: the timeout check, then retry
// committing, retry rollbacking and async committing for every session
// nobody is driving.
func (tc *TC) recover() {
	if !tc.serving() {
		return
	}
	now := tc.env.Now().UnixNano()
	for _, x := range slices.Sorted(maps.Keys(tc.st.Sessions)) {
		s := tc.st.Sessions[x]
		if tc.skip[x] || s.Status.Final() {
			continue
		}
		timedOut := now > s.Began+s.Timeout
		switch {
		case s.Status == StatusBegin && timedOut:
			tc.timeoutRollback(x, false)
		case s.Status.Commit() && timedOut:
			if _, fire := tc.env.Failpoint(BugTimeoutCommitRace); fire {
				tc.timeoutRollback(x, true)
				continue
			}
			tc.drive(x)
		default:
			tc.drive(x)
		}
	}
}

func (tc *TC) timeoutRollback(x XID, force bool) {
	tc.env.Trace("tc/timeout", uint64(x))
	tc.submit(&command{Op: opStatus, XID: x, From: StatusBegin, To: StatusTimeoutRollbacking, Force: force}, func(r result, err error) {
		if err == nil && r.Code == CodeOK {
			tc.drive(x)
		}
	})
}

// drive runs phase two of a decided session: commit in registration
// order, rollback in reverse registration order, one branch at a time.
// A branch that fails retryably leaves the session to the retry jobs.
func (tc *TC) drive(x XID) {
	s := tc.st.Sessions[x]
	if s == nil || tc.driving[x] != 0 || tc.skip[x] || s.Status == StatusBegin || s.Status.Final() {
		return
	}
	commit := s.Status.Commit()
	order := make([]BranchID, len(s.Branches))
	for i, b := range s.Branches {
		order[i] = b.ID
	}
	if !commit {
		if _, fire := tc.env.Failpoint(BugRollbackRegistrationOrder); !fire {
			slices.Reverse(order)
		}
	}
	tc.gen++
	tc.driving[x] = tc.gen
	tc.step(x, tc.gen, commit, order, 0)
}

func branchDone(b *Branch, commit bool) bool {
	if commit {
		return b.Status == BranchCommitted
	}
	return b.Status == BranchRollbacked || b.Status == BranchPhaseOneFailed
}

// stop ends drive g of x (a later drive of x is left alone).
func (tc *TC) stop(x XID, g uint64) {
	if tc.driving[x] == g {
		delete(tc.driving, x)
	}
}

func (tc *TC) step(x XID, g uint64, commit bool, order []BranchID, i int) {
	s := tc.st.Sessions[x]
	if s == nil || !tc.serving() || s.Status.Commit() != commit || s.Status.Final() {
		tc.stop(x, g)
		return
	}
	for i < len(order) && (s.branch(order[i]) == nil || branchDone(s.branch(order[i]), commit)) {
		i++
	}
	if i == len(order) {
		to := StatusCommitted
		if !commit {
			to = StatusRollbacked
			if s.Status.Timeout() {
				to = StatusTimeoutRollbacked
			}
		}
		tc.submit(&command{Op: opEnd, XID: x, To: to}, func(result, error) { tc.stop(x, g) })
		return
	}
	b := s.branch(order[i])
	id := tc.rpc.id()
	tc.rpc.send(b.RM, id, &PhaseTwo{Req: id, Commit: commit, XID: x, Branch: b.ID, Resource: b.Resource, Mode: b.Mode}, tc.cfg.RPCTimeout, func(resp any, err error) {
		st := BranchUnknown
		if err == nil {
			st = resp.(*PhaseTwoResp).Status
		}
		switch {
		case commit && st == BranchCommitted, !commit && st == BranchRollbacked:
			tc.submit(&command{Op: opBranch, XID: x, Branch: b.ID, BStatus: st}, func(r result, err error) {
				if err != nil || r.Code != CodeOK {
					tc.stop(x, g)
					return
				}
				tc.step(x, g, commit, order, i+1)
			})
		case st == BranchCommitFailedUnretryable, st == BranchRollbackFailedUnretryable:
			to := StatusCommitFailed
			if !commit {
				to = StatusRollbackFailed
				if s.Status.Timeout() {
					to = StatusTimeoutRollbackFailed
				}
			}
			tc.submit(&command{Op: opBranch, XID: x, Branch: b.ID, BStatus: st}, func(result, error) {
				tc.submit(&command{Op: opEnd, XID: x, To: to}, func(result, error) { tc.stop(x, g) })
			})
		default:
			tc.retrying(x, g)
		}
	})
}

// retrying moves a session to its retrying status and leaves it to the
// recovery jobs.
func (tc *TC) retrying(x XID, g uint64) {
	s := tc.st.Sessions[x]
	next := map[GlobalStatus]GlobalStatus{StatusCommitting: StatusCommitRetrying, StatusRollbacking: StatusRollbackRetrying,
		StatusTimeoutRollbacking: StatusTimeoutRollbackRetrying}
	if s == nil || next[s.Status] == 0 {
		tc.stop(x, g)
		return
	}
	tc.submit(&command{Op: opStatus, XID: x, From: s.Status, To: next[s.Status]}, func(result, error) { tc.stop(x, g) })
}

// Inspection, for harnesses and checkers (never to modify).

// Serving reports whether this TC currently serves requests.
func (tc *TC) Serving() bool { return tc.env != nil && tc.ready && (tc.rs == nil || tc.rs.IsLeader()) }

// Sessions returns copies of the unfinished sessions, by xid.
func (tc *TC) Sessions() []*Session {
	var out []*Session
	for _, x := range slices.Sorted(maps.Keys(tc.st.Sessions)) {
		out = append(out, tc.st.Sessions[x].clone())
	}
	return out
}

// Finished returns the final status of finished sessions.
func (tc *TC) Finished() map[XID]GlobalStatus { return maps.Clone(tc.st.Finished) }

// Locks returns the global lock table: "table:pk" -> holder.
func (tc *TC) Locks() map[string]XID { return tc.st.lockTable() }

// Raft returns the embedded raft server (store=raft), else nil.
func (tc *TC) Raft() *raftkv.Server { return tc.rs }
