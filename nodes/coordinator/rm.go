package coordinator

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sofasim/sofasim/nodes/rowdb"
	"github.com/sofasim/sofasim/sim"
)

// Tables of an RM's database.
const (
	TableAccount = "account"   // pk a<i>: balance
	TableStock   = "stock"     // pk i<i>: available units
	TableFrozen  = "frozen"    // pk i<i>: units reserved by TCC tries
	TableUndo    = "undo_log"  // pk <xid>:<branch>: undo record, or the marker
	TableFence   = "tcc_fence" // pk <xid>:<branch>: <status>:<amount>
	TableList    = "list"      // pk l<i>: space-separated elements (the list-append workload)
	tableMeta    = "meta"
)

// UndoMarker is the undo row a rollback inserts when it finds no undo log
// ("global finished"), so that a late phase one cannot commit.
const UndoMarker = "global-finished"

// image is one row's before and after images in an undo record.
type image struct {
	Table  string     `json:"table"`
	PK     string     `json:"pk"`
	Before *rowdb.Row `json:"before"` // nil: the row did not exist
	After  rowdb.Row  `json:"after"`
}

type undoRecord struct {
	XID    XID      `json:"xid"`
	Branch BranchID `json:"branch"`
	Images []image  `json:"images"`
}

func undoKey(x XID, b BranchID) rowdb.Key {
	return rowdb.Key{Table: TableUndo, PK: fmt.Sprintf("%d:%d", x, b)}
}
func fenceKey(x XID, b BranchID) rowdb.Key {
	return rowdb.Key{Table: TableFence, PK: fmt.Sprintf("%d:%d", x, b)}
}

// AccountName and ItemName name the i-th account and item of an RM.
func AccountName(i int) string { return "a" + strconv.Itoa(i) }
func ItemName(i int) string    { return "i" + strconv.Itoa(i) }

// RM is a resource manager: a microservice with its own rowdb, running AT
// phase one for account updates and audits, TCC tries on its stock, and
// phase two for the TC.
type RM struct {
	cfg   Config
	env   *sim.Env
	id    sim.NodeID
	db    *rowdb.DB
	rpc   *rpc
	tc    *tcClient
	dsc   *discovery
	queue []rowdb.Key // committed branches' undo rows to delete
	ticks int
	sweep bool // a leftover sweep is in flight
}

type (
	undoTick struct{}
	later    struct{ fn func() }
)

// NewRM builds an RM.
func NewRM(cfg Config) *RM {
	cfg.defaults()
	return &RM{cfg: cfg}
}

func (rm *RM) Start(env *sim.Env) {
	rm.env, rm.id = env, env.ID()
	db, _, err := rowdb.Open(env, rm.cfg.DB)
	if err != nil {
		env.Exit("rm: " + err.Error())
		return
	}
	rm.db = db
	rm.seed()
	rm.rpc = newRPC(env)
	rm.dsc = newDiscovery(env, &rm.cfg, false)
	rm.tc = &tcClient{r: rm.rpc, env: env, servers: rm.dsc.servers, cfg: &rm.cfg, target: env.Rand().IntN(max(1, len(rm.cfg.TCs)))}
	env.SetTimer(rm.cfg.UndoCleanInterval, undoTick{})
}

// seed creates the initial rows once (durably, in one transaction).
func (rm *RM) seed() {
	done := rowdb.Key{Table: tableMeta, PK: "seeded"}
	if _, ok := rm.db.Read(done); ok {
		return
	}
	tx := rm.db.Begin()
	put := func(k rowdb.Key, v string) {
		tx.Lock(k, func(error) {})
		_ = tx.Put(k, v)
	}
	for i := 0; i < rm.cfg.Accounts; i++ {
		put(rowdb.Key{Table: TableAccount, PK: AccountName(i)}, strconv.FormatInt(rm.cfg.Balance, 10))
	}
	for i := 0; i < rm.cfg.Items; i++ {
		put(rowdb.Key{Table: TableStock, PK: ItemName(i)}, strconv.FormatInt(rm.cfg.Stock, 10))
		put(rowdb.Key{Table: TableFrozen, PK: ItemName(i)}, "0")
	}
	for i := 0; i < rm.cfg.Lists; i++ {
		put(rowdb.Key{Table: TableList, PK: ListName(i)}, "")
	}
	put(done, "1")
	_ = tx.Commit()
}

