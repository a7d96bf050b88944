package sim

import (
	"fmt"
	"math/rand/v2"
	"sort"
)

// Cut blocks traffic from every node of From to every node of To. A
// partition of any shape, asymmetric ones included, is a list of cuts.
type Cut struct {
	From []NodeID `json:"from"`
	To   []NodeID `json:"to"`
}

func (c Cut) String() string { return fmt.Sprintf("%v -/-> %v", c.From, c.To) }

// Split cuts the groups off from each other in both directions; nodes in no
// group keep talking to everyone.
func Split(groups ...[]NodeID) []Cut {
	var cuts []Cut
	for i := range groups {
		for j := range groups {
			if i != j && len(groups[i]) > 0 && len(groups[j]) > 0 {
				cuts = append(cuts, Cut{From: clone(groups[i]), To: clone(groups[j])})
			}
		}
	}
	return cuts
}

// Isolate cuts node n off from all the others, both ways.
func Isolate(n NodeID, all []NodeID) []Cut {
	return Split([]NodeID{n}, without(all, n))
}

// OneWay blocks traffic from the from group to the to group only: the to
// group still hears nothing from from, but from hears to.
func OneWay(from, to []NodeID) []Cut {
	return []Cut{{From: clone(from), To: clone(to)}}
}

// MajorityMinority splits nodes into a random majority and minority.
func MajorityMinority(nodes []NodeID, r *rand.Rand) []Cut {
	shuffled := clone(nodes)
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	k := len(shuffled)/2 + 1
	return Split(sortedIDs(shuffled[:k]), sortedIDs(shuffled[k:]))
}

// Bridge splits nodes into two halves that cannot talk to each other but
// both talk to the bridge node (Jepsen's bridge).
func Bridge(bridge NodeID, nodes []NodeID) []Cut {
	rest := without(nodes, bridge)
	h := len(rest) / 2
	return Split(rest[:h], rest[h:])
}

// Ring lets each node talk only to its neighbours in the given order.
func Ring(nodes []NodeID) []Cut {
	n := len(nodes)
	var cuts []Cut
	for i, a := range nodes {
		var far []NodeID
		for j, b := range nodes {
			d := (j - i + n) % n
			if d != 0 && d != 1 && d != n-1 {
				far = append(far, b)
			}
		}
		if len(far) > 0 {
			cuts = append(cuts, Cut{From: []NodeID{a}, To: far})
		}
	}
	return cuts
}

func clone(ids []NodeID) []NodeID { return append([]NodeID(nil), ids...) }

func sortedIDs(ids []NodeID) []NodeID {
	out := clone(ids)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func without(ids []NodeID, x NodeID) []NodeID {
	var out []NodeID
	for _, id := range ids {
		if id != x {
			out = append(out, id)
		}
	}
	return out
}

// bitset is a set of node indices.
type bitset []uint64

func (b bitset) has(i int32) bool {
	w := int(i) >> 6
	return w < len(b) && b[w]&(1<<(uint(i)&63)) != 0
}

func (b *bitset) add(i int32) {
	w := int(i) >> 6
	for len(*b) <= w {
		*b = append(*b, 0)
	}
	(*b)[w] |= 1 << (uint(i) & 63)
}
