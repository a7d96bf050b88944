package registry

import (
	"encoding/json"
	"time"

	"github.com/sofasim/sofasim/nodes/raftkv"
	"github.com/sofasim/sofasim/sim"
)

// MetaServer is a meta server: a raftkv server with the slot table state
// machine, acting as meta leader while it leads raft.
type MetaServer struct {
	*raftkv.Server
	cfg     Config
	env     *sim.Env
	sm      *metaSM
	ready   bool   // leads raft and its term's no-op applied
	term    uint64 // term of readiness
	leases  map[string]time.Duration
	procs   map[string]Proc
	roles   map[string]string
	conns   map[string]sim.ConnID // member -> its latest heartbeat connection
	propose bool                  // a table proposal in flight
	noop    bool                  // the no-op in flight

	prov provideStore // provide data (ops_meta.go)
}

type metaTick struct{}

// NewMeta builds a meta server.
func NewMeta(cfg Config, id sim.NodeID) *MetaServer {
	cfg.defaults()
	m := &MetaServer{cfg: cfg, sm: &metaSM{}}
	m.Server = raftkv.NewServer(raftkv.ServerConfig{ID: id, Peers: cfg.Metas, SnapshotEvery: cfg.SnapshotEvery, CatchUpEntries: 16,
		NewStateMachine: func() raftkv.StateMachine { m.sm = &metaSM{}; return m.sm }})
	return m
}

func (m *MetaServer) Start(env *sim.Env) {
	m.env = env
	m.leases, m.procs, m.roles, m.conns = map[string]time.Duration{}, map[string]Proc{}, map[string]string{}, map[string]sim.ConnID{}
	m.prov.load(env)
	m.Server.Start(env)
	env.SetTimer(200*time.Millisecond, metaTick{})
}

func (m *MetaServer) Timer(id sim.TimerID, tag any) {
	if _, ok := tag.(metaTick); ok {
		m.tick()
		m.env.SetTimer(200*time.Millisecond, metaTick{})
		return
	}
	m.Server.Timer(id, tag)
}

func (m *MetaServer) Message(conn sim.ConnID, from sim.NodeID, msg any) {
	if hb, ok := msg.(*Heartbeat); ok {
		m.onHeartbeat(conn, hb)
		return
	}
	if m.opsMessage(conn, msg) {
		return
	}
	m.Server.Message(conn, from, msg)
}

func (m *MetaServer) Closed(conn sim.ConnID, peer sim.NodeID) {
	if m.conns[string(peer)] == conn {
		delete(m.conns, string(peer))
	}
	m.Server.Closed(conn, peer)
}

// MetaStatus is what a harness samples.
type MetaStatus struct {
	Raft       raftkv.Status
	MetaLeader bool
	Term       uint64
	Epoch      uint64 // applied table epoch
}

func (m *MetaServer) Status() MetaStatus {
	st := m.Server.Status()
	return MetaStatus{Raft: st, MetaLeader: m.ready && m.IsLeader(), Term: m.term, Epoch: m.sm.table.Epoch}
}

// Table returns a copy of the applied table.
func (m *MetaServer) Table() Table { return copyTable(&m.sm.table) }

func (m *MetaServer) checkLeader() {
	st := m.Server.Status()
	if !m.IsLeader() {
		m.ready, m.noop, m.propose = false, false, false
		return
	}
	if m.ready && st.Term != m.term {
		m.ready = false
	}
	if !m.ready && !m.noop {
		m.noop = true
		term := st.Term
		b, _ := json.Marshal(metaCmd{Op: "noop"})
		m.Server.Propose(b, func(_ []byte, err error) {
			m.noop = false
			if err != nil || !m.IsLeader() || m.Server.Status().Term != term {
				return
			}
			m.ready, m.term = true, term
			if term > 2 {
				m.env.Reached("registry/meta-leader-moved")
			}
			now := m.env.Monotonic()
			// A new leader grants every member of the table a fresh lease.
			m.leases, m.procs, m.roles = map[string]time.Duration{}, map[string]Proc{}, map[string]string{}
			for _, p := range m.sm.table.Data {
				m.leases[p.ID], m.procs[p.ID], m.roles[p.ID] = now+m.cfg.Lease, p, "data"
			}
			for _, p := range m.sm.table.Sessions {
				m.leases[p.ID], m.procs[p.ID], m.roles[p.ID] = now+m.cfg.Lease, p, "session"
			}
			m.env.Trace("registry/meta-leader", term)
		})
	}
}

func (m *MetaServer) onHeartbeat(conn sim.ConnID, hb *Heartbeat) {
	m.checkLeader()
	if !m.ready {
		m.env.Send(conn, &HeartbeatResp{Leader: false})
		return
	}
	id := hb.Proc.ID
	m.conns[id] = conn
	if cur, ok := m.procs[id]; !ok || cur.Inc <= hb.Proc.Inc {
		m.procs[id], m.roles[id] = hb.Proc, hb.Role
		m.leases[id] = m.env.Monotonic() + m.cfg.Lease
	}
	resp := &HeartbeatResp{Leader: true}
	if hb.Epoch < m.sm.table.Epoch {
		t := copyTable(&m.sm.table)
		resp.Table = &t
	}
	m.env.Send(conn, resp)
	m.maybePropose()
}

func (m *MetaServer) tick() {
	m.checkLeader()
	if !m.ready {
		return
	}
	now := m.env.Monotonic()
	expired := 0
	for _, id := range sortedKeys(m.leases) {
		if m.leases[id] < now {
			m.env.Reached("registry/lease-expired-" + m.roles[id])
			delete(m.leases, id)
			delete(m.procs, id)
			delete(m.roles, id)
			m.env.Trace("registry/lease-expired", id)
			expired++
		}
	}
	if expired > 1 {
		m.env.Reached("registry/leases-expired-together")
	}
	m.maybePropose()
}

func (m *MetaServer) maybePropose() {
	if !m.ready || m.propose || m.reconcileStopped() {
		return
	}
	var data, sessions []Proc
	for _, id := range sortedKeys(m.procs) {
		if m.roles[id] == "data" {
			data = append(data, m.procs[id])
		} else {
			sessions = append(sessions, m.procs[id])
		}
	}
	cur := &m.sm.table
	next := computeTable(cur, data, sessions, m.cfg.Slots)
	if tablesEqual(cur, &next) {
		return
	}
	next.Epoch = cur.Epoch + 1
	b, _ := json.Marshal(metaCmd{Op: "table", Table: &next})
	m.propose = true
	obs := -1
	if m.cfg.Observer != nil && m.IsLeader() {
		obs = m.cfg.Observer.ProposeTable(m.env.ID(), cur.Epoch)
	}
	m.Server.Propose(b, func(resp []byte, err error) {
		m.propose = false
		if obs >= 0 {
			m.cfg.Observer.ProposeDone(obs, err == nil, err == nil && string(resp) == "ok")
		}
		if err != nil || string(resp) != "ok" {
			return
		}
		m.env.Trace("registry/table", m.sm.table.Epoch, len(m.sm.table.Data), len(m.sm.table.Sessions))
		t := copyTable(&m.sm.table)
		for _, id := range sortedKeys(m.conns) {
			m.env.Send(m.conns[id], &TablePush{Table: &t})
		}
		m.maybePropose()
	})
}
