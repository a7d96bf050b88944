package registry

// Computing the slot table from the live members; pure, so it is tested on
// its own.

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
// leader's follower is promoted, gaps go to the least loaded data server,
// and leaders are balanced by swapping leader and follower.
func computeTable(cur *Table, data, sessions []Proc, slots int) Table {
	t := Table{Data: data, Sessions: sessions, Slots: make([]Slot, slots)}
	if len(data) == 0 {
		return t
	}
	live := map[Proc]bool{}
	for _, p := range data {
		live[p] = true
	}
	copy(t.Slots, cur.Slots)
	lead := map[Proc]int{}
	total := map[Proc]int{}
	for i := range t.Slots {
		s := &t.Slots[i]
		if !live[s.Leader] {
			s.Leader = Proc{}
		}
		if !live[s.Follower] {
			s.Follower = Proc{}
		}
		if s.Leader == (Proc{}) {
			s.Leader, s.Follower = s.Follower, Proc{}
		}
		if s.Leader != (Proc{}) {
			lead[s.Leader]++
			total[s.Leader]++
		}
		if s.Follower != (Proc{}) {
			total[s.Follower]++
		}
	}
	least := func(count map[Proc]int, not Proc) Proc {
		var best Proc
		n := -1
		for _, p := range data {
			if p != not && (n < 0 || count[p] < n) {
				best, n = p, count[p]
			}
		}
		return best
	}
	for i := range t.Slots {
		s := &t.Slots[i]
		if s.Leader == (Proc{}) {
			s.Leader = least(lead, Proc{})
			lead[s.Leader]++
			total[s.Leader]++
		}
		if s.Follower == (Proc{}) && len(data) > 1 {
			s.Follower = least(total, s.Leader)
			total[s.Follower]++
		}
	}
	// Balance leaders: swap where the leader has too many and the follower too few.
	fair := (slots + len(data) - 1) / len(data)
	for i := range t.Slots {
		s := &t.Slots[i]
		if s.Follower != (Proc{}) && lead[s.Leader] > fair && lead[s.Follower] < fair {
			lead[s.Leader]--
			lead[s.Follower]++
			s.Leader, s.Follower = s.Follower, s.Leader
		}
	}
	return t
}
