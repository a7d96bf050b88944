package coordinator

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// bugCase is a planted bug with a deployment and plan that expose it.
type bugCase struct {
	bug   string
	o     opts
	plan  func(seed uint64) scenario
	seeds uint64
}

func bugCases() []bugCase {
	tight := func(c *Config) { c.TxTimeout = 400 * time.Millisecond; c.RecoveryInterval = 100 * time.Millisecond }
	return []bugCase{
		{bug: BugRegisterAfterRollback, o: opts{wl: mixed, tune: tight}, plan: chaos, seeds: 8},
		{bug: BugTimeoutCommitRace, o: opts{wl: mixed, tune: tight}, plan: chaos, seeds: 8},
		{bug: BugUndoNotDurable, o: opts{wl: Workload{Think: 200 * time.Millisecond}, apps: 2}, plan: rmCrashes, seeds: 10},
		{bug: BugNoReloadRollbacking, o: opts{wl: mixed}, plan: tcRestartDuringRollback, seeds: 8},
		{bug: BugNoReloadRollbacking, o: opts{wl: mixed, store: StoreRaft, tcs: 3}, plan: tcRestartDuringRollback, seeds: 8},
		{bug: BugDeadlockSwallowed, o: opts{wl: Workload{Think: 10 * time.Millisecond, SplitPPM: 300_000}, apps: 8, tune: func(c *Config) { c.Accounts = 2 }}, plan: chaos, seeds: 8},
		{bug: BugTCCNoSuspend, o: opts{wl: Workload{TCCPPM: 800_000}}, plan: chaos, seeds: 8},
		{bug: BugRollbackRegistrationOrder, o: opts{wl: Workload{SplitPPM: 1_000_000, AuditPPM: 100_000}, apps: 6}, plan: chaos, seeds: 8},
		{bug: BugOrphanBranch, o: opts{wl: mixed, tune: func(c *Config) { c.RPCTimeout = 200 * time.Millisecond }}, plan: chaos, seeds: 8},
	}
}

// Every planted bug breaks an invariant in at least one seed of a small
// loop, and each detecting seed is deterministic.
func TestPlantedBugsAreFound(t *testing.T) {
	for _, bc := range bugCases() {
		t.Run(bc.bug+"/"+string(bc.o.store), func(t *testing.T) {
			o := bc.o
			o.bugs = []string{bc.bug}
			for seed := uint64(1); seed <= bc.seeds; seed++ {
				v, _, _ := simulate(seed, o, bc.plan(seed), 6*time.Second, 10*time.Second)
				if len(v) > 0 {
					t.Logf("seed %d: %s", seed, v[0])
					v2, _ := twice(t, seed, o, bc.plan(seed), 6*time.Second, 10*time.Second)
					require.Equal(t, v, v2)
					return
				}
			}
			t.Fatalf("%s not found in %d seeds", bc.bug, bc.seeds)
		})
	}
}

// rmCrashes crashes a random RM every few hundred milliseconds (torn).
func rmCrashes(uint64) scenario {
	return func(d *deployment) {
		r := d.w.Stream("rm-crashes")
		var plan []sim.Fault
		for at := 300 * time.Millisecond; at < 5*time.Second; at += time.Duration(100+r.IntN(300)) * time.Millisecond {
			n := d.cfg.RMs[r.IntN(len(d.cfg.RMs))]
			plan = append(plan, sim.Fault{At: sim.Duration(at), Op: sim.Crash{Nodes: []sim.NodeID{n}, Torn: true}},
				sim.Fault{At: sim.Duration(at + time.Duration(20+r.IntN(100))*time.Millisecond), Op: sim.Restart{Nodes: []sim.NodeID{n}}})
		}
		if err := d.w.Schedule(plan); err != nil {
			panic(err)
		}
	}
}

// tcRestartDuringRollback takes an RM down so that rollbacks retry, and
// restarts the TCs (every one: file store or raft) meanwhile.
func tcRestartDuringRollback(uint64) scenario {
	return func(d *deployment) {
		r := d.w.Stream("tc-restart")
		var plan []sim.Fault
		for at := time.Second; at < 5*time.Second; at += 2 * time.Second {
			rm := d.cfg.RMs[r.IntN(len(d.cfg.RMs))]
			plan = append(plan, sim.Fault{At: sim.Duration(at), Op: sim.Crash{Nodes: []sim.NodeID{rm}}},
				sim.Fault{At: sim.Duration(at + 1500*time.Millisecond), Op: sim.Restart{Nodes: []sim.NodeID{rm}}})
			for i, tc := range d.cfg.TCs {
				t := at + time.Second + time.Duration(i)*100*time.Millisecond
				plan = append(plan, sim.Fault{At: sim.Duration(t), Op: sim.Restart{Nodes: []sim.NodeID{tc}}})
			}
		}
		if err := d.w.Schedule(plan); err != nil {
			panic(err)
		}
	}
}

// The plans that find the bugs find nothing with no bug armed.
func TestBugPlansPassWithoutBugs(t *testing.T) {
	for _, bc := range bugCases() {
		for seed := uint64(1); seed <= 4; seed++ {
			v, _, d := simulate(seed, bc.o, bc.plan(seed), 6*time.Second, 10*time.Second)
			require.Empty(t, v, "plan of %s, seed %d: %s", bc.bug, seed, summary(d))
		}
	}
}
