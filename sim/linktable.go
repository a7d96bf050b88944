package sim

// linkTable finds a link by its two nodes without a map: an open-addressed
// table of pointers to the links, probed linearly from a hash of the pair
// and compared by the nodes each link holds (the line a send draws from),
// made again twice as large at three quarters full. Links are never
// removed. A map[uint64]*link cost 27 bytes a link, two per client in the
// registry benchmark; this costs 11 to 21. Lookups never iterate, so no
// order depends on it.
type linkTable struct {
	tab []*link
	n   int
}

func linkHash(from, to int32) uint64 {
	f := newFingerprint()
	f.u64(uint64(uint32(from))<<32 | uint64(uint32(to)))
	return f.sum()
}

// get returns the link from from to to, or nil.
func (t *linkTable) get(from, to int32) *link {
	if len(t.tab) == 0 {
		return nil
	}
	mask := uint64(len(t.tab) - 1)
	for i := linkHash(from, to) & mask; ; i = (i + 1) & mask {
		if l := t.tab[i]; l == nil || l.from == from && l.to == to {
			return l
		}
	}
}

// add stores l, whose pair get does not find yet.
func (t *linkTable) add(l *link) {
	if 4*(t.n+1) > 3*len(t.tab) {
		old := t.tab
		t.tab = make([]*link, max(8, 2*len(old)))
		for _, x := range old {
			if x != nil {
				t.put(x)
			}
		}
	}
	t.put(l)
	t.n++
}

func (t *linkTable) put(l *link) {
	mask := uint64(len(t.tab) - 1)
	i := linkHash(l.from, l.to) & mask
	for t.tab[i] != nil {
		i = (i + 1) & mask
	}
	t.tab[i] = l
}
