package sim_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/sim"
)

// reach is a reachability matrix: reach[a][b] says whether a's traffic gets
// to b.
type reach map[sim.NodeID]map[sim.NodeID]bool

func (r reach) String() string {
	var lines []string
	for _, a := range sortedKeys(r) {
		line := string(a) + " ->"
		for _, b := range sortedKeys(r[a]) {
			if r[a][b] {
				line += " " + string(b)
			}
		}
		lines = append(lines, line)
	}
	return fmt.Sprint(lines)
}

func sortedKeys[V any](m map[sim.NodeID]V) []sim.NodeID {
	keys := make([]sim.NodeID, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// matrixOf computes reachability from cuts, as their doc defines them.
func matrixOf(nodes []sim.NodeID, cuts []sim.Cut) reach {
	r := reach{}
	for _, a := range nodes {
		r[a] = map[sim.NodeID]bool{}
		for _, b := range nodes {
			r[a][b] = !cutBy(cuts, a, b, false)
		}
	}
	return r
}

// matrix builds the expected matrix from a predicate.
func matrix(nodes []sim.NodeID, ok func(a, b sim.NodeID) bool) reach {
	r := reach{}
	for _, a := range nodes {
		r[a] = map[sim.NodeID]bool{}
		for _, b := range nodes {
			r[a][b] = ok(a, b)
		}
	}
	return r
}

// observed measures reachability in a world: the cuts are a partition
// fault, then every node sends a datagram to every node (no loss).
func observed(t require.TestingT, nodes []sim.NodeID, cuts []sim.Cut) reach {
	w, tp := newWorld(sim.Config{Seed: 1, Network: quietNet()})
	for _, id := range nodes {
		addProbe(w, tp, id, &hooks{start: func(p *probe) { p.env.SetTimer(ms(10), nil) },
			timer: func(p *probe, _ sim.TimerID, _ any) {
				for _, to := range nodes {
					p.env.SendDatagram(to, nil)
				}
			}})
	}
	if len(cuts) > 0 {
		require.NoError(t, w.Schedule([]sim.Fault{{At: at(ms(5)), Op: sim.Partition{Cuts: cuts}}}))
	}
	w.Run(sim.Limits{})
	r := matrix(nodes, func(a, b sim.NodeID) bool { return false })
	for _, e := range tp.filter(entry{Kind: "datagram"}) {
		r[e.Peer][e.Node] = true
	}
	return r
}

// checkShape checks the matrix the cuts define against the expected shape,
// and that a world applies the cuts as that matrix says.
func checkShape(t require.TestingT, nodes []sim.NodeID, cuts []sim.Cut, want reach) {
	got := matrixOf(nodes, cuts)
	require.Equal(t, want, got, "cuts %v\nwant %v\ngot  %v", cuts, want, got)
	require.Equal(t, want, observed(t, nodes, cuts), "the world does not apply %v as their matrix says", cuts)
}

func genGroups(t *rapid.T, nodes []sim.NodeID) (groups [][]sim.NodeID, groupOf map[sim.NodeID]int) {
	k := rapid.IntRange(1, len(nodes)).Draw(t, "groups")
	groups = make([][]sim.NodeID, k)
	groupOf = map[sim.NodeID]int{}
	for _, n := range nodes {
		g := rapid.IntRange(-1, k-1).Draw(t, "group of "+string(n)) // -1: in no group
		groupOf[n] = g
		if g >= 0 {
			groups[g] = append(groups[g], n)
		}
	}
	return groups, groupOf
}

// Split cuts the groups off from each other, both ways; nodes in no group
// talk to everyone.
func TestSplitShape(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		nodes := genNodes(1, 6).Draw(rt, "nodes")
		groups, groupOf := genGroups(rt, nodes)
		checkShape(rt, nodes, sim.Split(groups...), matrix(nodes, func(a, b sim.NodeID) bool {
			return groupOf[a] < 0 || groupOf[b] < 0 || groupOf[a] == groupOf[b]
		}))
	})
}

// Isolate cuts one node off from all the others, both ways.
func TestIsolateShape(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		nodes := genNodes(1, 6).Draw(rt, "nodes")
		x := rapid.SampledFrom(nodes).Draw(rt, "isolated")
		checkShape(rt, nodes, sim.Isolate(x, nodes), matrix(nodes, func(a, b sim.NodeID) bool {
			return a == b || a != x && b != x
		}))
	})
}