func (rm *RM) Connected(c sim.ConnID, p sim.NodeID) { rm.dsc.handleConnected(c, p) }
func (rm *RM) Closed(c sim.ConnID, p sim.NodeID) {
	if !rm.rpc.handleClosed(c) {
		rm.dsc.handleClosed(c, p)
	}
}
func (rm *RM) Datagram(sim.NodeID, any) {}

func (rm *RM) Message(c sim.ConnID, from sim.NodeID, msg any) {
	switch m := msg.(type) {
	case *Call:
		rm.onCall(c, m)
	case *PhaseTwo:
		rm.onPhaseTwo(c, m)
	default:
		if !rm.rpc.handleMessage(msg) {
			rm.dsc.handleMessage(c, from, msg)
		}
	}
}

func (rm *RM) Timer(id sim.TimerID, tag any) {
	switch t := tag.(type) {
	case undoTick:
		rm.clean()
		rm.env.SetTimer(rm.cfg.UndoCleanInterval, undoTick{})
	case later:
		t.fn()
	default:
		if !rm.db.HandleTimer(tag) && !rm.tc.handleTimer(tag) {
			rm.dsc.handleTimer(id, tag)
		}
	}
}

func (rm *RM) obs(ev RMEvent) {
	ev.Node = rm.id
	rm.env.Trace("rm/"+string(ev.Kind), uint64(ev.XID), uint64(ev.Branch), ev.OK, ev.BranchStatus.String(), string(ev.To))
	rm.cfg.Observer.RM(ev)
}

func (rm *RM) onCall(c sim.ConnID, m *Call) {
	reply := func(err error, vals map[string]int64) {
		r := &CallResp{Req: m.Req, OK: err == nil, Values: vals}
		if err != nil {
			r.Err = err.Error()
		}
		rm.env.Send(c, r)
	}
	switch m.Op {
	case CallAdd:
		rm.phaseOne(m, []rowdb.Key{{Table: TableAccount, PK: m.Account}}, addAmount(m.Amount), reply)
	case CallAppend:
		rm.phaseOne(m, []rowdb.Key{{Table: TableList, PK: m.Account}}, appendElement(m.Element), reply)
	case CallAudit:
		var keys []rowdb.Key
		for i := 0; i < rm.cfg.Accounts; i++ {
			keys = append(keys, rowdb.Key{Table: TableAccount, PK: AccountName(i)})
		}
		rm.phaseOne(m, keys, nil, reply)
	case CallTry:
		rm.try(m, func(err error) { reply(err, nil) })
	case CallLocal:
		rm.local(m, func(err error) { reply(err, nil) })
	case CallRead:
		rm.read(m, 0, func(r rowdb.Row, err error) {
			if err != nil {
				reply(err, nil)
				return
			}
			rm.obs(RMEvent{Kind: EvRead, XID: m.XID, OK: true, Key: m.Account, Value: balance(r), Version: r.Version, ForUpdate: m.ForUpdate})
			rm.env.Send(c, &CallResp{Req: m.Req, OK: true, Values: map[string]int64{m.Account: balance(r)}, Version: r.Version, Text: r.Value})
		})
	default:
		reply(errors.New("unknown call"), nil)
	}
}

// lockAll locks keys in order, one at a time.
func lockAll(tx *rowdb.Tx, keys []rowdb.Key, done func(error)) {
	if len(keys) == 0 {
		done(nil)
		return
	}
	tx.Lock(keys[0], func(err error) {
		if err != nil {
			done(err)
			return
		}
		lockAll(tx, keys[1:], done)
	})
}

func balance(r rowdb.Row) int64 { v, _ := strconv.ParseInt(r.Value, 10, 64); return v }

