package registry

// What a session does when the slot table changes: re-route, answer the new
// leaders' migration requests and re-sync its publishers.

import (
	"slices"
	"unsafe"

	"github.com/sofasim/sofasim/sim"
)

type migWait struct {
	from sim.NodeID
	r    *MigrateReq
}

// onTable resends the pending writes to the new leaders, then re-syncs its
// publishers of every slot whose leader changed: a write this session had
// acknowledged may have been taken by a leader that had already lost the
// slot (it had not heard of the newer table either), and the new leader
// may have synced from this session before that write. The session is the
// truth about its own clients' publishers. Slots are compared leader by
// leader even when epochs were skipped (SOFARegistry compares the slots'
// leaders too): a leader that lost a slot and regained it in epochs this
// session missed migrated from every session again. A slot this session
// never wrote to holds nothing of it, and needs no sync.
func (s *SessionServer) onTable(old Table) {
	s.dropRestarted(old)
	s.retryAll()
	waiting := s.migWait
	s.migWait = nil
	for _, w := range waiting {
		s.onMigrate(w.from, w.r)
	}
	t := &s.m.table
	moved := make([]bool, len(t.Slots))
	for i := range t.Slots {
		moved[i] = i >= len(old.Slots) || !sameProc(&old.Slots[i].Leader, &t.Slots[i].Leader)
		if moved[i] && s.wrote.has(i) {
			s.queue(&DataWrite{Kind: "sync", Slot: i, Session: s.m.proc}, 0, "", 0)
		}
	}
	s.dropMovedMerges(moved)
	s.refetchNoticed()
}

// slotPubs is the session's publishers in a slot.
func (s *SessionServer) slotPubs(slot int) []Pub {
	var out []Pub
	for _, reg := range s.slotRegs(slot) {
		out = append(out, s.pubs[reg].Pub)
	}
	return out
}

// onMigrate answers a new slot leader with this session's publishers and
// cached versions in the slots, once it routes by the leader's table. The
// answer goes on the connection this session's writes to that server take,
// so that a sync snapshot sent earlier cannot arrive after it and drop what
// the answer holds.
func (s *SessionServer) onMigrate(from sim.NodeID, r *MigrateReq) {
	if r.Epoch > s.m.table.Epoch {
		// Not before this session routes by that table: until then its
		// writes still go to the slot's previous leader, and an answer now
		// would miss them. Answered once the table is installed.
		s.migWait = append(s.migWait, migWait{from, r})
		return
	}
	want := make([]bool, s.cfg.Slots)
	for _, i := range r.Slots {
		if i >= 0 && i < len(want) {
			want[i] = true
		}
	}
	resp := &MigrateResp{Epoch: r.Epoch, Session: s.m.proc, Slots: r.Slots, Versions: map[string]uint64{}}
	var regs []string
	for slot, w := range want {
		if w {
			regs = append(regs, s.slotRegs(slot)...)
		}
	}
	sortStrings(regs)
	for _, reg := range regs {
		resp.Pubs = append(resp.Pubs, s.pubs[reg].Pub)
	}
	// A walk of the cache, not an index of it by slot: answers are few
	// (a new slot leader's), the index was 44 bytes a client.
	for id, d := range s.cache { //detlint:allow fills a map
		if want[s.slotOf(id)] {
			resp.Versions[id] = d.Version
		}
	}
	s.m.peers.send(from, resp)
}

// dropRestarted closes this session's connections to data servers that
// restarted since the old table: they lead to the dead process, and what
// is sent on them (writes, migration answers) would be lost until the
// keepalive notices.
func (s *SessionServer) dropRestarted(old Table) {
	if slices.EqualFunc(old.Data, s.m.table.Data, func(a, b Proc) bool { return sameProc(&a, &b) }) {
		return // most tables: no data server joined, left or restarted
	}
	was := map[string]uint32{}
	for _, p := range old.Data {
		was[p.ID] = p.Inc
	}
	for _, p := range s.m.table.Data {
		id := sim.NodeID(p.ID)
		if inc, ok := was[p.ID]; ok && inc == p.Inc {
			continue
		}
		if c, ok := s.m.peers.conns[id]; ok {
			s.env.Reached("registry/session-dropped-connection-to-restarted-data")
			s.env.Close(c)
			delete(s.m.peers.conns, id)
		}
	}
}

// sameProc is *a == *b, the string compared only when it is not the same
// one: a session compares every slot's leader with each table it installs
// (about 70 tables a session in the 10,000-client benchmark), and the
// tables' names are mostly the meta leader's same strings.
func sameProc(a, b *Proc) bool {
	return a.Inc == b.Inc && len(a.ID) == len(b.ID) && (unsafe.StringData(a.ID) == unsafe.StringData(b.ID) || a.ID == b.ID)
}
