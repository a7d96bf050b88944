package sim

import "math/bits"

// timerTable holds every node's live timers, one table for the world (a
// map per node cost each of 10,000 idle clients ~470 bytes): an
// open-addressed table of 24-byte entries, the timer's id and node packed
// in one word (ids stay below 2^40, checkID; nodes below 2^24, maxNodes)
// and its tag, probed linearly from a Fibonacci hash of the id scaled to
// the table's size, which need not be a power of two. It is made again
// with room for 8/5 of its timers when more than 4/5 or fewer than half
// of its entries are taken, so a burst past (the registry's start sets
// twice the timers it keeps) gives its room back; deletions shift the
// entries behind back (no tombstones). A map[TimerID]liveTimer took 61
// bytes a live timer in the registry benchmark; this takes 30 to 48, 38
// after each rebuild. Each rebuild follows a fifth of the timers put or
// dropped since the last. Lookups never iterate, so no order depends on
// it.
type timerTable struct {
	tab []timerSlot
	n   int
}

type timerSlot struct {
	key uint64 // id<<nodeIdxBits | node; 0: empty (ids start at 1)
	tag any
}

// liveTimer is a timer set and neither fired nor cancelled; its deadline
// is in its node's due heap.
type liveTimer struct {
	tag  any
	node int32
}

// timerTableMin is the size below which the table does not shrink.
const timerTableMin = 64

func (t *timerTable) home(id TimerID) int {
	h, _ := bits.Mul64(uint64(id)*0x9E3779B97F4A7C15, uint64(len(t.tab)))
	return int(h)
}

// next is the index after i, wrapping around.
func (t *timerTable) next(i int) int {
	if i++; i == len(t.tab) {
		return 0
	}
	return i
}

// find returns the index of id's entry, or -1.
func (t *timerTable) find(id TimerID) int {
	if t.n == 0 {
		return -1
	}
	for i := t.home(id); ; i = t.next(i) {
		k := t.tab[i].key
		if k>>nodeIdxBits == uint64(id) {
			return i
		}
		if k == 0 {
			return -1
		}
	}
}

// get returns the live timer id.
func (t *timerTable) get(id TimerID) (liveTimer, bool) {
	if i := t.find(id); i >= 0 {
		s := &t.tab[i]
		return liveTimer{tag: s.tag, node: int32(s.key & nodeIdxMask)}, true
	}
	return liveTimer{}, false
}

// live reports whether timer id is live.
func (t *timerTable) live(id TimerID) bool { return t.find(id) >= 0 }

// put adds timer id, new, of node with tag.
func (t *timerTable) put(id TimerID, node int32, tag any) {
	if 5*(t.n+1) > 4*len(t.tab) {
		t.resize(t.n + 1)
	}
	t.insert(timerSlot{key: uint64(id)<<nodeIdxBits | uint64(node), tag: tag})
	t.n++
}

func (t *timerTable) insert(s timerSlot) {
	i := t.home(TimerID(s.key >> nodeIdxBits))
	for t.tab[i].key != 0 {
		i = t.next(i)
	}
	t.tab[i] = s
}

// del drops timer id, if live.
func (t *timerTable) del(id TimerID) {
	i := t.find(id)
	if i < 0 {
		return
	}
	// Shift back every entry of the run after i that may sit at i: one
	// whose home is not cyclically in (i, j].
	for j := t.next(i); t.tab[j].key != 0; j = t.next(j) {
		h := t.home(TimerID(t.tab[j].key >> nodeIdxBits))
		if t.dist(h, j) >= t.dist(i, j) {
			t.tab[i] = t.tab[j]
			i = j
		}
	}
	t.tab[i] = timerSlot{}
	t.n--
	if len(t.tab) > timerTableMin && 2*t.n < len(t.tab) {
		t.resize(t.n)
	}
}

// dist is how far j is after i, cyclically.
func (t *timerTable) dist(i, j int) int {
	if j >= i {
		return j - i
	}
	return j + len(t.tab) - i
}

// resize makes the table again with room for 8/5 of n timers.
func (t *timerTable) resize(n int) {
	old := t.tab
	t.tab = make([]timerSlot, max(8, n*8/5))
	for i := range old {
		if old[i].key != 0 {
			t.insert(old[i])
		}
	}
}
