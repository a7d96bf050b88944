package coordinator

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/sim"
)

var mixed = Workload{TCCPPM: 200_000, AuditPPM: 100_000, ReadPPM: 150_000, SplitPPM: 300_000, Think: 30 * time.Millisecond}

func TestRaftStore(t *testing.T) {
	v, d := twice(t, 2, opts{store: StoreRaft, tcs: 3, wl: mixed}, nil, 5*time.Second, 5*time.Second)
	require.Empty(t, v, summary(d))
	require.NotNil(t, d.serving())
	require.NotEmpty(t, d.serving().Finished())
}

// chaos crashes, restarts, pauses and partitions TCs and RMs during the
// load, torn writes included.
func chaos(seed uint64) scenario {
	return func(d *deployment) {
		r := d.w.Stream("chaos")
		servers := append(append(append([]sim.NodeID(nil), d.cfg.TCs...), d.cfg.RMs...), d.apps...)
		var plan []sim.Fault
		for at := 500 * time.Millisecond; at < 5*time.Second; at += time.Duration(200+r.IntN(600)) * time.Millisecond {
			n := servers[r.IntN(len(servers))]
			switch r.IntN(4) {
			case 0:
				plan = append(plan, sim.Fault{At: sim.Duration(at), Op: sim.Crash{Nodes: []sim.NodeID{n}, Torn: true}},
					sim.Fault{At: sim.Duration(at + time.Duration(100+r.IntN(900))*time.Millisecond), Op: sim.Restart{Nodes: []sim.NodeID{n}}})
			case 1:
				plan = append(plan, sim.Fault{At: sim.Duration(at), Op: sim.Pause{Nodes: []sim.NodeID{n}}},
					sim.Fault{At: sim.Duration(at + time.Duration(100+r.IntN(1500))*time.Millisecond), Op: sim.Resume{Nodes: []sim.NodeID{n}}})
			case 2:
				plan = append(plan, sim.Fault{At: sim.Duration(at), Op: sim.Partition{Cuts: sim.Isolate(n, d.all())}},
					sim.Fault{At: sim.Duration(at + time.Duration(100+r.IntN(1500))*time.Millisecond), Op: sim.Heal{}})
			case 3:
				plan = append(plan, sim.Fault{At: sim.Duration(at), Op: sim.Clog{For: sim.Duration(time.Duration(100+r.IntN(900)) * time.Millisecond)}})
			}
		}
		if err := d.w.Schedule(plan); err != nil {
			panic(err)
		}
	}
}

func TestChaosFileStore(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		v, d := twice(t, seed, opts{wl: mixed}, chaos(seed), 6*time.Second, 10*time.Second)
		require.Empty(t, v, "seed %d: %s", seed, summary(d))
	}
}

func TestChaosRaftStore(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		v, d := twice(t, seed, opts{store: StoreRaft, tcs: 3, wl: mixed}, chaos(seed), 6*time.Second, 10*time.Second)
		require.Empty(t, v, "seed %d: %s", seed, summary(d))
	}
}

// The raft store survives its leader's crashes: a new leader reloads the
// unfinished sessions and finishes them; xids stay unique.
func TestRaftLeaderFailover(t *testing.T) {
	var leaders []sim.NodeID
	plan := func(d *deployment) {
		for _, at := range []time.Duration{1500 * time.Millisecond, 3 * time.Second, 4500 * time.Millisecond} {
			d.w.At(at, func() {
				if tc := d.serving(); tc != nil {
					leaders = append(leaders, tc.id)
					_ = d.w.Inject(sim.Crash{Nodes: []sim.NodeID{tc.id}, Torn: true})
					id := tc.id
					d.w.After(700*time.Millisecond, func() { _ = d.w.Inject(sim.Restart{Nodes: []sim.NodeID{id}}) })
				}
			})
		}
	}
	for seed := uint64(1); seed <= 3; seed++ {
		leaders = nil
		v, d := twice(t, seed, opts{store: StoreRaft, tcs: 3, wl: mixed}, plan, 6*time.Second, 8*time.Second)
		require.Empty(t, v, "seed %d: %s", seed, summary(d))
		require.Len(t, leaders, 6, "two runs, three leader crashes each")
		fin := d.serving().Finished()
		require.Greater(t, len(fin), 40)
		committed := 0
		for _, s := range fin { //detlint:allow counting
			if s == StatusCommitted {
				committed++
			}
		}
		require.Greater(t, committed, 20)
	}
}

