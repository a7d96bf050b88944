package registry

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

func newDBWorld(seed uint64, cfg Config) (*sim.World, Config) {
	w := sim.NewWorld(sim.Config{Seed: seed})
	cfg.Metas = []sim.NodeID{"meta-1", "meta-2", "meta-3"}
	cfg.Data = []sim.NodeID{"data-1", "data-2"}
	cfg.Sessions = []sim.NodeID{"session-1"}
	cfg.Slots = 16
	cfg.Election, cfg.Lease = ElectionDB, RealMetaLease
	cfg.defaults()
	AddServers(w, cfg)
	return w, cfg
}

// believers are the metas that act as meta leader now.
func believers(w *sim.World, cfg Config) []sim.NodeID {
	var out []sim.NodeID
	for _, id := range cfg.Metas {
		if m, ok := w.Node(id).(*MetaServer); ok && m.Status().MetaLeader {
			out = append(out, id)
		}
	}
	return out
}

// watch samples the believers every 100 ms and keeps the most seen at once.
func watch(w *sim.World, cfg Config, until time.Duration) *int {
	most := new(int)
	var f func()
	f = func() {
		*most = max(*most, len(believers(w, cfg)))
		if w.Now() < until {
			w.After(100*time.Millisecond, f)
		}
	}
	w.At(100*time.Millisecond, f)
	return most
}

func leaderTable(w *sim.World, cfg Config) Table {
	for _, id := range believers(w, cfg) {
		return w.Node(id).(*MetaServer).Table()
	}
	return Table{}
}

// TestDBElectionFailover: the first meta to insert the lock row leads at
// once (no table to lose); when it crashes, a follower takes the lock over
// only after the lock duration on the database's clock, re-learns the
// table from the data servers, and changes nothing during its warm-up.
func TestDBElectionFailover(t *testing.T) {
	w, cfg := newDBWorld(3, Config{})
	most := watch(w, cfg, 80*time.Second)
	w.Run(sim.Limits{Until: 5 * time.Second})
	first := believers(w, cfg)
	require.Len(t, first, 1)
	t1 := leaderTable(w, cfg)
	require.Len(t, t1.Data, 2)
	require.Equal(t, string(first[0]), w.Node("lockdb").(*LockDB).row.Owner)

	crashAt := w.Now()
	require.NoError(t, w.Inject(sim.Crash{Nodes: first}))
	w.Run(sim.Limits{Until: crashAt + cfg.LockDuration - time.Second})
	require.Empty(t, believers(w, cfg), "no takeover before the lock expires on the database's clock")
	w.Run(sim.Limits{Until: crashAt + cfg.LockDuration + 3*time.Second})
	next := believers(w, cfg)
	require.Len(t, next, 1)
	require.NotEqual(t, first[0], next[0])
	m := w.Node(next[0]).(*MetaServer)
	// The members find it once their heartbeat to the dead leader times out
	// (MetaTimeout) and an ask names the new one.
	w.Run(sim.Limits{Until: w.Now() + cfg.MetaTimeout + 2*time.Second})
	require.True(t, m.Status().WarmingUp)
	require.Equal(t, t1.Epoch, m.Table().Epoch, "re-learned from the data servers' heartbeats, unchanged while warming up")
	require.Equal(t, uint64(2), m.Status().Term)

	// A data server crashes during the warm-up: only after it does the new
	// leader evict it and move its slots.
	require.NoError(t, w.Inject(sim.Crash{Nodes: []sim.NodeID{"data-2"}}))
	w.Run(sim.Limits{Until: w.Now() + 20*time.Second})
	require.Equal(t, t1.Epoch, m.Table().Epoch)
	w.Run(sim.Limits{Until: 80 * time.Second})
	t2 := m.Table()
	require.Greater(t, t2.Epoch, t1.Epoch)
	require.Equal(t, []Proc{{ID: "data-1", Inc: 1}}, t2.Data)
	for _, s := range t2.Slots {
		require.Equal(t, "data-1", s.Leader.ID)
	}
	require.Equal(t, 1, *most, "never two meta leaders at once")
	require.Empty(t, w.Findings())
}

