package registry

import (
	"slices"
	"sort"
	"time"

	"pgregory.net/rapid"

	regnode "github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

// Registry-specific nemesis families.
const (
	familyClientCrash = "client-crash" // a client crashes for good
	familyClientCut   = "client-cut"   // a client and one session server are cut off from each other
	// familyPushFlaky: a steady share of pushes fails for most of the
	// workload (a flaky client network), not just in short windows.
	familyPushFlaky = "push-flaky"
	// familySessionStall: one to three session servers stop one after
	// another for 3.5 to 10 s each (stop-the-world GC pauses), and in a
	// scenario that has this family every session server but one stalls
	// just before every data failover: connections stay open, the
	// clients' heartbeats go unanswered and they move (in the scenarios
	// that compress bolt's heartbeat to 1 s; at 15 s they stay).
	familySessionStall = "session-stall"
	// familyClockStepFailover: a data server's clock is stepped minutes
	// ahead (a bad NTP source), then the server fails and restarts: the
	// new slot leaders' clocks are far behind the versions it handed out.
	familyClockStepFailover = "clock-step-failover"
	// familyMetaOutage (election=db): the meta leader is cut off or stalls
	// for longer than the 20 s lock, or the lock database stalls, so that
	// the lock expires and a follower takes it over.
	familyMetaOutage = "meta-outage"
	// familyMemberOutage: a data or session server is down for 21 to 40 s,
	// past its 20 s meta lease: the meta leader evicts it.
	familyMemberOutage = "member-outage"
)

func ownFamily(f string) bool {
	switch f {
	case familyClientCrash, familyClientCut, familyPushFlaky, familySessionStall, familyClockStepFailover, familyMetaOutage, familyMemberOutage:
		return true
	}
	return false
}

func drawFaults(t *rapid.T, families []string, targets []sim.NodeID, topo regnode.Config, clients []sim.NodeID, d time.Duration, episodes int) []scenarios.Step {
	var generic, own []string
	for _, f := range families {
		if ownFamily(f) {
			own = append(own, f)
		} else if len(targets) > 0 || f == scenarios.FamilyFailpoint || f == scenarios.FamilyNet {
			generic = append(generic, f)
		}
	}
	all := append(members(topo), clients...)
	var steps []scenarios.Step
	if len(generic) > 0 {
		ms := targets
		if len(ms) == 0 {
			ms = members(topo)
		}
		steps = scenarios.DrawFaults(t, scenarios.NemesisSpec{Members: ms, All: all, Families: generic, Duration: d, MaxEpisode: episodes,
			Failpoints: []string{regnode.FailPush}})
	}
	if len(own) > 0 {
		window := int64(d) * 7 / 10 / int64(time.Millisecond)
		sw := scenarios.DrawSwarm(t, own, episodes) // which of the registry's own families this seed runs, and how often
		// The swarm turned these families on: at least one episode, or the
		// seed spends its draw on nothing.
		n := rapid.IntRange(1, sw.Episodes).Draw(t, "client-episodes")
		fast := false
		for i := 0; i < n; i++ {
			at := scenarios.SpreadMs(t, 2000, window, "at")
			c := rapid.SampledFrom(clients).Draw(t, "client")
			switch sw.Pick(t, "client-family") {
			case familyClientCrash:
				steps = append(steps, scenarios.Step{Fault: sim.Fault{At: at, Op: sim.Crash{Nodes: []sim.NodeID{c}}}})
				if !fast {
					// and, once a run, another client right after its first
					// registrations: a short-lived process (sofa-registry#37);
					// once, since each dead client takes its share of the workload
					fast = true
					other := rapid.SampledFrom(clients).Draw(t, "fast-client")
					steps = append(steps, scenarios.Step{Fault: sim.Fault{At: scenarios.SpreadMs(t, 600, 2600, "fast-crash-at"), Op: sim.Crash{Nodes: []sim.NodeID{other}}}})
				}
			case familyPushFlaky:
				at -= sim.Duration(2 * time.Second)
				if rapid.Bool().Draw(t, "flaky-from-start") {
					at = 0 // the clients' first pushes fail too
				}
				// explicit levels: rapid's ranges lean hard to their minimum
				ppm := rapid.SampledFrom([]int64{300_000, 600_000, 100_000, 800_000}).Draw(t, "push-fail-ppm")
				until := sim.Duration(time.Duration(window) * time.Millisecond * 8 / 7)
				steps = append(steps, scenarios.Step{Fault: sim.Fault{At: at, Op: sim.ArmFailpoint{Failpoint: regnode.FailPush, ProbabilityPPM: ppm}}},
					scenarios.Step{Fault: sim.Fault{At: max(at, until), Op: sim.DisarmFailpoint{Failpoint: regnode.FailPush}}})
			case familySessionStall:
				steps = append(steps, sessionStalls(t, topo.Sessions, at)...)
			case familyClockStepFailover:
				steps = append(steps, clockStepFailovers(t, topo.Data, at)...)
			case familyMetaOutage:
				steps = append(steps, drawMetaOutage(t, topo, at)...)
			case familyMemberOutage:
				steps = append(steps, drawMemberOutage(t, topo, targets, at)...)
			case familyClientCut:
				s := rapid.SampledFrom(topo.Sessions).Draw(t, "session")
				length := sim.Duration(time.Duration(rapid.Int64Range(1000, 8000).Draw(t, "ms")) * time.Millisecond)
				steps = append(steps, scenarios.Step{Fault: sim.Fault{At: at, Op: sim.Partition{Cuts: sim.Split([]sim.NodeID{c}, []sim.NodeID{s})}}},
					scenarios.Step{Fault: sim.Fault{At: at + length, Op: sim.Heal{}}})
			}
		}
		// drawn after every episode: seeds without data failovers keep their plans
		if slices.Contains(families, familySessionStall) {
			steps = append(steps, stallsAfterFailovers(t, topo.Sessions, dataFailovers(steps, topo), sim.Duration(d))...)
		}
	}
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].At < steps[j].At })
	return steps
}