// phaseOne runs an AT branch: a local transaction locks the rows (SELECT
// FOR UPDATE), changes each (nil: an audit that only reads), registers
// the branch with the rows as lock keys (retrying a bounded number of
// times on a global lock conflict), inserts the undo record in the same
// transaction and commits.
func (rm *RM) phaseOne(m *Call, keys []rowdb.Key, change func(rowdb.Row) (string, error), reply func(error, map[string]int64)) {
	tx := rm.db.Begin()
	fail := func(err error) {
		tx.Rollback()
		rm.obs(RMEvent{Kind: EvPhaseOne, XID: m.XID, Err: err.Error()})
		reply(err, nil)
	}
	lockAll(tx, keys, func(err error) {
		if err != nil {
			if _, fire := rm.env.Failpoint(BugDeadlockSwallowed); fire {
				tx.Rollback()
				rm.env.Trace("rm/bug", BugDeadlockSwallowed, uint64(m.XID))
				reply(nil, nil)
				return
			}
			fail(err)
			return
		}
		rec := undoRecord{XID: m.XID}
		vals := map[string]int64{}
		var lockKeys []string
		for _, k := range keys {
			row, ok := tx.Get(k)
			if !ok {
				fail(fmt.Errorf("no row %s", k))
				return
			}
			vals[k.PK] = balance(row)
			lockKeys = append(lockKeys, k.String())
			if change == nil {
				continue
			}
			nv, err := change(row)
			if err != nil {
				fail(err)
				return
			}
			before := row
			_ = tx.Put(k, nv)
			rec.Images = append(rec.Images, image{Table: k.Table, PK: k.PK, Before: &before, After: rowdb.Row{Value: nv}})
		}
		rm.register(m.XID, lockKeys, 0, func(b BranchID, err error) {
			if err != nil {
				fail(err)
				return
			}
			rec.Branch = b
			uk := undoKey(m.XID, b)
			failAfter := func(err error) {
				rm.report(m.XID, b, BranchPhaseOneFailed)
				fail(err)
			}
			tx.Lock(uk, func(err error) {
				if err != nil {
					failAfter(err)
					return
				}
				if _, exists := tx.Get(uk); exists {
					failAfter(errors.New("global transaction finished (undo marker)"))
					return
				}
				if _, fire := rm.env.Failpoint(BugUndoNotDurable); fire && change != nil {
					rm.commitUndoLater(tx, uk, &rec)
				} else {
					for i := range rec.Images {
						rec.Images[i].After.Version = rm.db.LSN() + 1 // this commit's LSN
					}
					u, _ := json.Marshal(rec)
					_ = tx.Insert(uk, string(u))
					if tx.Commit() != nil {
						return // fatal: the process exits
					}
				}
				ev := RMEvent{Kind: EvPhaseOne, XID: m.XID, Branch: b, OK: true}
				if len(rec.Images) == 1 {
					im := rec.Images[0]
					ev.Key, ev.Value, ev.Version = im.PK, balance(im.After), im.After.Version
				}
				rm.obs(ev)
				if change == nil {
					rm.obs(RMEvent{Kind: EvAudit, XID: m.XID, Branch: b, OK: true})
				}
				reply(nil, vals)
			})
		})
	})
}

// commitUndoLater is the planted bug of seata#152: the business rows
// commit durably, the undo record only later and unsynced.
func (rm *RM) commitUndoLater(tx *rowdb.Tx, uk rowdb.Key, rec *undoRecord) {
	if tx.Commit() != nil {
		return
	}
	for i := range rec.Images {
		rec.Images[i].After.Version = rm.db.LSN()
	}
	u, _ := json.Marshal(rec)
	tx2 := rm.db.Begin()
	tx2.Lock(uk, func(err error) {
		if err == nil {
			_ = tx2.Insert(uk, string(u))
			_ = tx2.CommitUnsynced()
		} else {
			tx2.Rollback()
		}
	})
	rm.env.Trace("rm/bug", BugUndoNotDurable, uint64(rec.XID))
}

// register registers an AT branch, retrying on global lock conflicts.
// A register that times out is not retried: the TC may have registered it
// (an orphan branch), which the global rollback cleans up.
func (rm *RM) register(x XID, keys []string, n int, done func(BranchID, error)) {
	rm.tc.do(TCRequest{Kind: ReqRegister, XID: x, RM: rm.id, Resource: string(rm.id), Mode: ModeAT, Keys: keys}, false, func(r *TCResponse, err error) {
		switch {
		case err != nil:
			done(0, err)
		case r.Code == CodeOK:
			done(r.Branch, nil)
		case r.Code == CodeLockConflict && n < rm.cfg.LockRetryTimes:
			rm.env.SetTimer(rm.cfg.LockRetryInterval, later{func() { rm.register(x, keys, n+1, done) }})
		default:
			done(0, fmt.Errorf("register: %v (status %v, holder %d)", r.Code, r.Status, r.Holder))
		}
	})
}

func (rm *RM) report(x XID, b BranchID, st BranchStatus) {
	rm.tc.do(TCRequest{Kind: ReqReport, XID: x, Branch: b, BStatus: st}, true, func(*TCResponse, error) {})
}

