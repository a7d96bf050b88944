package registry

// Computing the slot table from the live members; pure, so it is tested on
// its own. It mirrors SOFARegistry's ScheduledSlotArranger (sofa-registry
// b3e89e9, server/server/meta/.../slot): a table in which a slot lacks its
// leader or follower is assigned (DefaultSlotAssigner) and nothing else;
// only a table with every slot assigned and stable (every data server has
// installed it) is balanced, one kind of move a round (DefaultSlotBalancer
// and NaiveBalancePolicy, table_balance.go). Where the real code breaks a
// tie by hash-map order, ours takes the data servers in table order (by
// id) and slots in ascending order, so a table is a function of its inputs.

import (
	"cmp"
	"slices"
)

// The balancer's limits per round (NaiveBalancePolicy:
// registry.slot.leader.max.move, registry.slot.follower.max.move,
// registry.slot.balance.threshold in percent).
const (
	MaxLeaderMoves   = 6
	MaxFollowerMoves = 10
	BalanceThreshold = 10
)

// copyTable copies a table so that a node never shares one with another.
func copyTable(t *Table) Table {
	return Table{Epoch: t.Epoch, Slots: append([]Slot(nil), t.Slots...), Data: append([]Proc(nil), t.Data...), Sessions: append([]Proc(nil), t.Sessions...)}
}

// tablesEqual compares two tables, ignoring their epochs.
func tablesEqual(a, b *Table) bool {
	if len(a.Slots) != len(b.Slots) || len(a.Data) != len(b.Data) || len(a.Sessions) != len(b.Sessions) {
		return false
	}
	for i := range a.Slots {
		if a.Slots[i] != b.Slots[i] {
			return false
		}
	}
	for i := range a.Data {
		if a.Data[i] != b.Data[i] {
			return false
		}
	}
	for i := range a.Sessions {
		if a.Sessions[i] != b.Sessions[i] {
			return false
		}
	}
	return true
}

// computeTable makes the next table from cur for the live data servers:
// dead data servers lose their slots, and if a slot then lacks its leader
// or follower it is assigned (assign) and nothing else; otherwise, when
// stable says every data server has installed cur, it takes one balancing
// step. The result shares cur's slots until one changes: the meta leader
// arranges every ArrangeInterval, and a fresh copy of every slot each time
// was most of its allocation (tables are values, never changed in place).
func computeTable(cur *Table, data, sessions []Proc, slots int, stable bool) Table {
	return arrangeTable(cur, data, sessions, slots, stable, false)
}

// arrangeTable is computeTable, filling gaps with the real
// DefaultSlotAssigner when realAssign is set (Config.RealAssigner).
func arrangeTable(cur *Table, data, sessions []Proc, slots int, stable, realAssign bool) Table {
	t := Table{Data: data, Sessions: sessions}
	if len(data) == 0 {
		t.Slots = make([]Slot, slots)
		return t
	}
	w := slotWriter{t: &t}
	if len(cur.Slots) == slots {
		t.Slots = cur.Slots
	} else {
		t.Slots = make([]Slot, slots)
		copy(t.Slots, cur.Slots)
		w.owned = true
	}
	lacking := false
	for i, s := range t.Slots {
		if !slices.Contains(data, s.Leader) { // a handful of data servers: a scan beats hashing
			s.Leader = Proc{}
		}
		if !slices.Contains(data, s.Follower) {
			s.Follower = Proc{}
		}
		if s.Leader == (Proc{}) || (s.Follower == (Proc{}) && len(data) > 1) {
			lacking = true
		}
		w.set(i, s)
	}
	b := newBuilder(&w, data)
	switch {
	case lacking && realAssign:
		b.assign()
	case lacking:
		b.repair()
	case stable:
		b.balance()
	}
	return t
}

// slotWriter changes a table's slots, copying them on the first change
// (until then they are another table's).
type slotWriter struct {
	t     *Table
	owned bool
}

