package scenarios

import (
	"fmt"
	"sort"
	"time"

	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/sim"
)

// Nemesis families: each draws episodes of one kind of fault, every
// episode a start step and the step that ends it.
const (
	FamilyPartition = "partition" // isolate the leader or one node, majority/minority, bridge, ring, one-way
	FamilyCrash     = "crash"     // crash one, several or all members (torn writes or not), restart later
	FamilyPause     = "pause"     // pause the leader or a member, resume later
	FamilyClock     = "clock"     // jump a clock forward or back, skew its rate
	FamilyDisk      = "disk"      // slow syncs, failed syncs, a corrupted bit at rest
	FamilyNet       = "net"       // packet loss and duplication, clogged links
	FamilyFailpoint = "failpoint" // arm one of the system's failpoints for a while
)

// Families lists every nemesis family.
var Families = []string{FamilyPartition, FamilyCrash, FamilyPause, FamilyClock, FamilyDisk, FamilyNet, FamilyFailpoint}

// NemesisSpec says what a scenario's nemesis may do.
type NemesisSpec struct {
	Members    []sim.NodeID // servers: targets of crashes, pauses, clock and disk faults
	All        []sim.NodeID // every node: partitions may cut clients off too
	Families   []string
	Duration   time.Duration // faults start in the first 80% of it
	MaxEpisode int           // at most this many episodes
	Failpoints []string      // for FamilyFailpoint
}

