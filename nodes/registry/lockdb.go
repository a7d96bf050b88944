package registry

// The lock database of the meta election: the one distribute_lock row that
// SOFARegistry's MetaJdbcLeaderElector keeps in MySQL. Its clock is the
// database server's (NOW(3)), not the meta servers': takeover is judged
// there, leadership is trusted by each meta on its own clock, and clock
// faults of either side are where the election can go wrong.

import (
	"encoding/json"

	"github.com/sofasim/sofasim/sim"
)

// LockRow is the lock row. Term counts takeovers, TermDuration heartbeats
// within the term; a takeover compares both, so a heartbeat between the
// follower's read and its update makes the takeover fail.
type LockRow struct {
	Owner        string `json:"owner"`
	Modified     int64  `json:"modified"` // gmt_modified: the database clock, unix ms
	Duration     int64  `json:"duration"` // ms
	Term         uint64 `json:"term"`
	TermDuration uint64 `json:"term_duration"`
}

// Expired: the owner has not renewed the row for longer than its
// duration, by the database clock now.
func (r LockRow) Expired(now int64) bool { return now-r.Modified > r.Duration }

// LockOp is one statement of the elector.
type LockOp uint8

const (
	LockQuery     LockOp = iota + 1 // select the row and NOW(3)
	LockInsert                      // insert the row as Owner, if there is none
	LockHeartbeat                   // renew: gmt_modified = NOW(3) where owner = Owner
	LockCompete                     // take over: compare-and-set on Prev's owner, term and term duration, if expired by NOW(3)
)

func (o LockOp) String() string {
	return [...]string{"?", "query", "insert", "heartbeat", "compete"}[min(int(o), 4)]
}

type (
	// LockReq: meta -> lock database.
	LockReq struct {
		ID       uint64
		Op       LockOp
		Owner    string  // insert, heartbeat: the caller; compete: the new owner
		Duration int64   // insert: the lock duration (ms)
		Prev     LockRow // compete: the expired row the caller read
	}
	// LockResp: the row after the statement, and the database clock when it
	// ran (gmt_db_server_time).
	LockResp struct {
		ID      uint64
		Applied bool
		Found   bool
		Row     LockRow
		Now     int64
	}
)

// LockObserver, when the Config's Observer also implements it, hears of
// every lock statement: sent by a meta, run by the database (in the order
// it ran them), answered to the meta (a harness records them for the
// lock's linearizability check). Request ids are unique per meta node.
type LockObserver interface {
	LockSent(from sim.NodeID, req LockReq)
	LockRan(from sim.NodeID, req LockReq, resp LockResp)
	LockAnswered(from sim.NodeID, resp LockResp)
}

// LockDB is the lock database server: statements run one at a time on
// the row, which is synced to disk before the answer.
type LockDB struct {
	sim.BaseNode
	cfg   Config
	env   *sim.Env
	row   LockRow
	found bool
}

const lockFile = "distribute_lock"

func (db *LockDB) Start(env *sim.Env) {
	db.env = env
	b, err := env.Disk().ReadFile(lockFile)
	if err == nil && len(b) > 0 && json.Unmarshal(b, &db.row) == nil {
		db.found = true
	}
}

// Clock is the database's clock (unix ms), for a harness.
func (db *LockDB) Clock() int64 { return db.env.Now().UnixMilli() }

func (db *LockDB) Message(conn sim.ConnID, from sim.NodeID, msg any) {
	req, ok := msg.(*LockReq)
	if !ok {
		return
	}
	resp := db.run(*req)
	if o, ok := db.cfg.Observer.(LockObserver); ok {
		o.LockRan(from, *req, resp)
	}
	db.env.Send(conn, &resp)
}

func (db *LockDB) run(req LockReq) LockResp {
	now := db.env.Now().UnixMilli()
	next, apply := db.row, false
	switch req.Op {
	case LockInsert:
		if !db.found {
			next, apply = LockRow{Owner: req.Owner, Modified: now, Duration: req.Duration}, true
		}
	case LockHeartbeat:
		if db.found && db.row.Owner == req.Owner {
			next.Modified, next.TermDuration, apply = now, db.row.TermDuration+1, true
		}
	case LockCompete:
		p := req.Prev
		if db.found && db.row.Owner == p.Owner && db.row.Term == p.Term && db.row.TermDuration == p.TermDuration && db.row.Expired(now) {
			next = LockRow{Owner: req.Owner, Modified: now, Duration: db.row.Duration, Term: db.row.Term + 1}
			apply = true
		}
	}
	if apply {
		b, _ := json.Marshal(next)
		if db.env.Disk().Truncate(lockFile, 0) != nil || db.env.Disk().WriteAt(lockFile, 0, b) != nil || db.env.Disk().Sync(lockFile) != nil {
			db.env.Exit("lock database: sync failed") // a failed fsync is fatal (the row may be gone)
			return LockResp{ID: req.ID, Found: db.found, Row: db.row, Now: now}
		}
		db.row, db.found = next, true
		db.env.Trace("registry/lock", req.Op.String(), next.Owner, next.Term)
	}
	return LockResp{ID: req.ID, Applied: apply, Found: db.found, Row: db.row, Now: now}
}