func (w *slotWriter) set(i int, s Slot) {
	if w.t.Slots[i] == s {
		return
	}
	if !w.owned {
		w.t.Slots = append([]Slot(nil), w.t.Slots...)
		w.owned = true
	}
	w.t.Slots[i] = s
}

// load counts the slots each data server leads, and leads or follows. It
// counts in a short list first: a table has a handful of data servers, and
// hashing a Proc three times a slot was most of the arranger's time. Only
// the tests use it now; the arranger counts in newBuilder.
func load(t *Table) (lead, total map[Proc]int) {
	type count struct {
		p           Proc
		lead, total int
	}
	var counts []count
	of := func(p Proc) *count {
		for i := range counts {
			if counts[i].p == p {
				return &counts[i]
			}
		}
		counts = append(counts, count{p: p})
		return &counts[len(counts)-1]
	}
	for _, s := range t.Slots {
		if s.Leader != (Proc{}) {
			c := of(s.Leader)
			c.lead++
			c.total++
		}
		if s.Follower != (Proc{}) {
			of(s.Follower).total++
		}
	}
	lead, total = make(map[Proc]int, len(counts)), make(map[Proc]int, len(counts))
	for _, c := range counts {
		if c.lead > 0 {
			lead[c.p] = c.lead
		}
		total[c.p] = c.total
	}
	return lead, total
}

// builder is SlotTableBuilder for one follower a slot: the slots being
// built and each data server's counts of leaders and followers.
type builder struct {
	w          *slotWriter
	data       []Proc
	lead, foll []int // by index in data
}

func newBuilder(w *slotWriter, data []Proc) *builder {
	b := &builder{w: w, data: data, lead: make([]int, len(data)), foll: make([]int, len(data))}
	for _, s := range w.t.Slots {
		if i := b.index(s.Leader); i >= 0 {
			b.lead[i]++
		}
		if i := b.index(s.Follower); i >= 0 {
			b.foll[i]++
		}
	}
	return b
}

// index of p in data (-1: none or not live).
func (b *builder) index(p Proc) int {
	if p == (Proc{}) {
		return -1
	}
	return slices.Index(b.data, p)
}

func (b *builder) slot(i int) Slot { return b.w.t.Slots[i] }

// replaceLeader makes data[d] the slot's leader; if it followed the slot it
// stops, and the old leader is no longer a replica (SlotTableBuilder.
// replaceLeader): the next round assigns the missing follower.
func (b *builder) replaceLeader(slot, d int) {
	s := b.slot(slot)
	if i := b.index(s.Leader); i >= 0 {
		b.lead[i]--
	}
	if s.Follower == b.data[d] {
		s.Follower = Proc{}
		b.foll[d]--
	}
	s.Leader = b.data[d]
	b.lead[d]++
	b.w.set(slot, s)
}

// moveFollower replaces the slot's follower with data[d].
func (b *builder) moveFollower(slot, d int) {
	s := b.slot(slot)
	if i := b.index(s.Follower); i >= 0 {
		b.foll[i]--
	}
	s.Follower = b.data[d]
	b.foll[d]++
	b.w.set(slot, s)
}

// holds: data[d] leads or follows the slot.
func (b *builder) holds(d, slot int) bool {
	s := b.slot(slot)
	return s.Leader == b.data[d] || s.Follower == b.data[d]
}

// The comparators (Comparators): by leaders then followers, or followers
// then leaders, ascending or descending; sorts are stable over data order.
func (b *builder) leastLeaders(x, y int) int {
	return cmp.Or(cmp.Compare(b.lead[x], b.lead[y]), cmp.Compare(b.foll[x], b.foll[y]))
}
func (b *builder) mostLeaders(x, y int) int { return b.leastLeaders(y, x) }
func (b *builder) leastFollowers(x, y int) int {
	return cmp.Or(cmp.Compare(b.foll[x], b.foll[y]), cmp.Compare(b.lead[x], b.lead[y]))
}
func (b *builder) mostFollowers(x, y int) int { return b.leastFollowers(y, x) }

