package rowdb

import (
	"fmt"
	"maps"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/sim"
)

// host is a node that only hosts a DB; tests drive it from world callbacks.
type host struct {
	sim.BaseNode
	env *sim.Env
	db  *DB
	rec Recovery
	err error
	cfg Config
}

func (h *host) Start(env *sim.Env) {
	h.env = env
	h.db, h.rec, h.err = Open(env, h.cfg)
}

func (h *host) Timer(_ sim.TimerID, tag any) { h.db.HandleTimer(tag) }

func newWorld(seed uint64, cfg Config) (*sim.World, func() *host) {
	w := sim.NewWorld(sim.Config{Seed: seed})
	w.AddNode("db", func() sim.Node { return &host{cfg: cfg} })
	return w, func() *host { return w.Node("db").(*host) }
}

func k(pk string) Key { return Key{"t", pk} }

// put commits one row in its own transaction.
func put(t require.TestingT, db *DB, key Key, v string) {
	tx := db.Begin()
	tx.Lock(key, func(err error) { require.NoError(t, err) })
	require.NoError(t, tx.Put(key, v))
	require.NoError(t, tx.Commit())
}

func TestCommitDurableRollbackNot(t *testing.T) {
	w, h := newWorld(1, Config{})
	w.Run(sim.Limits{Until: time.Millisecond})
	db := h().db
	put(t, db, k("a"), "1")
	tx := db.Begin()
	tx.Lock(k("b"), func(err error) { require.NoError(t, err) })
	require.NoError(t, tx.Put(k("b"), "2"))
	tx.Rollback()
	require.NoError(t, w.Inject(sim.Restart{Nodes: []sim.NodeID{"db"}, Torn: true}))
	db = h().db
	require.NoError(t, h().err)
	r, ok := db.Read(k("a"))
	require.True(t, ok)
	require.Equal(t, "1", r.Value)
	require.EqualValues(t, 1, r.Version)
	_, ok = db.Read(k("b"))
	require.False(t, ok)
	require.Empty(t, db.Locked())
}

func TestWriteNeedsLockAndInsertConflicts(t *testing.T) {
	w, h := newWorld(1, Config{})
	w.Run(sim.Limits{Until: time.Millisecond})
	db := h().db
	tx := db.Begin()
	require.ErrorIs(t, tx.Put(k("a"), "x"), ErrNotLocked)
	put(t, db, k("a"), "1")
	tx.Lock(k("a"), func(err error) { require.NoError(t, err) })
	require.ErrorIs(t, tx.Insert(k("a"), "2"), ErrExists)
	require.NoError(t, tx.Delete(k("a")))
	_, ok := tx.Get(k("a"))
	require.False(t, ok, "own delete visible")
	r, ok := db.Read(k("a"))
	require.True(t, ok, "others still see the committed row")
	require.Equal(t, "1", r.Value)
	require.NoError(t, tx.Commit())
	_, ok = db.Read(k("a"))
	require.False(t, ok)
}

func TestLockWaitGrantTimeoutDeadlock(t *testing.T) {
	w, h := newWorld(1, Config{LockWait: 100 * time.Millisecond})
	w.Run(sim.Limits{Until: time.Millisecond})
	db := h().db
	t1, t2, t3 := db.Begin(), db.Begin(), db.Begin()
	t1.Lock(k("a"), func(err error) { require.NoError(t, err) })
	t2.Lock(k("b"), func(err error) { require.NoError(t, err) })
	var got2 []error
	t2.Lock(k("a"), func(err error) { got2 = append(got2, err) })
	require.Empty(t, got2, "t2 waits for t1")
	var got1 []error
	t1.Lock(k("b"), func(err error) { got1 = append(got1, err) })
	require.Equal(t, []error{ErrDeadlock}, got1, "t1 -> t2 -> t1 is a cycle: the requester is the victim")
	var got3 []error
	t3.Lock(k("a"), func(err error) { got3 = append(got3, err) })
	require.NoError(t, t1.Put(k("a"), "1"))
	require.NoError(t, t1.Commit())
	require.Equal(t, []error{nil}, got2, "FIFO: t2 gets a first")
	require.True(t, t2.Holds(k("a")))
	w.Run(sim.Limits{Until: w.Now() + 150*time.Millisecond})
	require.Equal(t, []error{ErrLockTimeout}, got3, "t3 times out behind t2")
	t3.Rollback()
	t2.Rollback()
	require.Empty(t, db.Locked())
}

