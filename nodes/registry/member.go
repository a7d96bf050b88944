package registry

import (
	"hash/crc32"
	"unsafe"

	"github.com/sofasim/sofasim/sim"
)

// peers keeps one dialled connection per peer, redialled after Closed.
type peers struct {
	env   *sim.Env
	conns map[sim.NodeID]sim.ConnID
}

func (p *peers) conn(id sim.NodeID) sim.ConnID {
	if c, ok := p.conns[id]; ok {
		return c
	}
	c := p.env.Dial(id)
	p.conns[id] = c
	return c
}

func (p *peers) send(id sim.NodeID, msg any) bool {
	if id == "" {
		return false
	}
	if !p.env.Send(p.conn(id), msg) {
		delete(p.conns, id)
		return p.env.Send(p.conn(id), msg)
	}
	return true
}

// closed forgets a dialled connection; it reports whether it was one.
func (p *peers) closed(c sim.ConnID) (sim.NodeID, bool) {
	for _, id := range sortedKeysID(p.conns) {
		if p.conns[id] == c {
			delete(p.conns, id)
			return id, true
		}
	}
	return "", false
}

// member is what data and session servers share: heartbeats to the meta
// leader (member_renew.go) and the slot table it answers with.
type member struct {
	cfg   Config
	env   *sim.Env
	role  string
	proc  Proc
	table Table
	peers peers
	renew renewer
	// onTable runs after a newer table was installed (old is the previous one).
	onTable func(old Table)
}

func (m *member) start(env *sim.Env, role string) {
	m.cfg.defaults()
	m.env, m.role = env, role
	m.proc = Proc{ID: string(env.ID()), Inc: env.Incarnation()}
	m.peers = peers{env: env, conns: map[sim.NodeID]sim.ConnID{}}
	m.renew.next = uint64(env.Incarnation()) << 32 // ids stay unique across restarts
	m.tick()
}

// heartbeat is the member's Heartbeat now.
func (m *member) heartbeat() *Heartbeat {
	hb := &Heartbeat{Role: m.role, Proc: m.proc, Epoch: m.table.Epoch}
	if m.cfg.Election == ElectionDB && m.table.Epoch > 0 {
		t := m.table // shares the slices: an installed table is never changed in place, only replaced
		hb.Table = &t
	}
	return hb
}

// handle takes the member's own messages and timers; it reports whether it did.
func (m *member) handle(msg any) bool {
	switch x := msg.(type) {
	case *HeartbeatResp:
		if x.Table != nil {
			m.install(x.Table)
		}
		m.answered(x)
	case *TablePush:
		m.install(x.Table)
	case heartbeatTick:
		m.tick()
	default:
		return m.renewMessage(msg)
	}
	return true
}

func (m *member) install(t *Table) {
	if t.Epoch <= m.table.Epoch {
		return
	}
	old := m.table
	// Shared, not copied: a table is a value built whole and then only
	// replaced, never changed in place (announce sends one to every member).
	m.table = *t
	m.env.Trace("registry/table-installed", t.Epoch)
	if m.onTable != nil {
		m.onTable(old)
	}
}

// leaderOf is the node leading the slot in the member's table.
func (m *member) leaderOf(slot int) sim.NodeID {
	if slot >= len(m.table.Slots) {
		return ""
	}
	return sim.NodeID(m.table.Slots[slot].Leader.ID)
}

// slotOf is SlotOf(dataID, slots) without its copy of the dataInfoId into
// bytes, an allocation: the checksum only reads them. It costs 8 ns, less
// than a lookup in a memo of it (which cost a session 49 bytes a client).
func (m *member) slotOf(dataID string) int {
	if dataID == "" || dataID[0] == '@' {
		return SlotOf(dataID, m.cfg.Slots)
	}
	return slotOfCRC(crc32.Checksum(unsafe.Slice(unsafe.StringData(dataID), len(dataID)), castagnoli), m.cfg.Slots)
}
