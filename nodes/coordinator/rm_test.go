package coordinator

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// driver is a test node that sends requests by hand.
type driver struct {
	sim.BaseNode
	cfg *Config
	env *sim.Env
	rpc *rpc
	tc  *tcClient
}

func (dr *driver) Start(env *sim.Env) {
	dr.env, dr.rpc = env, newRPC(env)
	dr.tc = &tcClient{r: dr.rpc, env: env, servers: func() []sim.NodeID { return dr.cfg.TCs }, cfg: dr.cfg}
}
func (dr *driver) Message(_ sim.ConnID, _ sim.NodeID, msg any) { dr.rpc.handleMessage(msg) }
func (dr *driver) Closed(c sim.ConnID, _ sim.NodeID)           { dr.rpc.handleClosed(c) }
func (dr *driver) Timer(_ sim.TimerID, tag any)                { dr.tc.handleTimer(tag) }

type unit struct {
	t   *testing.T
	w   *sim.World
	cfg Config
	dr  *driver
	rec *recorder
}

// newUnit builds one TC (file store), one RM and a driver.
func newUnit(t *testing.T) *unit {
	rec := &recorder{}
	u := &unit{t: t, w: sim.NewWorld(sim.Config{Seed: 7}), rec: rec}
	rec.w = u.w
	u.cfg = Config{TCs: []sim.NodeID{"tc1"}, RMs: []sim.NodeID{"rm1"}, Observer: rec, TxTimeout: time.Hour}
	u.cfg.defaults()
	AddServers(u.w, u.cfg)
	u.dr = &driver{cfg: &u.cfg}
	u.w.AddNode("drv", func() sim.Node { return u.dr })
	u.w.Run(sim.Limits{Until: 10 * time.Millisecond})
	return u
}

// await runs fn inside the world and waits for its answer.
func (u *unit) await(fn func(done func(any))) any {
	var got any
	ok := false
	u.w.After(0, func() { fn(func(v any) { got, ok = v, true }) })
	for limit := u.w.Now() + 10*time.Second; !ok && u.w.Now() < limit; {
		u.w.Run(sim.Limits{Until: u.w.Now() + 5*time.Millisecond})
	}
	require.True(u.t, ok, "no answer")
	return got
}

func (u *unit) tcReq(req TCRequest) *TCResponse {
	return u.await(func(done func(any)) {
		u.dr.tc.do(req, true, func(r *TCResponse, err error) { require.NoError(u.t, err); done(r) })
	}).(*TCResponse)
}

func (u *unit) call(c Call) *CallResp {
	return u.await(func(done func(any)) {
		c.Req = u.dr.rpc.id()
		u.dr.rpc.send("rm1", c.Req, &c, time.Second, func(r any, err error) { require.NoError(u.t, err); done(r) })
	}).(*CallResp)
}

func (u *unit) phaseTwo(p PhaseTwo) BranchStatus {
	return u.await(func(done func(any)) {
		p.Req = u.dr.rpc.id()
		u.dr.rpc.send("rm1", p.Req, &p, time.Second, func(r any, err error) { require.NoError(u.t, err); done(r.(*PhaseTwoResp).Status) })
	}).(BranchStatus)
}

func (u *unit) rm() *RM { return u.w.Node("rm1").(*RM) }
func (u *unit) tc() *TC { return u.w.Node("tc1").(*TC) }

func (u *unit) begin() XID { return u.tcReq(TCRequest{Kind: ReqBegin, Timeout: time.Hour}).XID }

func (u *unit) branches(x XID) []*Branch {
	for _, s := range u.tc().Sessions() {
		if s.XID == x {
			return s.Branches
		}
	}
	return nil
}

func TestATRollbackRestoresAndIsIdempotent(t *testing.T) {
	u := newUnit(t)
	x := u.begin()
	require.True(t, u.call(Call{Op: CallAdd, XID: x, Account: "a0", Amount: -30}).OK)
	require.True(t, u.call(Call{Op: CallAdd, XID: x, Account: "a0", Amount: -20}).OK, "a second branch on the same row")
	require.Equal(t, int64(950), u.rm().Accounts()["a0"], "phase one commits locally (read uncommitted)")
	require.Len(t, u.rm().UndoLogs(), 2)
	require.Equal(t, map[string]XID{"account:a0": x}, u.tc().Locks())
	r := u.tcReq(TCRequest{Kind: ReqRollback, XID: x})
	require.Equal(t, StatusRollbacking, r.Status)
	u.w.Run(sim.Limits{Until: u.w.Now() + time.Second})
	require.Equal(t, int64(1000), u.rm().Accounts()["a0"])
	require.Empty(t, u.rm().UndoLogs())
	require.Empty(t, u.tc().Locks())
	require.Equal(t, StatusRollbacked, u.tc().Finished()[x])
	// A repeated phase-two rollback changes nothing.
	require.Equal(t, BranchRollbacked, u.phaseTwo(PhaseTwo{XID: x, Branch: BranchID(x + 1), Mode: ModeAT}))
	require.Equal(t, int64(1000), u.rm().Accounts()["a0"])
}