// DrawFaults draws a nemesis schedule: first the seed's swarm options
// (which families are on and how hard they hit, see [Swarm]), then the
// episodes. Shrinking removes episodes, makes them shorter and earlier,
// and picks simpler shapes.
func DrawFaults(t *rapid.T, spec NemesisSpec) []Step {
	if len(spec.Families) == 0 || spec.MaxEpisode == 0 {
		return nil
	}
	sw := DrawSwarm(t, spec.Families, spec.MaxEpisode)
	// an episode outlasting the safety phase would outlast the liveness
	// phase too: what it broke must still be restarted before the end
	sw.MaxEpisodeMs = min(sw.MaxEpisodeMs, int64(spec.Duration)*9/10/int64(time.Millisecond))
	window := int64(spec.Duration) * 8 / 10 / int64(time.Millisecond)
	n := rapid.IntRange(0, sw.Episodes).Draw(t, "episodes")
	var steps []Step
	corrupted := false
	for i := 0; i < n; i++ {
		fam := sw.Pick(t, "family")
		at := sim.Duration(time.Duration(rapid.Int64Range(0, window).Draw(t, "at")) * time.Millisecond)
		length := sim.Duration(time.Duration(rapid.Int64Range(100, sw.MaxEpisodeMs).Draw(t, "ms")) * time.Millisecond)
		end := at + length
		member := func() sim.NodeID { return rapid.SampledFrom(spec.Members).Draw(t, "member") }
		switch fam {
		case FamilyPartition:
			steps = append(steps, drawPartition(t, spec, at), Step{Fault: sim.Fault{At: end, Op: sim.Heal{}}})
		case FamilyCrash:
			torn := rapid.Bool().Draw(t, "torn")
			if rapid.IntRange(0, 99).Draw(t, "kill-leader") < sw.LeaderPct {
				// kill -9 and restart the leader at once: writes in
				// flight are retried on the next leader, and the old one
				// recovers from its disk while the cluster moves on
				steps = append(steps, Step{Fault: sim.Fault{At: at, Op: sim.Restart{Torn: torn}}, Target: "leader"})
				continue
			}
			nodes := drawSubset(t, spec.Members)
			steps = append(steps,
				Step{Fault: sim.Fault{At: at, Op: sim.Crash{Nodes: nodes, Torn: torn}}},
				Step{Fault: sim.Fault{At: end, Op: sim.Restart{Nodes: nodes}}})
		case FamilyPause:
			s := Step{Fault: sim.Fault{At: at, Op: sim.Pause{}}}
			if rapid.Bool().Draw(t, "pause-leader") {
				s.Target = "leader"
				// the resume must find the same node: resume every member
				steps = append(steps, s, Step{Fault: sim.Fault{At: end, Op: sim.Resume{Nodes: spec.Members}}})
			} else {
				node := []sim.NodeID{member()}
				s.Op = sim.Pause{Nodes: node}
				steps = append(steps, s, Step{Fault: sim.Fault{At: end, Op: sim.Resume{Nodes: node}}})
			}
		case FamilyClock:
			node := []sim.NodeID{member()}
			if rapid.Bool().Draw(t, "jump") {
				jump := time.Duration(rapid.Int64Range(-sw.MaxJumpMs, sw.MaxJumpMs).Draw(t, "jump-ms")) * time.Millisecond
				steps = append(steps, Step{Fault: sim.Fault{At: at, Op: sim.ClockJump{Nodes: node, Jump: sim.Duration(jump)}}})
			} else {
				ppm := rapid.Int64Range(-100_000, 100_000).Draw(t, "skew-ppm")
				steps = append(steps,
					Step{Fault: sim.Fault{At: at, Op: sim.ClockSkew{Nodes: node, DriftPPM: ppm}}},
					Step{Fault: sim.Fault{At: end, Op: sim.ClockSkew{Nodes: node}}})
			}
		case FamilyDisk:
			node := []sim.NodeID{member()}
			kinds := []string{"slow", "fail"}
			if !corrupted {
				kinds = append(kinds, "corrupt")
			}
			switch rapid.SampledFrom(kinds).Draw(t, "disk") {
			case "slow":
				delay := time.Duration(rapid.Int64Range(1, 100).Draw(t, "sync-ms")) * time.Millisecond
				if rapid.Bool().Draw(t, "slow-many") {
					// a storage hiccup on several machines at once: a new
					// leader then takes long to commit its first entry
					node = drawSubset(t, spec.Members)
				}
				steps = append(steps, Step{Fault: sim.Fault{At: at, Op: sim.DiskSlow{Nodes: node, Delay: sim.Duration(delay), For: length}}})
			case "fail":
				steps = append(steps, Step{Fault: sim.Fault{At: at, Op: sim.DiskFail{Nodes: node, Count: 1}}})
			case "corrupt":
				corrupted = true // one corrupted member at most: beyond that a quorum can be lost for good
				steps = append(steps, Step{Fault: sim.Fault{At: at, Op: sim.DiskCorrupt{Nodes: node}}})
			}
		case FamilyNet:
			if rapid.Bool().Draw(t, "loss") {
				ppm := rapid.Int64Range(1_000, sw.MaxLossPPM).Draw(t, "loss-ppm")
				dup := rapid.Int64Range(0, 100_000).Draw(t, "dup-ppm")
				steps = append(steps, Step{Fault: sim.Fault{At: at, Op: sim.Loss{LossPPM: ppm, DupPPM: dup, For: length}}})
			} else {
				a, b := drawSplit(t, spec.All)
				steps = append(steps, Step{Fault: sim.Fault{At: at, Op: sim.Clog{Cuts: sim.OneWay(a, b), For: length}}})
			}
		case FamilyFailpoint:
			if len(spec.Failpoints) == 0 {
				continue
			}
			fp := rapid.SampledFrom(spec.Failpoints).Draw(t, "failpoint")
			ppm := rapid.Int64Range(10_000, 1_000_000).Draw(t, "fp-ppm")
			steps = append(steps,
				Step{Fault: sim.Fault{At: at, Op: sim.ArmFailpoint{Failpoint: fp, ProbabilityPPM: ppm}}},
				Step{Fault: sim.Fault{At: end, Op: sim.DisarmFailpoint{Failpoint: fp}}})
		default:
			panic(fmt.Sprintf("scenarios: unknown nemesis family %q", fam))
		}
	}
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].At < steps[j].At })
	return steps
}

// Swarm is one seed's nemesis options (swarm testing, as TigerBeetle's
// VOPR draws options_swarm): a random subset of the scenario's fault
// families is on, each with a weight, and the episodes' count, length and
// intensity have per-seed ceilings. Rare interleavings get dense in some
// seeds (a seed of nothing but long one-node partitions, or of leader
// kills) instead of being diluted by every family in every seed.
type Swarm struct {
	Families     []string // the families on in this seed
	Episodes     int      // at most this many episodes
	MaxEpisodeMs int64    // the longest episode
	LeaderPct    int      // share of crash episodes that kill and restart the leader
	MaxJumpMs    int64    // the largest clock jump
	MaxLossPPM   int64    // the worst packet loss
	deck         []string // families repeated by weight, to draw from
}