// TestDBElectionStallAndClocks: a leader cut off from the database
// is replaced and stops believing before the
// takeover; a leader whose clock falls behind the database's by less
// than duration/2 never overlaps the next one, by more it does: the bound
// of the lock's promise. With the lease bug it overlaps without any clock
// fault.
func TestDBElectionStallAndClocks(t *testing.T) {
	for _, tc := range []struct {
		name    string
		jump    time.Duration // the leader's clock, just before it is cut off from the database
		bug     bool
		overlap bool
	}{
		{"cut-off", 0, false, false},
		{"clock-behind-within-bound", -8 * time.Second, false, false},
		{"clock-behind-past-bound", -15 * time.Second, false, true},
		{"lease-bug", 0, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, cfg := newDBWorld(5, Config{})
			if tc.bug {
				require.NoError(t, w.Inject(sim.ArmFailpoint{Failpoint: BugLeaseSkew}))
			}
			most := watch(w, cfg, 60*time.Second)
			w.Run(sim.Limits{Until: 5 * time.Second})
			lead := believers(w, cfg)
			require.Len(t, lead, 1)
			if tc.jump != 0 {
				require.NoError(t, w.Inject(sim.ClockJump{Nodes: lead, Jump: sim.Duration(tc.jump)}))
			}
			others := []sim.NodeID{"lockdb"}
			for _, id := range cfg.Metas {
				if id != lead[0] {
					others = append(others, id)
				}
			}
			require.NoError(t, w.Inject(sim.Partition{Cuts: sim.Split(lead, others)}))
			w.Run(sim.Limits{Until: 60 * time.Second})
			next := believers(w, cfg)
			require.Len(t, next, 1)
			require.NotEqual(t, lead[0], next[0])
			if tc.overlap {
				require.Equal(t, 2, *most)
			} else {
				require.Equal(t, 1, *most)
			}
		})
	}
}

// TestLockDBCompareAndSet: a takeover applies only on the row the
// follower read, once expired; a renewal only by the owner.
func TestLockDBCompareAndSet(t *testing.T) {
	w := sim.NewWorld(sim.Config{Seed: 1})
	db := &LockDB{}
	w.AddNode("lockdb", func() sim.Node { return db })
	w.Run(sim.Limits{Until: time.Millisecond})
	ins := db.run(LockReq{Op: LockInsert, Owner: "a", Duration: 20000})
	require.True(t, ins.Applied)
	require.False(t, db.run(LockReq{Op: LockInsert, Owner: "b", Duration: 20000}).Applied)
	require.False(t, db.run(LockReq{Op: LockCompete, Owner: "b", Prev: ins.Row}).Applied, "not expired")
	require.False(t, db.run(LockReq{Op: LockHeartbeat, Owner: "b"}).Applied)
	w.Run(sim.Limits{Until: 10 * time.Second})
	hb := db.run(LockReq{Op: LockHeartbeat, Owner: "a"})
	require.True(t, hb.Applied)
	require.Equal(t, uint64(1), hb.Row.TermDuration)
	w.Run(sim.Limits{Until: 40 * time.Second})
	require.False(t, db.run(LockReq{Op: LockCompete, Owner: "b", Prev: ins.Row}).Applied, "a renewal came between: stale row")
	got := db.run(LockReq{Op: LockCompete, Owner: "b", Prev: hb.Row})
	require.True(t, got.Applied)
	require.Equal(t, LockRow{Owner: "b", Modified: got.Now, Duration: 20000, Term: 1}, got.Row)
	require.False(t, db.run(LockReq{Op: LockCompete, Owner: "c", Prev: hb.Row}).Applied)
}

// TestDBElectionProtectionMode: with every data server gone the leader
// keeps them and their slots in the table (protection mode) instead of
// emptying it; when they come back they are served by the table they
// knew.
func TestDBElectionProtectionMode(t *testing.T) {
	w, cfg := newDBWorld(7, Config{})
	w.Run(sim.Limits{Until: 5 * time.Second})
	before := leaderTable(w, cfg)
	require.Len(t, before.Data, 2)
	require.NoError(t, w.Inject(sim.Crash{Nodes: cfg.Data}))
	w.Run(sim.Limits{Until: 5*time.Second + cfg.Lease + 10*time.Second})
	during := leaderTable(w, cfg)
	require.Equal(t, before.Data, during.Data, "protection mode: the data servers stay")
	require.Equal(t, before.Slots, during.Slots)
}

// TestDBElectionDatabaseClockBehind: the lock database's clock 12 s
// behind the metas' (more than duration/2): each renewal is trusted for
// less than the elect interval, so the leader loses the lock's trust
// between renewals and stops renewing; the cluster goes without a stable
// leader. This is SOFARegistry's own behaviour (the elector compares the
// database's gmt_modified with the meta's clock), the bound the
// meta-lease checker states.
func TestDBElectionDatabaseClockBehind(t *testing.T) {
	w, cfg := newDBWorld(9, Config{})
	w.Run(sim.Limits{Until: 5 * time.Second})
	require.Len(t, believers(w, cfg), 1)
	require.NoError(t, w.Inject(sim.ClockJump{Nodes: []sim.NodeID{cfg.LockDB}, Jump: sim.Duration(-12 * time.Second)}))
	led := 0
	for i := 0; i < 600; i++ {
		w.Run(sim.Limits{Until: w.Now() + 100*time.Millisecond})
		if len(believers(w, cfg)) > 0 {
			led++
		}
	}
	require.Less(t, led, 100, "a leader for %d of 600 samples over 60 s", led)
}