func TestATRollbackNeverOverwritesADirtyWrite(t *testing.T) {
	u := newUnit(t)
	x := u.begin()
	require.True(t, u.call(Call{Op: CallAdd, XID: x, Account: "a1", Amount: -30}).OK)
	require.True(t, u.call(Call{Op: CallLocal, Account: "a1", Amount: 5}).OK, "a write outside any global transaction")
	b := u.branches(x)[0].ID
	require.Equal(t, BranchRollbackFailedUnretryable, u.phaseTwo(PhaseTwo{XID: x, Branch: b, Mode: ModeAT}))
	require.Equal(t, int64(975), u.rm().Accounts()["a1"], "the dirty row is kept, not overwritten")
	require.Len(t, u.rm().UndoLogs(), 1)
}

func TestATCommitDeletesUndoAsync(t *testing.T) {
	u := newUnit(t)
	x := u.begin()
	require.True(t, u.call(Call{Op: CallAdd, XID: x, Account: "a2", Amount: 7}).OK)
	r := u.tcReq(TCRequest{Kind: ReqCommit, XID: x})
	require.Equal(t, CodeOK, r.Code)
	require.Equal(t, StatusAsyncCommitting, r.Status)
	require.Empty(t, u.tc().Locks(), "locks go with the commit decision")
	u.w.Run(sim.Limits{Until: u.w.Now() + time.Second})
	require.Empty(t, u.rm().UndoLogs())
	require.Equal(t, int64(1007), u.rm().Accounts()["a2"])
	require.Equal(t, StatusCommitted, u.tc().Finished()[x])
	// A late commit or rollback request gets the final status.
	r = u.tcReq(TCRequest{Kind: ReqRollback, XID: x})
	require.Equal(t, CodeNotActive, r.Code)
	require.Equal(t, StatusCommitted, r.Status)
}

// A rollback that finds no undo log leaves a marker, and a late phase one
// of that branch then fails instead of committing (anti-suspension).
func TestATAntiSuspension(t *testing.T) {
	u := newUnit(t)
	x := u.begin()
	next := BranchID(x + 1) // xids and branch ids share one counter
	require.Equal(t, BranchRollbacked, u.phaseTwo(PhaseTwo{XID: x, Branch: next, Mode: ModeAT}))
	resp := u.call(Call{Op: CallAdd, XID: x, Account: "a0", Amount: -10})
	require.False(t, resp.OK)
	require.Contains(t, resp.Err, "marker")
	require.Equal(t, int64(1000), u.rm().Accounts()["a0"])
	require.Equal(t, BranchPhaseOneFailed, u.branches(x)[0].Status)
	require.Empty(t, u.tc().Locks(), "the failed branch's lock is released")
}

func TestGlobalLockConflictWaitsBoundedly(t *testing.T) {
	u := newUnit(t)
	x1, x2 := u.begin(), u.begin()
	require.True(t, u.call(Call{Op: CallAdd, XID: x1, Account: "a3", Amount: -1}).OK)
	resp := u.call(Call{Op: CallAdd, XID: x2, Account: "a3", Amount: -1})
	require.False(t, resp.OK)
	require.Contains(t, resp.Err, "lock-conflict")
	require.Equal(t, int64(999), u.rm().Accounts()["a3"], "x2's local change was rolled back")
	require.Empty(t, u.rm().DB().Locked())
	u.tcReq(TCRequest{Kind: ReqCommit, XID: x1})
	require.True(t, u.call(Call{Op: CallAdd, XID: x2, Account: "a3", Amount: -1}).OK, "free after x1's decision")
}

func TestTCCFence(t *testing.T) {
	u := newUnit(t)
	reg := func(x XID) BranchID {
		return u.tcReq(TCRequest{Kind: ReqRegister, XID: x, RM: "rm1", Resource: "i0", Mode: ModeTCC}).Branch
	}
	// Empty rollback, then a late try does nothing (anti-hanging).
	x := u.begin()
	b := reg(x)
	require.Equal(t, BranchRollbacked, u.phaseTwo(PhaseTwo{XID: x, Branch: b, Resource: "i0", Mode: ModeTCC}))
	require.False(t, u.call(Call{Op: CallTry, XID: x, Branch: b, Account: "i0", Amount: 5}).OK)
	require.Equal(t, int64(100), u.rm().Stock()["i0"])
	require.Equal(t, FenceSuspended, u.rm().Fences()[fencePK(x, b)].Status)
	// Try, confirm twice: reserved once, confirmed once.
	x = u.begin()
	b = reg(x)
	require.True(t, u.call(Call{Op: CallTry, XID: x, Branch: b, Account: "i0", Amount: 5}).OK)
	require.True(t, u.call(Call{Op: CallTry, XID: x, Branch: b, Account: "i0", Amount: 5}).OK, "a retried try is idempotent")
	require.Equal(t, int64(95), u.rm().Stock()["i0"])
	require.Equal(t, int64(5), u.rm().Frozen()["i0"])
	for range 2 {
		require.Equal(t, BranchCommitted, u.phaseTwo(PhaseTwo{Commit: true, XID: x, Branch: b, Resource: "i0", Mode: ModeTCC}))
	}
	require.Equal(t, int64(95), u.rm().Stock()["i0"])
	require.Zero(t, u.rm().Frozen()["i0"])
	require.Equal(t, BranchRollbackFailedUnretryable, u.phaseTwo(PhaseTwo{XID: x, Branch: b, Resource: "i0", Mode: ModeTCC}), "never cancel a confirmed branch")
	// Try, cancel twice.
	x = u.begin()
	b = reg(x)
	require.True(t, u.call(Call{Op: CallTry, XID: x, Branch: b, Account: "i0", Amount: 7}).OK)
	for range 2 {
		require.Equal(t, BranchRollbacked, u.phaseTwo(PhaseTwo{XID: x, Branch: b, Resource: "i0", Mode: ModeTCC}))
	}
	require.Equal(t, int64(95), u.rm().Stock()["i0"])
	require.Zero(t, u.rm().Frozen()["i0"])
	var kinds []FenceStatus
	for _, e := range u.rec.rm {
		if e.Kind == EvFence {
			kinds = append(kinds, e.To)
		}
	}
	require.Equal(t, []FenceStatus{FenceSuspended, FenceTried, FenceCommitted, FenceTried, FenceRollbacked}, kinds)
}