// local adds Amount to Account in a plain local transaction (a write
// outside any global transaction).
func (rm *RM) local(m *Call, done func(error)) {
	tx := rm.db.Begin()
	k := rowdb.Key{Table: TableAccount, PK: m.Account}
	tx.GetForUpdate(k, func(row rowdb.Row, ok bool, err error) {
		if err != nil || !ok {
			tx.Rollback()
			done(fmt.Errorf("local: %v", err))
			return
		}
		_ = tx.Put(k, strconv.FormatInt(balance(row)+m.Amount, 10))
		done(tx.Commit())
	})
}

// read answers CallRead. SELECT FOR UPDATE takes the local row lock, then
// asks the TC whether another global transaction holds the row; if one
// does, it lets the local lock go and retries (bounded), as Seata's
// SelectForUpdateExecutor does.
func (rm *RM) read(m *Call, n int, done func(rowdb.Row, error)) {
	k := rowdb.Key{Table: TableAccount, PK: m.Account}
	if m.List {
		k.Table = TableList
	}
	if !m.ForUpdate {
		r, ok := rm.db.Read(k)
		if !ok {
			done(r, fmt.Errorf("no row %s", k))
			return
		}
		done(r, nil)
		return
	}
	tx := rm.db.Begin()
	tx.GetForUpdate(k, func(r rowdb.Row, ok bool, err error) {
		if err != nil || !ok {
			tx.Rollback()
			done(r, fmt.Errorf("select for update %s: %v", k, err))
			return
		}
		rm.tc.do(TCRequest{Kind: ReqLockQuery, XID: m.XID, Keys: []string{k.String()}}, true, func(resp *TCResponse, err error) {
			if err == nil && resp.Code == CodeOK {
				r, _ := tx.Get(k)
				tx.Rollback() // nothing written: just let the lock go
				done(r, nil)
				return
			}
			tx.Rollback()
			if err == nil && resp.Code == CodeLockConflict && n < rm.cfg.LockRetryTimes {
				rm.env.SetTimer(rm.cfg.LockRetryInterval, later{func() { rm.read(m, n+1, done) }})
				return
			}
			done(rowdb.Row{}, fmt.Errorf("select for update %s: global lock busy", k))
		})
	})
}

func (rm *RM) onPhaseTwo(c sim.ConnID, m *PhaseTwo) {
	reply := func(st BranchStatus) {
		rm.obs(RMEvent{Kind: EvPhaseTwo, XID: m.XID, Branch: m.Branch, Commit: m.Commit, BranchStatus: st})
		rm.env.Send(c, &PhaseTwoResp{Req: m.Req, Status: st})
	}
	switch {
	case m.Mode == ModeTCC:
		rm.tccPhaseTwo(m, reply)
	case m.Commit:
		// Commit is asynchronous: the undo log goes in the background.
		rm.queue = append(rm.queue, undoKey(m.XID, m.Branch))
		reply(BranchCommitted)
	default:
		rm.undo(m.XID, m.Branch, reply)
	}
}

// undo rolls an AT branch back: under the undo row's lock, check each
// after image against the current row, restore the before images (in
// reverse), delete the undo row, commit. No undo row: insert the marker.
func (rm *RM) undo(x XID, b BranchID, reply func(BranchStatus)) {
	tx := rm.db.Begin()
	uk := undoKey(x, b)
	tx.GetForUpdate(uk, func(row rowdb.Row, ok bool, err error) {
		if err != nil {
			tx.Rollback()
			reply(BranchRollbackFailedRetryable)
			return
		}
		if !ok {
			if _, fire := rm.env.Failpoint(BugOrphanBranch); fire {
				tx.Rollback()
				rm.env.Trace("rm/bug", BugOrphanBranch, uint64(x), uint64(b))
				reply(BranchRollbackFailedUnretryable)
				return
			}
			_ = tx.Insert(uk, UndoMarker)
			if tx.Commit() == nil {
				reply(BranchRollbacked)
			}
			return
		}
		if row.Value == UndoMarker {
			tx.Rollback()
			reply(BranchRollbacked)
			return
		}
		var rec undoRecord
		if json.Unmarshal([]byte(row.Value), &rec) != nil {
			tx.Rollback()
			reply(BranchRollbackFailedUnretryable)
			return
		}
		var keys []rowdb.Key
		for _, im := range rec.Images {
			keys = append(keys, rowdb.Key{Table: im.Table, PK: im.PK})
		}
		lockAll(tx, keys, func(err error) {
			if err != nil {
				tx.Rollback()
				reply(BranchRollbackFailedRetryable)
				return
			}
			for i := len(rec.Images) - 1; i >= 0; i-- {
				im := rec.Images[i]
				k := rowdb.Key{Table: im.Table, PK: im.PK}
				cur, exists := tx.Get(k)
				switch {
				case exists && cur == im.After:
					if im.Before == nil {
						_ = tx.Delete(k)
					} else {
						_ = tx.Restore(k, *im.Before)
					}
				case im.Before != nil && exists && cur == *im.Before:
					// already restored
				default:
					// Dirty write: never overwrite it.
					tx.Rollback()
					rm.env.Trace("rm/dirty", uint64(x), uint64(b), k.String())
					reply(BranchRollbackFailedUnretryable)
					return
				}
			}
			_ = tx.Delete(uk)
			if tx.Commit() == nil {
				reply(BranchRollbacked)
			}
		})
	})
}

