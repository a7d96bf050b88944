package registry

// Computing the slot table from the live members; pure, so it is tested on
// its own. It arranges as SOFARegistry's ScheduledSlotArranger: a table
// with a slot lacking a replica is repaired (dead replicas removed, a dead
// leader's follower promoted, gaps filled) and nothing else; only a table
// with every slot assigned and stable (every data server has installed it)
// is balanced, one step at a time, at most MaxLeaderMoves leaders and
// MaxFollowerMoves followers a step (DefaultSlotBalancer).

import "slices"

// The balancer's limits per step.
const (
	MaxLeaderMoves   = 6
	MaxFollowerMoves = 10
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

// computeTable keeps what it can of cur: live replicas stay, a dead
// leader's follower is promoted and gaps go to the least loaded data
// server; when nothing needed that and stable says the table has settled,
// it takes one balancing step. The result shares cur's slots until one
// changes: the meta leader arranges on every heartbeat, and a fresh copy
// of every slot each time was most of its allocation (tables are values,
// never changed in place).
func computeTable(cur *Table, data, sessions []Proc, slots int, stable bool) Table {
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
	assigned := false
	for i, s := range t.Slots {
		if !slices.Contains(data, s.Leader) { // a handful of data servers: a scan beats hashing
			s.Leader = Proc{}
		}
		if !slices.Contains(data, s.Follower) {
			s.Follower = Proc{}
		}
		if s.Leader == (Proc{}) {
			s.Leader, s.Follower = s.Follower, Proc{}
		}
		if s.Leader == (Proc{}) || (s.Follower == (Proc{}) && len(data) > 1) {
			assigned = true
		}
		w.set(i, s)
	}
	lead, total := load(&t)
	for i, s := range t.Slots {
		if s.Leader == (Proc{}) {
			s.Leader = least(data, lead, Proc{})
			lead[s.Leader]++
			total[s.Leader]++
		}
		if s.Follower == (Proc{}) && len(data) > 1 {
			s.Follower = least(data, total, s.Leader)
			total[s.Follower]++
		}
		w.set(i, s)
	}
	if !assigned && stable {
		balance(&w, data)
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
// hashing a Proc three times a slot was most of the arranger's time.
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

// least is the data server (not not) with the lowest count, the first in
// data order on a tie.
func least(data []Proc, count map[Proc]int, not Proc) Proc {
	var best Proc
	n := -1
	for _, p := range data {
		if p != not && (n < 0 || count[p] < n) {
			best, n = p, count[p]
		}
	}
	return best
}

// balance takes one step: followers move from data servers holding more
// than their share of replicas to those holding fewer (a new data server
// first gets followers), then leaders swap with their followers where the
// leader leads more than its share and the follower fewer.
func balance(w *slotWriter, data []Proc) {
	if len(data) < 2 {
		return
	}
	t := w.t
	slots := len(t.Slots)
	lead, total := load(t)
	fairTotal := (2*slots + len(data) - 1) / len(data)
	moves := 0
	for i, s := range t.Slots {
		if moves == MaxFollowerMoves {
			break
		}
		if total[s.Follower] <= fairTotal {
			continue
		}
		to := least(data, total, s.Leader)
		if to == s.Follower || total[to] >= fairTotal-1 {
			continue
		}
		total[s.Follower]--
		total[to]++
		s.Follower = to
		w.set(i, s)
		moves++
	}
	fair := (slots + len(data) - 1) / len(data)
	moves = 0
	for i, s := range t.Slots {
		if moves == MaxLeaderMoves {
			break
		}
		if s.Follower != (Proc{}) && lead[s.Leader] > fair && lead[s.Follower] < fair {
			lead[s.Leader]--
			lead[s.Follower]++
			s.Leader, s.Follower = s.Follower, s.Leader
			w.set(i, s)
			moves++
		}
	}
}