// servers lists the data servers (indexes) keep accepts, sorted by by.
func (b *builder) servers(keep func(d int) bool, by func(x, y int) int) []int {
	var out []int
	for d := range b.data {
		if keep(d) {
			out = append(out, d)
		}
	}
	slices.SortStableFunc(out, by)
	return out
}

// assign is DefaultSlotAssigner: every slot without a leader gets one
// (slots that have a follower first; DefaultSlotLeaderSelector: its
// follower with the fewest leaders if that one leads fewer than the high
// water mark, else the data server with the fewest leaders), then every
// slot without a follower gets the data server with the fewest followers
// that does not hold it.
func (b *builder) assign() {
	high := highWater(ceilDiv(len(b.w.t.Slots), len(b.data)))
	var leaderless []int
	lack := make([]bool, len(b.w.t.Slots))
	for i, s := range b.w.t.Slots {
		if s.Leader == (Proc{}) {
			leaderless = append(leaderless, i)
		}
		lack[i] = s.Follower == (Proc{})
	}
	// FewerFollowerFirstStrategy: with one follower a slot, those that have it first.
	none := func(i int) int {
		if b.slot(i).Follower == (Proc{}) {
			return 1
		}
		return 0
	}
	slices.SortStableFunc(leaderless, func(x, y int) int { return cmp.Compare(none(x), none(y)) })
	all := func(int) bool { return true }
	for _, i := range leaderless {
		next := -1
		if f := b.index(b.slot(i).Follower); f >= 0 && b.lead[f] < high {
			next = f
		}
		if next < 0 {
			next = b.servers(all, b.leastLeaders)[0]
		}
		if b.slot(i).Follower == b.data[next] {
			lack[i] = true
		}
		b.replaceLeader(i, next)
	}
	if len(b.data) < 2 {
		return
	}
	for i := range lack {
		if !lack[i] {
			continue
		}
		for _, d := range b.servers(all, b.leastFollowers) {
			if !b.holds(d, i) {
				b.moveFollower(i, d)
				break
			}
		}
	}
}

// repair fills a table's gaps as this model always has: a dead leader's
// follower takes over, then slot by slot a missing leader goes to the data
// server leading fewest and a missing follower to the one holding fewest
// replicas (the first in table order on a tie). assign above is the real
// DefaultSlotAssigner (Config.RealAssigner). It is not the default: a data
// server restarted within one arrange tick gets most of its old slots back
// as an empty leader (their followers already lead up to the high water
// mark; 76 of 86 with 3 data servers and 256 slots), so a promoted copy
// older than the sessions', the state serve-before-migration needs, is
// rare: registry-chaos finds that bug in 4 seeds of 200, 27 with repair.
func (b *builder) repair() {
	for i, s := range b.w.t.Slots {
		if s.Leader == (Proc{}) && s.Follower != (Proc{}) {
			b.replaceLeader(i, b.index(s.Follower))
		}
	}
	total := func(d int) int { return b.lead[d] + b.foll[d] }
	for i, s := range b.w.t.Slots {
		if s.Leader == (Proc{}) {
			b.replaceLeader(i, b.least(b.leadCount, -1))
		}
		if b.slot(i).Follower == (Proc{}) && len(b.data) > 1 {
			b.moveFollower(i, b.least(total, b.index(b.slot(i).Leader)))
		}
	}
}

func (b *builder) leadCount(d int) int { return b.lead[d] }

// least is the data server (not not) with the lowest count, the first in
// table order on a tie.
func (b *builder) least(count func(d int) int, not int) int {
	best := -1
	for d := range b.data {
		if d != not && (best < 0 || count(d) < count(best)) {
			best = d
		}
	}
	return best
}

// The water marks (NaiveBalancePolicy): high rounds avg x 1.1 up, low
// rounds avg x 0.9 down.
func highWater(avg int) int { return ceilDiv(avg*(100+BalanceThreshold), 100) }
func lowWater(avg int) int  { return avg * (100 - BalanceThreshold) / 100 }

func ceilDiv(a, b int) int { return (a + b - 1) / b }