func fencePK(x XID, b BranchID) string { return fenceKey(x, b).PK }

// SELECT FOR UPDATE waits for the global lock (read committed); a plain
// read sees phase one's local commit (read uncommitted), as in Seata.
func TestSelectForUpdateChecksTheGlobalLock(t *testing.T) {
	u := newUnit(t)
	x1, x2 := u.begin(), u.begin()
	before := u.call(Call{Op: CallRead, Account: "a0"})
	require.True(t, u.call(Call{Op: CallAdd, XID: x1, Account: "a0", Amount: -40}).OK)
	plain := u.call(Call{Op: CallRead, XID: x2, Account: "a0"})
	require.Equal(t, int64(960), plain.Values["a0"], "plain reads are read uncommitted")
	locked := u.call(Call{Op: CallRead, XID: x2, Account: "a0", ForUpdate: true})
	require.False(t, locked.OK)
	require.Contains(t, locked.Err, "global lock busy")
	require.Empty(t, u.rm().DB().Locked(), "the local lock is let go")
	u.tcReq(TCRequest{Kind: ReqRollback, XID: x1})
	u.w.Run(sim.Limits{Until: u.w.Now() + time.Second})
	after := u.call(Call{Op: CallRead, XID: x2, Account: "a0", ForUpdate: true})
	require.True(t, after.OK)
	require.Equal(t, int64(1000), after.Values["a0"])
	require.Equal(t, before.Version, after.Version, "the rollback restored the row with its version")
	reads := 0
	for _, e := range u.rec.rm {
		if e.Kind == EvRead && e.ForUpdate {
			reads++
		}
	}
	require.Equal(t, 1, reads, "only successful reads are reported")
}

// A TM committing a transaction the TC already timed out is told it rolled
// back; the TM reports exactly that.
func TestTMToldRolledBackAfterTimeout(t *testing.T) {
	u := newUnit(t)
	tm := newTM(u.dr.env, u.dr.tc, u.rec)
	x := u.await(func(done func(any)) {
		tm.Begin(300*time.Millisecond, func(x XID, err error) { require.NoError(t, err); done(x) })
	}).(XID)
	require.True(t, u.call(Call{Op: CallAdd, XID: x, Account: "a0", Amount: 5}).OK)
	u.w.Run(sim.Limits{Until: u.w.Now() + 2*time.Second})
	out := u.await(func(done func(any)) { tm.Commit(x, func(o Outcome) { done(o) }) }).(Outcome)
	require.Equal(t, OutcomeRolledBack, out)
	require.Equal(t, StatusTimeoutRollbacked, u.tc().Finished()[x])
	require.Equal(t, int64(1000), u.rm().Accounts()["a0"])
	last := u.rec.tm[len(u.rec.tm)-1]
	require.Equal(t, TMEvent{Node: "drv", XID: x, Op: "commit", Outcome: OutcomeRolledBack, Status: StatusTimeoutRollbacked}, last)
}

// With the TC down, the TM gives up after OpTimeout and says unknown.
func TestTMUnknownWhenNoTCAnswers(t *testing.T) {
	u := newUnit(t)
	tm := newTM(u.dr.env, u.dr.tc, u.rec)
	x := u.begin()
	require.NoError(t, u.w.Inject(sim.Crash{Nodes: []sim.NodeID{"tc1"}}))
	out := u.await(func(done func(any)) { tm.Commit(x, func(o Outcome) { done(o) }) }).(Outcome)
	require.Equal(t, OutcomeUnknown, out)
	require.NoError(t, u.w.Inject(sim.Restart{Nodes: []sim.NodeID{"tc1"}}))
	out = u.await(func(done func(any)) { tm.Commit(x, func(o Outcome) { done(o) }) }).(Outcome)
	require.Equal(t, OutcomeCommitted, out, "the restarted TC reloaded the session")
}
