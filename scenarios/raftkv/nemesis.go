package raftkv

import (
	"slices"
	"time"

	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

// drawMinorityWithClients draws raftkv's own partition episodes: a
// minority of the members is cut off together with some of the clients,
// for one to four election timeouts, while the other clients keep writing
// on the majority side. When the leader is in the minority it believes it
// leads until its quorum check fails, and the clients beside it keep
// reading from it: the window in which a read served without ReadIndex (a
// lease it does not hold) is stale. The generic partition shapes cut the
// leader off from every client, so no one could read from it.
func drawMinorityWithClients(t *rapid.T, members, clients []sim.NodeID, d time.Duration) []scenarios.Step {
	n := rapid.SampledFrom([]int{2, 0, 4}).Draw(t, "minority-episodes")
	window := int64(d) * 8 / 10 / int64(time.Millisecond)
	var steps []scenarios.Step
	for range n {
		perm := rapid.Permutation(members).Draw(t, "minority-order")
		side := append([]sim.NodeID(nil), perm[:(len(perm)-1)/2]...)
		cperm := rapid.Permutation(clients).Draw(t, "minority-clients")
		side = append(side, cperm[:max(1, len(cperm)/2)]...)
		var rest []sim.NodeID
		for _, id := range append(append([]sim.NodeID(nil), members...), clients...) {
			in := false
			for _, s := range side {
				in = in || s == id
			}
			if !in {
				rest = append(rest, id)
			}
		}
		at := scenarios.SpreadMs(t, 0, window, "minority-at")
		length := scenarios.SpreadMs(t, 500, 4000, "minority-ms")
		steps = append(steps, scenarios.Step{Fault: sim.Fault{At: at, Op: sim.Partition{Cuts: sim.Split(side, rest)}}},
			scenarios.Step{Fault: sim.Fault{At: at + length, Op: sim.Heal{}}})
	}
	return steps
}

// drawLeaderStalls draws raftkv's own pause episodes: the leader of the
// moment stops for longer than an election timeout (a GC pause, a stalled
// disk) while the others elect a new leader and commit writes (and, in
// some seeds, for less, when it still leads on resume). On resume,
// the requests that queued during the stop reach the old leader before it
// hears of the new term: the moment a read served on a lease it no longer
// holds is stale, and a write it accepted must not be acknowledged.
func drawLeaderStalls(t *rapid.T, members []sim.NodeID, d time.Duration) []scenarios.Step {
	n := rapid.SampledFrom([]int{2, 0, 4}).Draw(t, "leader-stalls")
	window := int64(d) * 8 / 10 / int64(time.Millisecond)
	var steps []scenarios.Step
	for range n {
		at := scenarios.SpreadMs(t, 0, window, "stall-at")
		length := scenarios.SpreadMs(t, 150, 2000, "stall-ms")
		steps = append(steps, scenarios.Step{Fault: sim.Fault{At: at, Op: sim.Pause{}}, Target: "leader"},
			scenarios.Step{Fault: sim.Fault{At: at + length, Op: sim.Resume{Nodes: members}}})
	}
	// GC pauses shorter than an election timeout: the leader keeps its
	// leadership and answers late what queued, after impatient callers
	// gave up and sent their next request
	for range rapid.SampledFrom([]int{0, 2, 4}).Draw(t, "short-stalls") {
		at := scenarios.SpreadMs(t, 0, window, "short-stall-at")
		steps = append(steps, scenarios.Step{Fault: sim.Fault{At: at, Op: sim.Pause{}}, Target: "leader"},
			scenarios.Step{Fault: sim.Fault{At: at + scenarios.SpreadMs(t, 20, 90, "short-stall-ms"), Op: sim.Resume{Nodes: members}}})
	}
	return steps
}

// drawHandoffCrashes draws raftkv's own crash episodes around a leadership
// hand-off: an operator moves leadership to a member (etcd's move-leader,
// the first step of a rolling restart), and within a few round trips of
// it, while the new leader's election is still settling, a majority or
// every member crashes (an upgrade script restarting too early, a rack
// losing power), with torn writes in some, and restarts shortly after. A
// hand-off starts an election at a time the plan knows, so the crash lands
// on voters that have just voted: a vote, or a term, that was sent but not
// made durable is lost here, which a crash at a random time almost never
// hits. A third of the hand-offs crash nothing. The hand-offs are the
// workload client 0's operations.
func drawHandoffCrashes(t *rapid.T, members []sim.NodeID, d time.Duration) ([]Op, []scenarios.Step) {
	n := rapid.SampledFrom([]int{2, 0, 4}).Draw(t, "handoff-crashes")
	window := int64(d) * 8 / 10 / int64(time.Millisecond)
	var ops []Op
	var steps []scenarios.Step
	for range n {
		at := scenarios.SpreadMs(t, 0, window, "handoff-at")
		to := rapid.SampledFrom(members).Draw(t, "handoff-to")
		ops = append(ops, Op{OpTiming: scenarios.OpTiming{At: at}, Kind: KindTransferLeader, Value: string(to)})
		if rapid.IntRange(0, 2).Draw(t, "handoff-graceful") == 2 {
			// no crash: writes in flight on the old leader are retried
			// on the new one, which may hold them uncommitted (committed
			// twice, applied once)
			continue
		}
		perm := rapid.Permutation(members).Draw(t, "handoff-crashed")
		crashed := perm[:rapid.IntRange(len(members)/2+1, len(members)).Draw(t, "handoff-crash-count")]
		// a hand-off's election takes a few round trips of 0.2-2 ms
		// (more with a redirect and a dial): spread the crash over them
		crashAt := at + scenarios.SpreadMs(t, 0, 30, "handoff-crash-ms")
		down := scenarios.SpreadMs(t, 100, 3000, "handoff-down-ms")
		steps = append(steps, scenarios.Step{Fault: sim.Fault{At: crashAt, Op: sim.Crash{Nodes: crashed, Torn: rapid.Bool().Draw(t, "handoff-torn")}}},
			scenarios.Step{Fault: sim.Fault{At: crashAt + down, Op: sim.Restart{Nodes: crashed}}})
	}
	return ops, steps
}

// drawReplyClogs draws raftkv's own clogs: the members' traffic to some of
// the clients is held for 20-400 ms (a congested or flapping client link),
// while their requests still arrive and are served. The answers then come
// in a burst, late, after impatient callers gave up on them and sent their
// next request on the same connection: each must be matched to the request
// it answers. Most clogs start as an impatient read is due, on its
// client's link; the generic clogs hold random links at random times.
func drawReplyClogs(t *rapid.T, members, clients []sim.NodeID, ops []Op, d time.Duration) []scenarios.Step {
	n := rapid.SampledFrom([]int{2, 0, 4}).Draw(t, "reply-clogs")
	window := int64(d) * 8 / 10 / int64(time.Millisecond)
	var polls []Op
	for _, op := range ops {
		if op.Patience > 0 {
			polls = append(polls, op)
		}
	}
	var steps []scenarios.Step
	for range n {
		perm := rapid.Permutation(clients).Draw(t, "reply-clog-clients")
		to := perm[:rapid.IntRange(1, max(1, len(perm)/2)).Draw(t, "reply-clog-count")]
		at := scenarios.SpreadMs(t, 0, window, "reply-clog-at")
		if len(polls) > 0 && rapid.IntRange(0, 3).Draw(t, "reply-clog-free") > 0 {
			p := rapid.SampledFrom(polls).Draw(t, "reply-clog-poll")
			at = max(0, p.At-scenarios.SpreadMs(t, 0, 50, "reply-clog-lead"))
			if c := clients[p.Client]; !slices.Contains(to, c) {
				to = append(to, c)
			}
		}
		steps = append(steps, scenarios.Step{Fault: sim.Fault{At: at,
			Op: sim.Clog{Cuts: sim.OneWay(members, to), For: scenarios.SpreadMs(t, 20, 400, "reply-clog-ms")}}})
	}
	return steps
}

// superviseExits adds, after every failed sync the nemesis plans, the
// restart a supervisor (systemd, Kubernetes) makes 1-5 s after the member
// exits on it: the restarted member recovers from a disk whose unsynced
// writes vanished (fsyncgate), and the cluster is not left without a
// quorum for the rest of the run, which only piles up writes of unknown
// outcome.
func superviseExits(t *rapid.T, faults []scenarios.Step) []scenarios.Step {
	var out []scenarios.Step
	for _, f := range faults {
		if fail, ok := f.Op.(sim.DiskFail); ok {
			out = append(out, scenarios.Step{Fault: sim.Fault{At: f.At + scenarios.SpreadMs(t, 1000, 5000, "supervisor-ms"), Op: sim.Restart{Nodes: fail.Nodes}}})
		}
	}
	return append(faults, out...)
}

// drawSlowFailovers draws raftkv's own failovers under a storage hiccup:
// every member's syncs turn slow (40-150 ms each) around a client's write,
// and while that write is in flight (on the followers, not yet
// acknowledged) the leader is killed and restarted, torn in some. The next
// leader holds the write uncommitted and commits nothing before a quorum's
// slow sync, so the client's retry reaches it first and is proposed again:
// the retry commits twice, and must apply once. A failover at a random
// time almost never lands in that window, and a hand-off never does (the
// target is caught up first, which commits the write).
func drawSlowFailovers(t *rapid.T, members []sim.NodeID, ops []Op) []scenarios.Step {
	// writes whose client is idle when they are due: sent at their time
	var writes []Op
	last := map[int]sim.Duration{}
	for _, op := range ops {
		if op.Kind == KindTransferLeader {
			continue
		}
		prev, busy := last[op.Client]
		if op.Kind != checkers.KindGet && (!busy || op.At-prev > sim.Duration(time.Second)) {
			writes = append(writes, op)
		}
		last[op.Client] = op.At
	}
	n := rapid.SampledFrom([]int{3, 0, 6}).Draw(t, "slow-failovers")
	if len(writes) == 0 {
		return nil
	}
	var steps []scenarios.Step
	for range n {
		w := rapid.SampledFrom(writes).Draw(t, "slow-failover-write")
		delay := scenarios.Spread(t, 40, 150, "slow-failover-sync-ms")
		slowAt := max(0, w.At-scenarios.SpreadMs(t, 0, 300, "slow-failover-lead"))
		perm := rapid.Permutation(members).Draw(t, "slow-failover-slow")
		slow := perm[:rapid.IntRange(2, len(perm)).Draw(t, "slow-failover-slow-count")]
		steps = append(steps, scenarios.Step{Fault: sim.Fault{At: slowAt, Op: sim.DiskSlow{Nodes: slow,
			Delay: sim.Duration(time.Duration(delay) * time.Millisecond), For: scenarios.SpreadMs(t, 1000, 4000, "slow-failover-ms")}}},
			scenarios.Step{Fault: sim.Fault{At: w.At + scenarios.SpreadMs(t, 2, delay, "slow-failover-at"),
				Op: sim.Restart{Torn: rapid.Bool().Draw(t, "slow-failover-torn")}}, Target: "leader"})
		if rapid.Bool().Draw(t, "slow-failover-sync-fails") {
			// and one member's disk fails the sync of that write: it exits
			// with the write torn on disk, and its supervisor restarts it
			m := []sim.NodeID{rapid.SampledFrom(members).Draw(t, "slow-failover-failing")}
			steps = append(steps, scenarios.Step{Fault: sim.Fault{At: w.At, Op: sim.DiskFail{Nodes: m, Torn: true}}},
				scenarios.Step{Fault: sim.Fault{At: w.At + scenarios.SpreadMs(t, 1000, 5000, "slow-failover-supervisor-ms"), Op: sim.Restart{Nodes: m}}})
		}
	}
	return steps
}
