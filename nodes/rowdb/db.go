package rowdb

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// Errors of transactions.
var (
	ErrDeadlock    = errors.New("rowdb: deadlock (this transaction is the victim)")
	ErrLockTimeout = errors.New("rowdb: lock wait timeout")
	ErrNotLocked   = errors.New("rowdb: write without holding the row lock")
	ErrExists      = errors.New("rowdb: duplicate key")
	ErrNotFound    = errors.New("rowdb: no such row")
	ErrDone        = errors.New("rowdb: transaction already ended")
	ErrSyncFailed  = errors.New("rowdb: WAL sync failed (fatal)")
	ErrBusy        = errors.New("rowdb: transaction is waiting for a lock")
)

// Key names a row: table and primary key.
type Key struct{ Table, PK string }

// String is the lock-key form "table:pk".
func (k Key) String() string { return k.Table + ":" + k.PK }

func (k Key) compare(o Key) int {
	if c := cmp.Compare(k.Table, o.Table); c != 0 {
		return c
	}
	return cmp.Compare(k.PK, o.PK)
}

// Row is a committed row: its value and the LSN of the commit that last
// wrote it.
type Row struct {
	Value   string
	Version uint64
}

// Config configures a DB.
type Config struct {
	// LockWait bounds a lock wait (default 200ms).
	LockWait time.Duration
	// CheckpointBytes: the WAL is rewritten as one checkpoint once it grows
	// past this size (default 256 KiB).
	CheckpointBytes int64
}

// Recovery reports what Open found on disk.
type Recovery struct {
	Records   int   // records replayed
	Rows      int   // rows after replay
	TornBytes int64 // torn tail truncated
}

// DB is one node's row store. It lives in one process incarnation.
type DB struct {
	env     *sim.Env
	disk    *sim.Disk
	cfg     Config
	rows    map[Key]Row
	locks   map[Key]*lock
	lsn     uint64
	nextTx  uint64
	walSize int64
	// ckptSize is the last checkpoint's size: the log is rewritten only
	// once it has doubled past it, so checkpoints cost amortised linear
	// time however many rows there are (Redis's AOF rewrite rule).
	ckptSize int64
	buf      []byte
	dead     bool
}

type lock struct {
	holder  *Tx
	waiters []*waiter
}

type waiter struct {
	tx    *Tx
	key   Key
	done  func(error)
	timer sim.TimerID
}

// lockTimeout is the DB's timer tag.
type lockTimeout struct{ w *waiter }

// Open recovers the DB from env's disk.
func Open(env *sim.Env, cfg Config) (*DB, Recovery, error) {
	if cfg.LockWait <= 0 {
		cfg.LockWait = 200 * time.Millisecond
	}
	if cfg.CheckpointBytes <= 0 {
		cfg.CheckpointBytes = 256 << 10
	}
	db := &DB{env: env, disk: env.Disk(), cfg: cfg, rows: map[Key]Row{}, locks: map[Key]*lock{}}
	var rec Recovery
	data, err := db.disk.ReadFile(walFile)
	if err != nil && !errors.Is(err, sim.ErrNotExist) {
		return nil, rec, err
	}
	recs, valid, err := readLog(data)
	if err != nil {
		env.Trace("rowdb/fatal", err.Error())
		return nil, rec, err
	}
	for _, r := range recs {
		if r.typ == recCheckpoint {
			clear(db.rows)
		}
		db.apply(r.writes)
		db.lsn = max(db.lsn, r.lsn)
	}
	if valid < len(data) {
		rec.TornBytes = int64(len(data) - valid)
		if err := db.disk.Truncate(walFile, int64(valid)); err != nil {
			return nil, rec, err
		}
		if err := db.disk.Sync(walFile); err != nil {
			env.Exit("rowdb: sync failed at recovery")
			return nil, rec, ErrSyncFailed
		}
	}
	db.walSize = int64(valid)
	rec.Records, rec.Rows = len(recs), len(db.rows)
	env.Trace("rowdb/recovered", rec.Records, rec.Rows, rec.TornBytes)
	return db, rec, nil
}

func (db *DB) apply(ws []write) {
	for _, w := range ws {
		if w.deleted {
			delete(db.rows, w.key)
		} else {
			db.rows[w.key] = w.row
		}
	}
}

// Read returns the committed row, without locking.
func (db *DB) Read(k Key) (Row, bool) {
	r, ok := db.rows[k]
	return r, ok
}

// LSN is the sequence number of the last commit.
func (db *DB) LSN() uint64 { return db.lsn }

