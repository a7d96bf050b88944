package coordinator

import (
	"sort"
	"time"

	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

// The coordinator's own nemesis families, beside scenarios.DrawFaults'.
const (
	// familyTCLeaderCrash: the serving TC crashes, torn or not, and either
	// restarts at once from its log or stays down until the heal.
	familyTCLeaderCrash = "tc-leader-crash"
	// familyTCRestartMidRollback: an RM goes down so that rollbacks wait
	// and retry, and every TC restarts meanwhile: the new TC must reload
	// and finish the rolling-back sessions (seata#1180).
	familyTCRestartMidRollback = "tc-restart-mid-rollback"
	// familyRMCrashBurst: an RM crashes with torn writes every few hundred
	// milliseconds for a while, each time restarting soon after: crashes
	// land mid phase one and mid phase two, with torn WAL tails.
	familyRMCrashBurst = "rm-crash-burst"
	// familyAppCrash: an application crashes mid transaction and restarts;
	// its transaction is abandoned and must time out.
	familyAppCrash = "app-crash"
	// familySlowBranch: an RM stops for 0.3 to 4 seconds (a long GC pause):
	// its branches outlive their transactions' timeouts.
	familySlowBranch = "slow-branch"
	// familyClockTimeout: the serving TC's clock jumps ahead by one to
	// three transaction timeouts, or runs 20-60% fast for a while, so the
	// timeout check fires while transactions commit.
	familyClockTimeout = "clock-timeout"
	// familyRegisterTimeout: messages between the RMs and the TCs are held
	// up for 0.2 to 2 seconds: register and report RPCs time out, leaving
	// orphan branches.
	familyRegisterTimeout = "register-timeout"
	// familyAppRMCut: messages from the applications to one RM are held up
	// past the transaction timeout: a TCC try arrives after its cancel.
	familyAppRMCut = "app-rm-cut"
	// familyDisk: an RM's or TC's syncs get slow, or one fails (fatal to
	// the process, which restarts and recovers). Corruption at rest is left
	// out: an RM's database or a file-store TC has no replica to repair it.
	familyDisk = "disk-slow-fail"
)

// nemesis is what a scenario's fault families draw against.
type nemesis struct {
	families []string // generic (scenarios.Family*) and own
	targets  string   // generic families' targets: "tc", "rm" or "all"
	episodes int
	// commitRaces is the most commit-timeout episodes (drawn after every
	// other fault, so adding them leaves the earlier draws alone).
	commitRaces int
}

func own(f string) bool {
	switch f {
	case familyTCLeaderCrash, familyTCRestartMidRollback, familyRMCrashBurst, familyAppCrash, familySlowBranch,
		familyClockTimeout, familyRegisterTimeout, familyAppRMCut, familyDisk:
		return true
	}
	return false
}

func (n nemesis) draw(t *rapid.T, tp topo, d, txTimeout time.Duration) []scenarios.Step {
	var generic, mine []string
	for _, f := range n.families {
		if own(f) {
			mine = append(mine, f)
		} else {
			generic = append(generic, f)
		}
	}
	targets := tp.members()
	switch n.targets {
	case "tc":
		targets = tp.cfg.TCs
	case "rm":
		targets = tp.cfg.RMs
	}
	var steps []scenarios.Step
	if len(generic) > 0 {
		steps = scenarios.DrawFaults(t, scenarios.NemesisSpec{Members: targets, All: tp.all(), Families: generic, Duration: d, MaxEpisode: n.episodes})
	}
	if len(mine) > 0 {
		window := max(1, int64(d)*8/10/int64(time.Millisecond))
		k := rapid.IntRange(0, n.episodes).Draw(t, "coordinator-episodes")
		for i := 0; i < k; i++ {
			at := ms(t, 0, window, "at-ms")
			steps = append(steps, drawOwn(t, rapid.SampledFrom(mine).Draw(t, "coordinator-family"), tp, at, d, txTimeout)...)
		}
	}
	if n.commitRaces > 0 {
		window := max(1, int64(d)*7/10/int64(time.Millisecond))
		k := rapid.IntRange(0, n.commitRaces).Draw(t, "commit-timeout-episodes")
		for i := 0; i < k; i++ {
			at := ms(t, 0, window, "at-ms")
			steps = append(steps, drawCommitTimeout(t, tp, at, txTimeout)...)
		}
	}
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].At < steps[j].At })
	return steps
}

// drawCommitTimeout: phase two is held up (TC→RM traffic delayed, as
// behind a slow link or a GC-paused RM proxy) while the transactions
// decided meanwhile wait to commit, and the serving TC's clock jumps past
// their timeout before the hold ends: the timeout check meets sessions
// that are committing (seata#5404's window, which is otherwise a few
// milliseconds wide).
func drawCommitTimeout(t *rapid.T, tp topo, at, txTimeout time.Duration) []scenarios.Step {
	hold := ms(t, 200, 1500, "commit-hold-ms")
	rms := tp.cfg.RMs
	if rapid.Bool().Draw(t, "one-rm") {
		rms = []sim.NodeID{rapid.SampledFrom(rms).Draw(t, "rm")}
	}
	jump := step(at+ms(t, 50, hold.Milliseconds(), "jump-after-ms"),
		sim.ClockJump{Jump: sim.Duration(txTimeout * time.Duration(rapid.Int64Range(100, 200).Draw(t, "jump-percent-of-timeout")) / 100)})
	jump.Target = "leader"
	return []scenarios.Step{step(at, sim.Clog{Cuts: sim.OneWay(tp.cfg.TCs, rms), For: sim.Duration(hold)}), jump}
}

