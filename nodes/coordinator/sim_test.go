package coordinator

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

var mixed = Workload{TCCPPM: 200_000, AuditPPM: 100_000, SplitPPM: 300_000, Think: 30 * time.Millisecond}

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
		servers := append(append([]sim.NodeID(nil), d.cfg.TCs...), d.cfg.RMs...)
		var plan []sim.Fault
		for at := 500 * time.Millisecond; at < 5*time.Second; at += time.Duration(200+r.IntN(600)) * time.Millisecond {
			n := servers[r.IntN(len(servers))]
			switch r.IntN(4) {
			case 0:
				plan = append(plan, sim.Fault{At: sim.Duration(at), Kind: sim.FaultCrash, Nodes: []sim.NodeID{n}, Torn: true},
					sim.Fault{At: sim.Duration(at + time.Duration(100+r.IntN(900))*time.Millisecond), Kind: sim.FaultRestart, Nodes: []sim.NodeID{n}})
			case 1:
				plan = append(plan, sim.Fault{At: sim.Duration(at), Kind: sim.FaultPause, Nodes: []sim.NodeID{n}},
					sim.Fault{At: sim.Duration(at + time.Duration(100+r.IntN(1500))*time.Millisecond), Kind: sim.FaultResume, Nodes: []sim.NodeID{n}})
			case 2:
				plan = append(plan, sim.Fault{At: sim.Duration(at), Kind: sim.FaultPartition, Cuts: sim.Isolate(n, d.all())},
					sim.Fault{At: sim.Duration(at + time.Duration(100+r.IntN(1500))*time.Millisecond), Kind: sim.FaultHeal})
			case 3:
				plan = append(plan, sim.Fault{At: sim.Duration(at), Kind: sim.FaultClog, For: sim.Duration(time.Duration(100+r.IntN(900)) * time.Millisecond)})
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