// Begin starts a transaction.
func (db *DB) Begin() *Tx {
	db.nextTx++
	return &Tx{db: db, id: db.nextTx, held: map[Key]bool{}, writes: map[Key]*write{}}
}

// Tx is a local transaction.
type Tx struct {
	db      *DB
	id      uint64
	held    map[Key]bool
	writes  map[Key]*write
	order   []Key
	waiting *waiter
	ended   bool
}

// ID numbers the transaction within this incarnation.
func (tx *Tx) ID() uint64 { return tx.id }

// Lock takes the row's exclusive lock. done runs synchronously when the
// lock is free or already held, or with ErrDeadlock; otherwise later, with
// nil or ErrLockTimeout. One lock request at a time per transaction.
func (tx *Tx) Lock(k Key, done func(error)) {
	db := tx.db
	switch {
	case tx.ended:
		done(ErrDone)
		return
	case tx.waiting != nil:
		done(ErrBusy)
		return
	case tx.held[k]:
		done(nil)
		return
	}
	l := db.locks[k]
	if l == nil {
		db.locks[k] = &lock{holder: tx}
		tx.held[k] = true
		done(nil)
		return
	}
	if db.closesCycle(tx, l.holder) {
		done(ErrDeadlock)
		return
	}
	w := &waiter{tx: tx, key: k, done: done}
	w.timer = db.env.SetTimer(db.cfg.LockWait, lockTimeout{w})
	l.waiters = append(l.waiters, w)
	tx.waiting = w
}

// closesCycle reports whether tx waiting for holder closes a cycle of the
// wait-for graph (each transaction waits for at most one lock).
func (db *DB) closesCycle(tx, holder *Tx) bool {
	for t, n := holder, 0; t != nil && n <= len(db.locks); n++ {
		if t == tx {
			return true
		}
		if t.waiting == nil {
			return false
		}
		t = db.locks[t.waiting.key].holder
	}
	return false
}

// HandleTimer handles the DB's timers; it reports whether tag was one.
func (db *DB) HandleTimer(tag any) bool {
	lt, ok := tag.(lockTimeout)
	if !ok {
		return false
	}
	w := lt.w
	if w.tx.waiting != w {
		return true
	}
	l := db.locks[w.key]
	l.waiters = slices.DeleteFunc(l.waiters, func(x *waiter) bool { return x == w })
	w.tx.waiting = nil
	w.done(ErrLockTimeout)
	return true
}

// GetForUpdate locks the row, then reads it as the transaction sees it.
func (tx *Tx) GetForUpdate(k Key, done func(Row, bool, error)) {
	tx.Lock(k, func(err error) {
		if err != nil {
			done(Row{}, false, err)
			return
		}
		r, ok := tx.Get(k)
		done(r, ok, nil)
	})
}

// Get reads the row as the transaction sees it: its own writes, else the
// committed row. Its Version is 0 for a row the transaction wrote.
func (tx *Tx) Get(k Key) (Row, bool) {
	if w := tx.writes[k]; w != nil {
		return w.row, !w.deleted
	}
	return tx.db.Read(k)
}

// Holds reports whether the transaction holds the row's lock.
func (tx *Tx) Holds(k Key) bool { return tx.held[k] }

func (tx *Tx) write(k Key, deleted bool, v string) error {
	if tx.ended {
		return ErrDone
	}
	if !tx.held[k] {
		return ErrNotLocked
	}
	if tx.writes[k] == nil {
		tx.order = append(tx.order, k)
	}
	tx.writes[k] = &write{key: k, deleted: deleted, row: Row{Value: v}}
	return nil
}

// Put writes the row (insert or update); the lock must be held.
func (tx *Tx) Put(k Key, v string) error { return tx.write(k, false, v) }

// Insert writes a new row; ErrExists if the row exists.
func (tx *Tx) Insert(k Key, v string) error {
	if _, ok := tx.Get(k); ok && tx.held[k] {
		return ErrExists
	}
	return tx.write(k, false, v)
}

// Restore writes a row back with the version it had (an undo restoring a
// before image); the lock must be held.
func (tx *Tx) Restore(k Key, r Row) error {
	if err := tx.write(k, false, r.Value); err != nil {
		return err
	}
	tx.writes[k].row.Version = r.Version
	return nil
}

// Delete removes the row; the lock must be held.
func (tx *Tx) Delete(k Key) error { return tx.write(k, true, "") }

// Commit makes the writes durable (WAL append and sync), visible, and
// releases the locks.
func (tx *Tx) Commit() error { return tx.commit(true) }