// clean deletes committed branches' undo rows, and every few ticks sweeps
// leftovers (undo rows and markers whose global transaction the TC says is
// finished: a crash lost the queue, or a marker outlived its purpose).
func (rm *RM) clean() {
	rm.ticks++
	// Batches of up to 1000 rows, as Seata's undo log manager deletes them:
	// smaller batches fall behind a few hundred commits a second.
	if n := min(len(rm.queue), 1000); n > 0 {
		batch := rm.queue[:n:n]
		rm.queue = rm.queue[n:]
		tx := rm.db.Begin()
		lockAll(tx, batch, func(err error) {
			if err != nil {
				tx.Rollback()
				rm.queue = append(rm.queue, batch...)
				return
			}
			for _, k := range batch {
				if r, ok := tx.Get(k); ok && r.Value != UndoMarker {
					_ = tx.Delete(k)
				}
			}
			_ = tx.Commit()
		})
	}
	if rm.ticks%10 != 0 || rm.sweep {
		return
	}
	rows := rm.db.Rows(TableUndo)
	rm.sweepRows(rows)
}

func (rm *RM) sweepRows(rows []rowdb.KeyRow) {
	if len(rows) == 0 {
		rm.sweep = false
		return
	}
	rm.sweep = true
	kr := rows[0]
	x, _ := strconv.ParseUint(strings.Split(kr.Key.PK, ":")[0], 10, 64)
	rm.tc.do(TCRequest{Kind: ReqStatus, XID: XID(x)}, true, func(r *TCResponse, err error) {
		if err == nil && r.Code == CodeOK {
			marker := kr.Row.Value == UndoMarker
			if marker && r.Status.Final() || !marker && r.Status.Commit() {
				rm.queueDelete(kr.Key, marker)
			}
		}
		rm.sweepRows(rows[1:])
	})
}

func (rm *RM) queueDelete(k rowdb.Key, marker bool) {
	if !marker {
		rm.queue = append(rm.queue, k)
		return
	}
	tx := rm.db.Begin()
	tx.GetForUpdate(k, func(r rowdb.Row, ok bool, err error) {
		if err == nil && ok && r.Value == UndoMarker {
			_ = tx.Delete(k)
			_ = tx.Commit()
			return
		}
		tx.Rollback()
	})
}

// Inspection, for harnesses and checkers.

// DB returns the RM's database (read only).
func (rm *RM) DB() *rowdb.DB { return rm.db }

// Accounts returns every account's committed balance.
func (rm *RM) Accounts() map[string]int64 { return rm.ints(TableAccount) }

// Stock and Frozen return the committed TCC inventory per item.
func (rm *RM) Stock() map[string]int64  { return rm.ints(TableStock) }
func (rm *RM) Frozen() map[string]int64 { return rm.ints(TableFrozen) }

func (rm *RM) ints(table string) map[string]int64 {
	out := map[string]int64{}
	for _, kr := range rm.db.Rows(table) {
		out[kr.Key.PK] = balance(kr.Row)
	}
	return out
}

// UndoLogs lists the undo rows that are not markers ("xid:branch").
func (rm *RM) UndoLogs() []string {
	var out []string
	for _, kr := range rm.db.Rows(TableUndo) {
		if kr.Row.Value != UndoMarker {
			out = append(out, kr.Key.PK)
		}
	}
	return out
}

// Fence is one TCC fence row.
type Fence struct {
	Status FenceStatus
	Amount int64
	Item   string
}

// Fences returns every TCC fence row by "xid:branch".
func (rm *RM) Fences() map[string]Fence {
	out := map[string]Fence{}
	for _, kr := range rm.db.Rows(TableFence) {
		st, n, item := parseFence(kr.Row.Value)
		out[kr.Key.PK] = Fence{st, n, item}
	}
	return out
}
