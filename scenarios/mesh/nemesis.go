package mesh

import (
	"sort"
	"strconv"
	"time"

	"pgregory.net/rapid"

	meshnode "github.com/sofasim/sofasim/nodes/mesh"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

// Mesh-specific nemesis families.
const (
	// familyGreyError: one instance, or two of one service, fail a share
	// of their requests with 500s while passing health checks.
	familyGreyError = "grey-error"
	// familyGreySlow: an instance answers 100-400ms slower, still healthy.
	familyGreySlow = "grey-slow"
	// familyInstanceRestart: an instance crashes with requests in flight
	// and comes back (a new incarnation, a new identity) soon after.
	familyInstanceRestart = "instance-restart"
	// familyPilotRestart: a control-plane replica restarts; its sidecars
	// move to another and resync.
	familyPilotRestart = "pilot-restart"
	// familyCrashLoop: an instance (a bad new version, most likely the
	// canary) crashes and restarts two or three times, down long enough
	// for health checks to notice.
	familyCrashLoop = "crash-loop"
)

func ownFamily(f string) bool {
	switch f {
	case familyGreyError, familyGreySlow, familyInstanceRestart, familyPilotRestart, familyCrashLoop:
		return true
	}
	return false
}

// nemesis is what a scenario's faults may hit.
type nemesis struct {
	families  []string
	episodes  int
	members   []sim.NodeID // targets of the generic families
	all       []sim.NodeID
	apps      []sim.NodeID
	suspects  []sim.NodeID // what the mesh families pick instances from: apps, a fresh canary perhaps weighted up
	appsOf    map[string][]sim.NodeID
	pilots    []sim.NodeID
	serviceOf map[sim.NodeID]string
}

func drawFaults(t *rapid.T, n nemesis, d time.Duration) []scenarios.Step {
	var generic, own []string
	for _, f := range n.families {
		if ownFamily(f) {
			own = append(own, f)
		} else {
			generic = append(generic, f)
		}
	}
	var steps []scenarios.Step
	if len(generic) > 0 && len(n.members) > 0 {
		steps = scenarios.DrawFaults(t, scenarios.NemesisSpec{Members: n.members, All: n.all, Families: generic, Duration: d, MaxEpisode: n.episodes})
	}
	if len(own) > 0 {
		window := int64(d) * 7 / 10 / int64(time.Millisecond)
		count := rapid.IntRange(0, n.episodes).Draw(t, "mesh-episodes")
		ms := func(name string, lo, hi int64) sim.Duration {
			return sim.Duration(time.Duration(rapid.Int64Range(lo, hi).Draw(t, name)) * time.Millisecond)
		}
		for i := 0; i < count; i++ {
			at := ms("at", 1500, max(1501, window))
			switch rapid.SampledFrom(own).Draw(t, "mesh-family") {
			case familyGreyError:
				node := rapid.SampledFrom(n.suspects).Draw(t, "grey")
				nodes := []sim.NodeID{node}
				if rapid.Bool().Draw(t, "two") {
					for _, id := range n.appsOf[n.serviceOf[node]] {
						if id != node && len(nodes) < 2 {
							nodes = append(nodes, id)
						}
					}
				}
				ppm := rapid.Int64Range(200_000, 1_000_000).Draw(t, "error-ppm")
				steps = append(steps, scenarios.Step{Fault: sim.Fault{At: at, Op: sim.ArmFailpoint{Failpoint: meshnode.FailAppError, Nodes: nodes, ProbabilityPPM: ppm}}},
					scenarios.Step{Fault: sim.Fault{At: at + ms("grey-ms", 1000, 5000), Op: sim.DisarmFailpoint{Failpoint: meshnode.FailAppError}}})
			case familyGreySlow:
				node := rapid.SampledFrom(n.suspects).Draw(t, "slow")
				extra := rapid.IntRange(100, 400).Draw(t, "slow-extra-ms")
				steps = append(steps, scenarios.Step{Fault: sim.Fault{At: at, Op: sim.ArmFailpoint{Failpoint: meshnode.FailAppSlow, Nodes: []sim.NodeID{node}, Value: strconv.Itoa(extra)}}},
					scenarios.Step{Fault: sim.Fault{At: at + ms("slow-ms", 1000, 5000), Op: sim.DisarmFailpoint{Failpoint: meshnode.FailAppSlow}}})
			case familyInstanceRestart:
				node := rapid.SampledFrom(n.suspects).Draw(t, "restart")
				if rapid.Bool().Draw(t, "at-once") {
					steps = append(steps, scenarios.Step{Fault: sim.Fault{At: at, Op: sim.Restart{Nodes: []sim.NodeID{node}}}})
				} else {
					steps = append(steps, scenarios.Step{Fault: sim.Fault{At: at, Op: sim.Crash{Nodes: []sim.NodeID{node}}}},
						scenarios.Step{Fault: sim.Fault{At: at + ms("down-ms", 200, 3000), Op: sim.Restart{Nodes: []sim.NodeID{node}}}})
				}
			case familyCrashLoop:
				node := []sim.NodeID{rapid.SampledFrom(n.suspects).Draw(t, "crash-loop")}
				for c := rapid.IntRange(2, 3).Draw(t, "cycles"); c > 0; c-- {
					steps = append(steps, scenarios.Step{Fault: sim.Fault{At: at, Op: sim.Crash{Nodes: node}}})
					at += ms("loop-down-ms", 1000, 2500)
					steps = append(steps, scenarios.Step{Fault: sim.Fault{At: at, Op: sim.Restart{Nodes: node}}})
					at += ms("loop-up-ms", 500, 1500)
				}
			case familyPilotRestart:
				node := rapid.SampledFrom(n.pilots).Draw(t, "pilot")
				steps = append(steps, scenarios.Step{Fault: sim.Fault{At: at, Op: sim.Restart{Nodes: []sim.NodeID{node}}}})
			}
		}
	}
	// Every episode ends within the safety phase: a restart or a crash
	// after the heal would fall in the window where recovery is judged.
	last := sim.Duration(d - time.Millisecond)
	for i := range steps {
		steps[i].At = min(steps[i].At, last)
	}
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].At < steps[j].At })
	return steps
}