// CommitUnsynced is Commit without the sync: the writes are visible at once
// but a crash may lose them. Only planted bugs use it.
func (tx *Tx) CommitUnsynced() error { return tx.commit(false) }

func (tx *Tx) commit(sync bool) error {
	if tx.ended {
		return ErrDone
	}
	if tx.waiting != nil {
		return ErrBusy
	}
	db := tx.db
	if db.dead {
		return ErrSyncFailed
	}
	if len(tx.order) > 0 {
		lsn := db.lsn + 1
		r := record{typ: recCommit, lsn: lsn, writes: make([]write, 0, len(tx.order))}
		for _, k := range tx.order {
			w := *tx.writes[k]
			if w.row.Version == 0 {
				w.row.Version = lsn
			}
			r.writes = append(r.writes, w)
		}
		db.buf = appendRecord(db.buf[:0], &r)
		if _, err := db.disk.Append(walFile, db.buf); err != nil {
			return db.fatal(err)
		}
		if sync {
			if err := db.disk.Sync(walFile); err != nil {
				return db.fatal(err)
			}
		}
		db.walSize += int64(len(db.buf))
		db.lsn = lsn
		db.apply(r.writes)
	}
	tx.end()
	if db.walSize > db.cfg.CheckpointBytes && db.walSize > 2*db.ckptSize {
		db.checkpoint()
	}
	return nil
}

func (db *DB) fatal(err error) error {
	db.dead = true
	db.env.Trace("rowdb/fatal", err.Error())
	db.env.Exit("rowdb: " + err.Error())
	return ErrSyncFailed
}

// checkpoint rewrites the WAL as one record holding every row.
func (db *DB) checkpoint() {
	r := record{typ: recCheckpoint, lsn: db.lsn}
	for _, k := range slices.SortedFunc(maps.Keys(db.rows), Key.compare) {
		r.writes = append(r.writes, write{key: k, row: db.rows[k]})
	}
	b := appendRecord(nil, &r)
	_ = db.disk.Remove(walTmpFile)
	if err := db.disk.WriteAt(walTmpFile, 0, b); err != nil {
		db.fatal(err)
		return
	}
	if err := db.disk.Sync(walTmpFile); err != nil {
		db.fatal(err)
		return
	}
	if err := db.disk.Rename(walTmpFile, walFile); err != nil {
		db.fatal(err)
		return
	}
	db.walSize = int64(len(b))
	db.ckptSize = db.walSize
}

// Rollback discards the writes and releases the locks. It is idempotent.
func (tx *Tx) Rollback() {
	if tx.ended {
		return
	}
	if w := tx.waiting; w != nil {
		l := tx.db.locks[w.key]
		l.waiters = slices.DeleteFunc(l.waiters, func(x *waiter) bool { return x == w })
		tx.db.env.CancelTimer(w.timer)
		tx.waiting = nil
	}
	tx.end()
}

// end releases the locks, handing each to its first waiter, then tells
// the new holders (after every lock is settled, so callbacks see a
// consistent table).
func (tx *Tx) end() {
	tx.ended = true
	db := tx.db
	var granted []*waiter
	for _, k := range slices.SortedFunc(maps.Keys(tx.held), Key.compare) {
		l := db.locks[k]
		if len(l.waiters) == 0 {
			delete(db.locks, k)
			continue
		}
		w := l.waiters[0]
		l.waiters = l.waiters[1:]
		l.holder = w.tx
		w.tx.held[k] = true
		w.tx.waiting = nil
		db.env.CancelTimer(w.timer)
		granted = append(granted, w)
	}
	tx.held = nil
	for _, w := range granted {
		w.done(nil)
	}
}

// Rows lists the committed rows of a table in key order (inspection).
func (db *DB) Rows(table string) []KeyRow {
	var out []KeyRow
	for k, r := range db.rows { //detlint:allow sorted below
		if k.Table == table {
			out = append(out, KeyRow{k, r})
		}
	}
	// Filtered before sorting: the RM sweeps its small undo table every
	// two seconds beside an ever-growing fence table.
	slices.SortFunc(out, func(a, b KeyRow) int { return a.Key.compare(b.Key) })
	return out
}

// KeyRow is a row with its key.
type KeyRow struct {
	Key Key
	Row Row
}

// Locked lists the rows locked by open transactions, in key order.
func (db *DB) Locked() []Key { return slices.SortedFunc(maps.Keys(db.locks), Key.compare) }

func (k Key) GoString() string { return fmt.Sprintf("%q", k.String()) }
