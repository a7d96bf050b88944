package registry

// The meta leader's memos: it arranges the slot table on every tick, and
// nearly always nothing changed since the last time. members is
// remembered until the membership changes, and an arrangement that found
// nothing to change is not redone for the same table, members and
// stability: computeTable is pure, so the skipped call would have found
// the same.

type metaMemo struct {
	// gen counts changes of the leader's procs and roles.
	gen     uint64
	members membersMemo
	settled settledMemo
	sent    sentMemo
}

// sentMemo is the copy of its table a meta sends members, made once a
// table (a copy for every heartbeat of a member behind was 6% of the
// 10,000-client benchmark's allocations): members only replace a table
// they installed, never change it, as announce's one copy for every
// member already relies on.
type sentMemo struct {
	src  Table // slices shared with the table: tables are never changed in place
	copy *Table
}

// sentTable is the copy of the meta's table for its members.
func (m *MetaServer) sentTable() *Table {
	t, s := m.table(), &m.memo.sent
	if s.copy == nil || !sameTable(&s.src, t) {
		c := copyTable(t)
		s.src, s.copy = *t, &c
	}
	return s.copy
}

type membersMemo struct {
	ok             bool
	gen            uint64
	data, sessions []Proc
}

// settledMemo: arranging cur for these members found nothing to change.
type settledMemo struct {
	ok             bool
	cur            Table // slices shared with the table: tables are never changed in place
	data, sessions []Proc
	stable         bool
}

// membersChanged is called wherever procs or roles change (or are replaced).
func (m *MetaServer) membersChanged() { m.memo.gen++ }

// members lists the live data and session processes, by id. The lists are
// shared by the tables made of them, so they are never changed in place.
func (m *MetaServer) members() (data, sessions []Proc) {
	mm := &m.memo.members
	if mm.ok && mm.gen == m.memo.gen {
		return mm.data, mm.sessions
	}
	for _, id := range sortedKeys(m.procs) {
		if m.roles[id] == "data" {
			data = append(data, m.procs[id])
		} else {
			sessions = append(sessions, m.procs[id])
		}
	}
	*mm = membersMemo{ok: true, gen: m.memo.gen, data: data, sessions: sessions}
	return data, sessions
}

// settled reports whether arranging cur for data, sessions and stable was
// found to change nothing.
func (m *MetaServer) settled(cur *Table, data, sessions []Proc, stable bool) bool {
	s := &m.memo.settled
	return s.ok && s.stable == stable && sameTable(&s.cur, cur) && sameProcs(s.data, data) && sameProcs(s.sessions, sessions)
}

func (m *MetaServer) settle(cur *Table, data, sessions []Proc, stable bool) {
	m.memo.settled = settledMemo{ok: true, cur: *cur, data: data, sessions: sessions, stable: stable}
}

// sameTable: the same table value (its slices the very same arrays).
func sameTable(a, b *Table) bool {
	return a.Epoch == b.Epoch && sameArray(a.Slots, b.Slots) && sameArray(a.Data, b.Data) && sameArray(a.Sessions, b.Sessions)
}

func sameArray[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func sameProcs(a, b []Proc) bool {
	if sameArray(a, b) {
		return true
	}
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