// failover is one data server's crash and the moment the slot table
// moves its slots: its restart (a new process), or its meta lease running
// out, whichever comes first.
type failover struct{ crash, moved sim.Duration }

// dataFailovers are the data servers' failovers among the steps drawn so
// far (the kernel's crashes, clock-step failovers, member outages), in the
// order they were drawn: a crash step and when its slots move (slotsMoved).
func dataFailovers(steps []scenarios.Step, topo regnode.Config) []failover {
	var out []failover
	for _, st := range steps {
		c, ok := st.Op.(sim.Crash)
		if !ok {
			continue
		}
		k := slices.IndexFunc(c.Nodes, func(n sim.NodeID) bool { return slices.Contains(topo.Data, n) })
		if k < 0 {
			continue
		}
		out = append(out, failover{crash: st.At, moved: slotsMoved(steps, topo, st.At, c.Nodes[k])})
	}
	return out
}

// stallsAfterFailovers: at every data failover every session server but
// one stalls (3.5 to 10 s each, GC pauses under the retries piling up) in
// the half second before the table moves the failed server's slots. A
// stalled session re-syncs nothing to the new slot leaders until it resumes
// or its clients move to the spared session (3-4 s), while the spared
// session's subscribers, and the clients that move to it, fetch from them:
// what a new leader serves before it has every session's publishers shows.
// The changes that show it are the stalled sessions' clients' last ones
// before the crash, which the new leader's copy lacks: with one session of
// three stalled, two in three of them were repaired at once by their own
// session's re-sync. None once the faults heal: no-loss is judged from
// then on.
func stallsAfterFailovers(t *rapid.T, sessions []sim.NodeID, failovers []failover, heal sim.Duration) []scenarios.Step {
	var steps []scenarios.Step
	for _, f := range failovers {
		at := max(f.crash, f.moved-scenarios.SpreadMs(t, 0, 500, "stall-before-restart"))
		spared := rapid.SampledFrom(sessions).Draw(t, "failover-spared-session")
		for _, s := range sessions {
			if (s != spared || len(sessions) == 1) && at < heal {
				steps = append(steps, scenarios.Step{Fault: sim.Fault{At: at, Op: sim.Pause{Nodes: []sim.NodeID{s}}}},
					scenarios.Step{Fault: sim.Fault{At: at + scenarios.SpreadMs(t, 3500, 10_000, "stall-ms"), Op: sim.Resume{Nodes: []sim.NodeID{s}}}})
			}
		}
	}
	return steps
}

// sessionStalls: session servers stop one after another for 3.5 to 10 s
// each (long GC pauses, a rolling deployment's slow restarts). A stall past
// the clients' heartbeat detection (3-4 s at the 1 s interval the stalling
// scenarios set; 45-60 s at bolt's 15 s) moves the
// stalled session's clients to other sessions, which store and forward
// their registrations while the stalled one still holds the old ones; its
// cleanup of the closed connections lands when it resumes, after the
// re-registrations (sofa-registry#74). Each stall moves other clients, so
// a rolling stall reaches that state several times in a run.
func sessionStalls(t *rapid.T, sessions []sim.NodeID, at sim.Duration) []scenarios.Step {
	var steps []scenarios.Step
	order := rapid.Permutation(sessions).Draw(t, "stall-order")
	n := rapid.SampledFrom([]int{3, 2, 1}).Draw(t, "stalled-sessions")
	for _, s := range order[:min(n, len(order))] {
		length := scenarios.SpreadMs(t, 3500, 10_000, "stall-ms")
		steps = append(steps, scenarios.Step{Fault: sim.Fault{At: at, Op: sim.Pause{Nodes: []sim.NodeID{s}}}},
			scenarios.Step{Fault: sim.Fault{At: at + length, Op: sim.Resume{Nodes: []sim.NodeID{s}}}})
		at += length + scenarios.SpreadMs(t, 4000, 9000, "stall-gap")
	}
	return steps
}