func ms(t *rapid.T, lo, hi int64, label string) time.Duration {
	return time.Duration(rapid.Int64Range(lo, hi).Draw(t, label)) * time.Millisecond
}

func step(at time.Duration, op sim.FaultOp) scenarios.Step {
	return scenarios.Step{Fault: sim.Fault{At: sim.Duration(at), Op: op}}
}

func drawOwn(t *rapid.T, fam string, tp topo, at, d, txTimeout time.Duration) []scenarios.Step {
	one := func(ids []sim.NodeID, label string) []sim.NodeID {
		return []sim.NodeID{rapid.SampledFrom(ids).Draw(t, label)}
	}
	switch fam {
	case familyTCLeaderCrash:
		s := step(at, sim.Crash{Torn: rapid.Bool().Draw(t, "torn")})
		if rapid.Bool().Draw(t, "restart-at-once") {
			s = step(at, sim.Restart{Torn: rapid.Bool().Draw(t, "torn")})
		}
		s.Target = "leader"
		return []scenarios.Step{s}
	case familyTCRestartMidRollback:
		rm := one(tp.cfg.RMs, "rm")
		down := ms(t, 800, 3000, "rm-down-ms")
		out := []scenarios.Step{step(at, sim.Crash{Nodes: rm}), step(at+down, sim.Restart{Nodes: rm})}
		restart := at + ms(t, 100, down.Milliseconds(), "tc-restart-ms")
		for i, tc := range tp.cfg.TCs {
			out = append(out, step(restart+time.Duration(i)*100*time.Millisecond, sim.Restart{Nodes: []sim.NodeID{tc}, Torn: rapid.Bool().Draw(t, "torn")}))
		}
		return out
	case familyRMCrashBurst:
		rm := one(tp.cfg.RMs, "rm")
		var out []scenarios.Step
		end := at + ms(t, 300, 4000, "burst-ms")
		for cur := at; cur < end; cur += ms(t, 100, 400, "every-ms") {
			out = append(out, step(cur, sim.Crash{Nodes: rm, Torn: true}), step(cur+ms(t, 20, 120, "down-ms"), sim.Restart{Nodes: rm}))
		}
		return out
	case familyAppCrash:
		app := one(tp.apps(), "app")
		back := min(at+ms(t, 200, 3000, "down-ms"), d-time.Millisecond)
		return []scenarios.Step{step(at, sim.Crash{Nodes: app}), step(max(back, at), sim.Restart{Nodes: app})}
	case familySlowBranch:
		rm := one(tp.cfg.RMs, "rm")
		return []scenarios.Step{step(at, sim.Pause{Nodes: rm}), step(at+ms(t, 300, 4000, "pause-ms"), sim.Resume{Nodes: rm})}
	case familyClockTimeout:
		var s scenarios.Step
		if rapid.Bool().Draw(t, "jump") {
			mult := rapid.Int64Range(100, 300).Draw(t, "jump-percent-of-timeout")
			s = step(at, sim.ClockJump{Jump: sim.Duration(txTimeout * time.Duration(mult) / 100)})
			s.Target = "leader"
			return []scenarios.Step{s}
		}
		tc := one(tp.cfg.TCs, "tc")
		ppm := rapid.Int64Range(200_000, 600_000).Draw(t, "fast-ppm")
		return []scenarios.Step{step(at, sim.ClockSkew{Nodes: tc, DriftPPM: ppm}), step(at+ms(t, 500, 5000, "skew-ms"), sim.ClockSkew{Nodes: tc})}
	case familyRegisterTimeout:
		a, b := tp.cfg.RMs, tp.cfg.TCs
		if rapid.Bool().Draw(t, "tc-to-rm") {
			a, b = b, a
		}
		return []scenarios.Step{step(at, sim.Clog{Cuts: sim.OneWay(a, b), For: sim.Duration(ms(t, 200, 2000, "clog-ms"))})}
	case familyAppRMCut:
		rm := one(tp.cfg.RMs, "rm")
		hold := txTimeout + ms(t, 100, 2000, "past-timeout-ms")
		return []scenarios.Step{step(at, sim.Clog{Cuts: sim.OneWay(tp.apps(), rm), For: sim.Duration(hold)})}
	case familyDisk:
		node := one(tp.members(), "node")
		if rapid.Bool().Draw(t, "slow") {
			return []scenarios.Step{step(at, sim.DiskSlow{Nodes: node, Delay: sim.Duration(ms(t, 1, 100, "sync-ms")), For: sim.Duration(ms(t, 200, 4000, "slow-for-ms"))})}
		}
		return []scenarios.Step{step(at, sim.DiskFail{Nodes: node, Count: 1})}
	}
	panic("coordinator: unknown nemesis family " + fam)
}