func TestRollbackOfWaiterCancelsItsWait(t *testing.T) {
	w, h := newWorld(1, Config{LockWait: 100 * time.Millisecond})
	w.Run(sim.Limits{Until: time.Millisecond})
	db := h().db
	t1, t2 := db.Begin(), db.Begin()
	t1.Lock(k("a"), func(error) {})
	called := 0
	t2.Lock(k("a"), func(error) { called++ })
	t2.Rollback()
	t1.Rollback()
	w.Run(sim.Limits{Until: w.Now() + time.Second})
	require.Zero(t, called)
	require.Empty(t, db.Locked())
}

func TestCheckpointSurvivesRestart(t *testing.T) {
	w, h := newWorld(3, Config{CheckpointBytes: 512})
	w.Run(sim.Limits{Until: time.Millisecond})
	for i := range 200 {
		put(t, h().db, k(strconv.Itoa(i%17)), strconv.Itoa(i))
	}
	size, _ := w.Disk("db").Size(walFile)
	require.Less(t, size, int64(2048), "the log was compacted")
	require.NoError(t, w.Inject(sim.Restart{Nodes: []sim.NodeID{"db"}}))
	db := h().db
	for i := 183; i < 200; i++ {
		r, ok := db.Read(k(strconv.Itoa(i % 17)))
		require.True(t, ok)
		require.Equal(t, strconv.Itoa(i), r.Value)
	}
	require.EqualValues(t, 200, db.LSN())
}

func TestCorruptionRefusesToOpen(t *testing.T) {
	w, h := newWorld(4, Config{})
	w.Run(sim.Limits{Until: time.Millisecond})
	put(t, h().db, k("a"), "1")
	put(t, h().db, k("b"), "2")
	require.NoError(t, w.Inject(sim.DiskCorrupt{Nodes: []sim.NodeID{"db"}, File: walFile}))
	require.NoError(t, w.Inject(sim.Restart{Nodes: []sim.NodeID{"db"}}))
	require.ErrorIs(t, h().err, ErrCorrupt)
}

// Under torn crashes, recovery yields exactly the state after some prefix of
// the commits, and that prefix contains every synced commit.
func TestTornCrashRecoversAPrefix(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		seed := rapid.Uint64().Draw(rt, "seed")
		w, h := newWorld(seed, Config{CheckpointBytes: int64(rapid.IntRange(200, 5000).Draw(rt, "ckpt"))})
		w.Run(sim.Limits{Until: time.Millisecond})
		var states []map[string]string // states[i]: after i commits
		cur := map[string]string{}
		states = append(states, clone(cur))
		lastSynced := 0
		rounds := rapid.IntRange(1, 3).Draw(rt, "rounds")
		for round := 0; round < rounds; round++ {
			db := h().db
			n := rapid.IntRange(1, 15).Draw(rt, "n")
			for i := 0; i < n; i++ {
				tx := db.Begin()
				for j := rapid.IntRange(1, 3).Draw(rt, "rows"); j > 0; j-- {
					key := k(fmt.Sprint(rapid.IntRange(0, 5).Draw(rt, "key")))
					tx.Lock(key, func(err error) { require.NoError(rt, err) })
					if rapid.Bool().Draw(rt, "del") {
						require.NoError(rt, tx.Delete(key))
						delete(cur, key.PK)
					} else {
						v := fmt.Sprint(rapid.IntRange(0, 1000).Draw(rt, "v"))
						require.NoError(rt, tx.Put(key, v))
						cur[key.PK] = v
					}
				}
				synced := rapid.Bool().Draw(rt, "synced")
				if synced {
					require.NoError(rt, tx.Commit())
				} else {
					require.NoError(rt, tx.CommitUnsynced())
				}
				states = append(states, clone(cur))
				if synced {
					lastSynced = len(states) - 1
				}
			}
			require.NoError(rt, w.Inject(sim.Restart{Nodes: []sim.NodeID{"db"}, Torn: true}))
			require.NoError(rt, h().err)
			got := map[string]string{}
			for _, kr := range h().db.Rows("t") {
				got[kr.Key.PK] = kr.Row.Value
			}
			match := -1
			for i := len(states) - 1; i >= lastSynced; i-- {
				if equal(states[i], got) {
					match = i
					break
				}
			}
			require.GreaterOrEqual(rt, match, lastSynced, "recovered %v is no prefix at or after the last synced commit %d", got, lastSynced)
			states, lastSynced, cur = states[:match+1], match, clone(states[match])
			// The truncated tail is gone for good: a second crash keeps it.
			require.NoError(rt, w.Inject(sim.Restart{Nodes: []sim.NodeID{"db"}, Torn: true}))
			got2 := map[string]string{}
			for _, kr := range h().db.Rows("t") {
				got2[kr.Key.PK] = kr.Row.Value
			}
			require.Equal(rt, got, got2)
		}
	})
}

func clone(m map[string]string) map[string]string { return maps.Clone(m) }

func equal(a, b map[string]string) bool { return maps.Equal(a, b) }