// OneWay blocks from -> to only: to hears nothing from from, from hears to.
func TestOneWayShape(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		nodes := genNodes(2, 6).Draw(rt, "nodes")
		from := genSubset(nodes, "from").Draw(rt, "from")
		var to []sim.NodeID
		for _, n := range nodes {
			if !slices.Contains(from, n) && rapid.Bool().Draw(rt, "to "+string(n)) {
				to = append(to, n)
			}
		}
		checkShape(rt, nodes, sim.OneWay(from, to), matrix(nodes, func(a, b sim.NodeID) bool {
			return !(slices.Contains(from, a) && slices.Contains(to, b))
		}))
	})
}

// MajorityMinority splits the nodes into a strict majority and the rest,
// drawn from the stream given.
func TestMajorityMinorityShape(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		nodes := genNodes(3, 7).Draw(rt, "nodes")
		seed := rapid.Uint64().Draw(rt, "seed")
		cuts := sim.MajorityMinority(nodes, sim.NewStream(seed, "mm"))
		require.Equal(rt, cuts, sim.MajorityMinority(nodes, sim.NewStream(seed, "mm")), "same stream, same split")
		require.Len(rt, cuts, 2)
		major, minor := cuts[0].From, cuts[0].To
		if len(major) < len(minor) {
			major, minor = minor, major
		}
		require.Len(rt, major, len(nodes)/2+1, "a strict majority")
		require.Len(rt, minor, len(nodes)-len(major))
		all := append(slices.Clone(major), minor...)
		slices.Sort(all)
		require.Equal(rt, nodes, all, "the two sides cover every node once")
		checkShape(rt, nodes, cuts, matrix(nodes, func(a, b sim.NodeID) bool {
			return slices.Contains(major, a) == slices.Contains(major, b)
		}))
	})
	// The draw is random: over streams, different minorities come up.
	nodes := ids("a", "b", "c", "d", "e")
	minorities := map[string]bool{}
	for seed := uint64(0); seed < 50; seed++ {
		cuts := sim.MajorityMinority(nodes, sim.NewStream(seed, "mm"))
		minorities[fmt.Sprint(cuts[1].From)] = true
	}
	assert.Greater(t, len(minorities), 3)
}

// Bridge splits the others into two halves that cannot talk to each other
// but both talk to the bridge node.
func TestBridgeShape(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		nodes := genNodes(3, 7).Draw(rt, "nodes")
		bridge := rapid.SampledFrom(nodes).Draw(rt, "bridge")
		cuts := sim.Bridge(bridge, nodes)
		require.Len(rt, cuts, 2)
		left, right := cuts[0].From, cuts[0].To
		require.LessOrEqual(rt, max(len(left), len(right))-min(len(left), len(right)), 1, "halves")
		require.NotContains(rt, left, bridge)
		require.NotContains(rt, right, bridge)
		checkShape(rt, nodes, cuts, matrix(nodes, func(a, b sim.NodeID) bool {
			return a == bridge || b == bridge || slices.Contains(left, a) == slices.Contains(left, b)
		}))
	})
}

// Ring lets each node talk only to its two neighbours in the order given.
func TestRingShape(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		nodes := rapid.Permutation(genNodes(1, 7).Draw(rt, "nodes")).Draw(rt, "order")
		pos := map[sim.NodeID]int{}
		for i, n := range nodes {
			pos[n] = i
		}
		n := len(nodes)
		checkShape(rt, nodes, sim.Ring(nodes), matrix(nodes, func(a, b sim.NodeID) bool {
			d := (pos[b] - pos[a] + n) % n
			return d == 0 || d == 1 || d == n-1
		}))
	})
}

// The helpers copy their inputs: changing the caller's slice later does
// not change a plan built from it.
func TestPartitionHelpersCopy(t *testing.T) {
	group := ids("a", "b")
	cuts := sim.Split(group, ids("c"))
	group[0] = "z"
	assert.Equal(t, ids("a", "b"), cuts[0].From)
	from := ids("a")
	cuts = sim.OneWay(from, ids("b"))
	from[0] = "z"
	assert.Equal(t, ids("a"), cuts[0].From)
}
