package sim

// nodeIndex finds a node's index by its name without a map: an
// open-addressed table of 32-bit entries, each a node's index plus one in
// its low 24 bits (0: empty) and 8 bits of its name's hash above them, so
// that a probe compares a name only when those 8 bits match. It is probed
// linearly and made again, twice as large, at three quarters full. A
// map[NodeID]int32 cost 42 bytes a node; this costs 5 to 11. The names stay
// in the slots, and nodes are never removed. Lookups never iterate, so no
// order depends on it.
type nodeIndex struct{ tab []uint32 }

const (
	nodeIdxBits = 24
	nodeIdxMask = 1<<nodeIdxBits - 1
	maxNodes    = nodeIdxMask // 16.7 million
)

// nameHash hashes a node's name as the fingerprint hashes strings.
func nameHash(id NodeID) uint64 {
	f := newFingerprint()
	f.str(string(id))
	return f.sum()
}

// get returns the index in nodes of the node named id.
func (x *nodeIndex) get(nodes []*slot, id NodeID) (int32, bool) {
	if len(x.tab) == 0 {
		return 0, false
	}
	h := nameHash(id)
	tag := uint32(h>>56) << nodeIdxBits
	mask := uint64(len(x.tab) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		e := x.tab[i]
		if e == 0 {
			return 0, false
		}
		if e&^nodeIdxMask == tag {
			if j := int32(e&nodeIdxMask) - 1; nodes[j].id == id {
				return j, true
			}
		}
	}
}

// added indexes the last of nodes, which get does not find yet.
func (x *nodeIndex) added(nodes []*slot) {
	if len(nodes) > maxNodes {
		panic("sim: more than 16,777,215 nodes in one world")
	}
	if 4*len(nodes) > 3*len(x.tab) {
		x.tab = make([]uint32, max(8, 2*len(x.tab)))
		for j := range nodes[:len(nodes)-1] {
			x.put(nodes, int32(j))
		}
	}
	x.put(nodes, int32(len(nodes)-1))
}

func (x *nodeIndex) put(nodes []*slot, j int32) {
	h := nameHash(nodes[j].id)
	mask := uint64(len(x.tab) - 1)
	i := h & mask
	for x.tab[i] != 0 {
		i = (i + 1) & mask
	}
	x.tab[i] = uint32(h>>56)<<nodeIdxBits | uint32(j+1)
}

// indexOf returns the index of the node named id.
func (w *World) indexOf(id NodeID) (int32, bool) { return w.byID.get(w.nodes, id) }