// discovery=registry: the TCs publish themselves to the registry, apps
// and RMs find them through it.
func TestRegistryDiscovery(t *testing.T) {
	run := func() (*deployment, uint64) {
		d := newDeploymentWith(5, opts{store: StoreRaft, tcs: 3, wl: mixed, registry: true})
		d.run(6 * time.Second)
		return d, d.w.Fingerprint()
	}
	d, fp := run()
	_, fp2 := run()
	require.Equal(t, fp, fp2)
	require.Empty(t, d.violations(false))
	found := 0
	for _, id := range d.apps {
		if a, ok := d.w.Node(id).(*App); ok && len(a.dsc.found) == 3 {
			found++
		}
	}
	require.Equal(t, len(d.apps), found, "every app found the three TCs through the registry")
	require.NotEmpty(t, d.serving().Finished())
}

// harsh adds clock jumps and skew (timeouts fire during commits), slow
// disks and packet loss to chaos.
func harsh(seed uint64) scenario {
	return func(d *deployment) {
		chaos(seed)(d)
		r := d.w.Stream("harsh")
		servers := append(append([]sim.NodeID(nil), d.cfg.TCs...), d.cfg.RMs...)
		var plan []sim.Fault
		for at := 300 * time.Millisecond; at < 5*time.Second; at += time.Duration(200+r.IntN(800)) * time.Millisecond {
			n := servers[r.IntN(len(servers))]
			switch r.IntN(4) {
			case 0:
				plan = append(plan, sim.Fault{At: sim.Duration(at), Op: sim.ClockJump{Nodes: []sim.NodeID{n}, Jump: sim.Duration(time.Duration(r.IntN(4000)-1000) * time.Millisecond)}})
			case 1:
				plan = append(plan, sim.Fault{At: sim.Duration(at), Op: sim.ClockSkew{Nodes: []sim.NodeID{n}, DriftPPM: int64(r.IntN(400_000) - 200_000)}})
			case 2:
				plan = append(plan, sim.Fault{At: sim.Duration(at), Op: sim.DiskSlow{Nodes: []sim.NodeID{n}, Delay: sim.Duration(time.Duration(1+r.IntN(50)) * time.Millisecond), For: sim.Duration(time.Second)}})
			case 3:
				plan = append(plan, sim.Fault{At: sim.Duration(at), Op: sim.Loss{LossPPM: int64(r.IntN(200_000)), For: sim.Duration(time.Second)}})
			}
		}
		if err := d.w.Schedule(plan); err != nil {
			panic(err)
		}
	}
}

func TestHarsh(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		for _, o := range []opts{{wl: mixed}, {wl: mixed, store: StoreRaft, tcs: 3}} {
			v, d := twice(t, seed, o, harsh(seed), 6*time.Second, 12*time.Second)
			require.Empty(t, v, "seed %d %s: %s", seed, o.store, summary(d))
		}
	}
}

// Group commit keeps every invariant under chaos and shares raft entries:
// a finished session costs clearly fewer entries than without it.
func TestChaosRaftStoreGroupCommit(t *testing.T) {
	perSession := func(seed uint64, window time.Duration) float64 {
		o := opts{store: StoreRaft, tcs: 3, apps: 8, wl: mixed, tune: func(c *Config) { c.GroupCommit = window }}
		v, d := twice(t, seed, o, chaos(seed), 6*time.Second, 10*time.Second)
		require.Empty(t, v, "seed %d: %s", seed, summary(d))
		tc := d.serving()
		require.NotNil(t, tc)
		fin := len(tc.Finished())
		require.Greater(t, fin, 50)
		return float64(tc.Raft().Status().Applied) / float64(fin)
	}
	for seed := uint64(1); seed <= 3; seed++ {
		alone, grouped := perSession(seed, 0), perSession(seed, 2*time.Millisecond)
		require.Less(t, grouped, 0.8*alone, "seed %d: raft entries per finished session", seed)
	}
}

func TestBatchCodec(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		parts := rapid.SliceOfN(rapid.SliceOf(rapid.Byte()), 0, 20).Draw(rt, "parts")
		got, err := decodeBatch(encodeBatch(parts))
		require.NoError(rt, err)
		require.Len(rt, got, len(parts))
		for i := range parts {
			require.Equal(rt, string(parts[i]), string(got[i]))
		}
		b := encodeBatch(parts)
		if len(parts) > 0 {
			_, err = decodeBatch(b[:len(b)-1])
			require.Error(rt, err)
		}
	})
}