// DrawSwarm draws a seed's swarm options. Every option shrinks towards the
// plain schedule: all families, equal weights, short episodes.
func DrawSwarm(t *rapid.T, families []string, maxEpisodes int) Swarm {
	sw := Swarm{Episodes: maxEpisodes, MaxEpisodeMs: 8000, MaxJumpMs: 30_000, MaxLossPPM: 300_000}
	for _, f := range families {
		// 0: off, 1..3: the family's weight; a family is on three times in four
		w := rapid.IntRange(1, 4).Draw(t, "weight-"+f) % 4
		if w == 0 {
			continue
		}
		sw.Families = append(sw.Families, f)
		for range w {
			sw.deck = append(sw.deck, f)
		}
	}
	if len(sw.Families) == 0 {
		sw.Families, sw.deck = families, families
	}
	sw.Episodes = rapid.IntRange(maxEpisodes, maxEpisodes*3/2).Draw(t, "swarm-episodes")
	sw.MaxEpisodeMs = rapid.SampledFrom([]int64{8000, 2000, 25_000}).Draw(t, "swarm-episode-ms")
	sw.LeaderPct = rapid.SampledFrom([]int{0, 30, 80}).Draw(t, "swarm-leader-pct")
	sw.MaxJumpMs = rapid.SampledFrom([]int64{30_000, 2_000, 600_000}).Draw(t, "swarm-jump-ms")
	sw.MaxLossPPM = rapid.SampledFrom([]int64{300_000, 50_000, 600_000}).Draw(t, "swarm-loss-ppm")
	return sw
}

// Pick draws one of the seed's families, by weight.
func (s Swarm) Pick(t *rapid.T, label string) string { return rapid.SampledFrom(s.deck).Draw(t, label) }

func drawPartition(t *rapid.T, spec NemesisSpec, at sim.Duration) Step {
	s := Step{Fault: sim.Fault{At: at}}
	var cuts []sim.Cut
	switch rapid.SampledFrom([]string{"leader", "one", "majority", "bridge", "ring", "one-way"}).Draw(t, "shape") {
	case "leader":
		s.Target = "leader"
	case "one":
		cuts = sim.Isolate(rapid.SampledFrom(spec.Members).Draw(t, "isolated"), spec.All)
	case "majority":
		perm := rapid.Permutation(spec.Members).Draw(t, "order")
		k := len(perm)/2 + 1
		cuts = sim.Split(perm[:k], perm[k:])
	case "bridge":
		perm := rapid.Permutation(spec.Members).Draw(t, "order")
		cuts = sim.Bridge(perm[0], perm)
	case "ring":
		cuts = sim.Ring(rapid.Permutation(spec.Members).Draw(t, "order"))
	case "one-way":
		a, b := drawSplit(t, spec.Members)
		cuts = sim.OneWay(a, b)
	}
	s.Op = sim.Partition{Cuts: cuts}
	if len(cuts) == 0 && s.Target == "" {
		s.Target = "leader" // a shape that cut nothing (too few members)
	}
	return s
}

// drawSubset draws one node, several, or all of them.
func drawSubset(t *rapid.T, nodes []sim.NodeID) []sim.NodeID {
	perm := rapid.Permutation(nodes).Draw(t, "order")
	k := rapid.IntRange(1, len(perm)).Draw(t, "how-many")
	out := append([]sim.NodeID(nil), perm[:k]...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// drawSplit draws two non-empty disjoint groups.
func drawSplit(t *rapid.T, nodes []sim.NodeID) ([]sim.NodeID, []sim.NodeID) {
	perm := rapid.Permutation(nodes).Draw(t, "order")
	k := rapid.IntRange(1, len(perm)-1).Draw(t, "split")
	return perm[:k], perm[k:]
}

// ClientIDs names n workload client nodes client-0 .. client-(n-1).
func ClientIDs(n int) []sim.NodeID {
	out := make([]sim.NodeID, n)
	for i := range out {
		out[i] = sim.NodeID(fmt.Sprintf("client-%d", i))
	}
	return out
}

// Spread draws a number between lo and hi spread over the range: rapid's
// ranges lean hard to their minimum, so times and counts that must
// sometimes be high would rarely be. Two decimal digits of the fraction,
// each from a small range, spread the draws and still shrink toward lo.
func Spread(t *rapid.T, lo, hi int64, label string) int64 {
	f := int64(rapid.IntRange(0, 9).Draw(t, label+"-tenths")*10 + rapid.IntRange(0, 9).Draw(t, label+"-hundredths"))
	return lo + (hi-lo)*f/99
}

// SpreadMs is [Spread] over milliseconds, as a time in the run.
func SpreadMs(t *rapid.T, lo, hi int64, label string) sim.Duration {
	return sim.Duration(time.Duration(Spread(t, lo, hi, label)) * time.Millisecond)
}