// drawMetaOutage: the meta leader isolated or paused for 21 to 35 s (the
// lock expires on the database and a follower takes it over; the old
// leader must have stopped trusting it), or (election=db) the lock
// database paused for 2 to 25 s (nobody can renew or take over).
func drawMetaOutage(t *rapid.T, topo regnode.Config, at sim.Duration) []scenarios.Step {
	length := sim.Duration(time.Duration(rapid.Int64Range(21_000, 35_000).Draw(t, "outage-ms")) * time.Millisecond)
	all := append([]sim.NodeID(nil), topo.Metas...)
	kinds := []string{"isolate", "stall"}
	if topo.Election == regnode.ElectionDB {
		all, kinds = append(all, topo.LockDB), append(kinds, "lockdb-stall")
	}
	switch rapid.SampledFrom(kinds).Draw(t, "meta-outage") {
	case "isolate":
		return []scenarios.Step{{Fault: sim.Fault{At: at, Op: sim.Partition{}}, Target: "leader"},
			{Fault: sim.Fault{At: at + length, Op: sim.Heal{}}}}
	case "stall":
		return []scenarios.Step{{Fault: sim.Fault{At: at, Op: sim.Pause{}}, Target: "leader"},
			{Fault: sim.Fault{At: at + length, Op: sim.Resume{Nodes: all}}}}
	}
	length = sim.Duration(time.Duration(rapid.Int64Range(2_000, 25_000).Draw(t, "db-stall-ms")) * time.Millisecond)
	return []scenarios.Step{{Fault: sim.Fault{At: at, Op: sim.Pause{Nodes: []sim.NodeID{topo.LockDB}}}},
		{Fault: sim.Fault{At: at + length, Op: sim.Resume{Nodes: []sim.NodeID{topo.LockDB}}}}}
}

// drawMemberOutage: one of the targeted data or session servers (any, if
// none is targeted) crashes and stays down for 21 to 40 s.
func drawMemberOutage(t *rapid.T, topo regnode.Config, targets []sim.NodeID, at sim.Duration) []scenarios.Step {
	var ms []sim.NodeID
	for _, id := range targets {
		if slices.Contains(topo.Data, id) || slices.Contains(topo.Sessions, id) {
			ms = append(ms, id)
		}
	}
	if len(ms) == 0 {
		ms = append(append(ms, topo.Data...), topo.Sessions...)
	}
	n := rapid.SampledFrom(ms).Draw(t, "member")
	length := sim.Duration(time.Duration(rapid.Int64Range(21_000, 40_000).Draw(t, "member-down-ms")) * time.Millisecond)
	return []scenarios.Step{{Fault: sim.Fault{At: at, Op: sim.Crash{Nodes: []sim.NodeID{n}}}},
		{Fault: sim.Fault{At: at + length, Op: sim.Restart{Nodes: []sim.NodeID{n}}}}}
}

// clockStepFailovers: a bad NTP source steps data servers' clocks minutes
// ahead, and the servers fail and restart one after another, each a few
// seconds after the last came back (a rolling failure). A data server
// restarts empty and rejoins as a follower holding only what changed
// since, so the next failover promotes a follower with a partial copy:
// the state a new slot leader must repair from the session servers before
// serving.
func clockStepFailovers(t *rapid.T, data []sim.NodeID, at sim.Duration) []scenarios.Step {
	var steps []scenarios.Step
	order := rapid.Permutation(data).Draw(t, "rolling-order")
	n := rapid.SampledFrom([]int{3, 2, 1}).Draw(t, "rolling-servers")
	for _, ds := range order[:min(n, len(order))] {
		jump := sim.Duration(time.Duration(rapid.Int64Range(60, 600).Draw(t, "step-s")) * time.Second)
		crash := at + scenarios.SpreadMs(t, 500, 5000, "crash-after")
		// Down for less than the data lease (3 s) or well past it: a
		// restart the table never sees, or a failover.
		down := scenarios.SpreadMs(t, 1000, 8000, "down")
		steps = append(steps, scenarios.Step{Fault: sim.Fault{At: at, Op: sim.ClockJump{Nodes: []sim.NodeID{ds}, Jump: jump}}},
			scenarios.Step{Fault: sim.Fault{At: crash, Op: sim.Crash{Nodes: []sim.NodeID{ds}}}},
			scenarios.Step{Fault: sim.Fault{At: crash + down, Op: sim.Restart{Nodes: []sim.NodeID{ds}}}})
		at = crash + down + scenarios.SpreadMs(t, 1000, 5000, "rolling-gap")
	}
	return steps
}
