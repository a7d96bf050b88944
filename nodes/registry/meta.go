package registry

import (
	"encoding/json"
	"time"

	"github.com/sofasim/sofasim/nodes/raftkv"
	"github.com/sofasim/sofasim/sim"
)

// MetaServer is a meta server. With election=db (the default, as
// SOFARegistry v6) it is elected through the lock database and holds the
// slot table in memory only (meta_db.go); with election=raft it embeds a
// raftkv server whose state machine is the slot table and acts as meta
// leader while it leads raft.
type MetaServer struct {
	cfg Config
	env *sim.Env
	// election=raft
	raft    *raftkv.Server
	sm      *metaSM
	ready   bool   // leads raft and its term's no-op applied
	term    uint64 // term of readiness
	propose bool   // a table proposal in flight
	again   bool   // an arrangement was asked for while one was in flight
	noop    bool   // the no-op in flight
	// election=db
	db *dbElector
	dbLeader
	// the meta leader's view of the members
	leases map[string]time.Duration
	procs  map[string]Proc
	roles  map[string]string
	conns  map[string]sim.ConnID // member -> its latest heartbeat connection
	epochs map[string]uint64     // member -> the table epoch it last reported

	prov provideStore // provide data (ops_meta.go)
	rec  reconcile    // slot reconcile stop (reconcile.go)
	mdc  metaMultiDC  // remote data centres' slot tables (multidc.go)
	memo metaMemo     // members and settled arrangements (perf_meta.go)
}

// metaTick checks the members' leases (every 200 ms); arrangeTick runs
// the slot arranger (every ArrangeInterval).
type (
	metaTick    struct{}
	arrangeTick struct{}
)

// NewMeta builds a meta server.
func NewMeta(cfg Config, id sim.NodeID) *MetaServer {
	cfg.defaults()
	m := &MetaServer{cfg: cfg, sm: &metaSM{}}
	if cfg.Election == ElectionDB {
		m.db = &dbElector{}
		return m
	}
	// HeartbeatTick 1: the metas keep raftkv's former heartbeat (every tick) so this
	// system's histories and pins stay as measured; raftkv alone moved to 3.
	m.raft = raftkv.NewServer(raftkv.ServerConfig{HeartbeatTick: 1, ID: id, Peers: cfg.Metas, SnapshotEvery: cfg.SnapshotEvery, CatchUpEntries: 16,
		NewStateMachine: func() raftkv.StateMachine { m.sm = &metaSM{}; return m.sm }})
	return m
}

func (m *MetaServer) Start(env *sim.Env) {
	m.env = env
	m.leases, m.procs, m.roles, m.conns = map[string]time.Duration{}, map[string]Proc{}, map[string]string{}, map[string]sim.ConnID{}
	m.epochs = map[string]uint64{}
	m.membersChanged()
	m.prov.load(env)
	if m.db != nil {
		m.db.onChange = m.checkLeader
		m.db.start(env, m.cfg)
	} else {
		m.raft.Start(env)
	}
	env.SetTimer(200*time.Millisecond, metaTick{})
	env.SetTimer(m.cfg.ArrangeInterval, arrangeTick{})
	m.startMultiDC()
}

func (m *MetaServer) Timer(id sim.TimerID, tag any) {
	switch tag.(type) {
	case metaTick:
		m.tick()
		m.env.SetTimer(200*time.Millisecond, metaTick{})
		return
	case arrangeTick:
		m.checkLeader()
		m.maybePropose()
		m.env.SetTimer(m.cfg.ArrangeInterval, arrangeTick{})
		return
	}
	if m.multiDCTimer(tag) {
		return
	}
	if m.db != nil {
		m.db.handle(tag)
		return
	}
	m.raft.Timer(id, tag)
}

func (m *MetaServer) Message(conn sim.ConnID, from sim.NodeID, msg any) {
	switch x := msg.(type) {
	case *Heartbeat:
		m.onHeartbeat(conn, x)
		return
	case *MetaLeaderQuery:
		l, e := m.leaderInfo()
		m.env.Send(conn, &MetaLeaderInfo{ID: x.ID, Leader: l, Epoch: e})
		return
	}
	if m.opsMessage(conn, msg) || m.multiDCMessage(conn, msg) {
		return
	}
	if m.db != nil {
		m.db.handle(msg)
		return
	}
	m.raft.Message(conn, from, msg)
}

func (m *MetaServer) Connected(conn sim.ConnID, peer sim.NodeID) {
	if m.raft != nil {
		m.raft.Connected(conn, peer)
	}
}

func (m *MetaServer) Datagram(from sim.NodeID, msg any) {
	if m.raft != nil {
		m.raft.Datagram(from, msg)
	}
}

func (m *MetaServer) Closed(conn sim.ConnID, peer sim.NodeID) {
	if m.conns[string(peer)] == conn {
		delete(m.conns, string(peer))
	}
	m.mdc.peers.closed(conn)
	if m.db != nil {
		m.db.peers.closed(conn)
		return
	}
	m.raft.Closed(conn, peer)
}

// MetaStatus is what a harness samples.
type MetaStatus struct {
	Raft       raftkv.Status // election=raft only
	MetaLeader bool
	Term       uint64 // raft term, or the lock's term (takeovers + 1)
	Epoch      uint64 // the table's epoch (raft: applied)
	// election=db: the meta's wall clock (unix ms) and whether the leader
	// is still warming up (it neither evicts nor arranges yet).
	Clock     int64
	WarmingUp bool
}

func (m *MetaServer) Status() MetaStatus {
	if m.db != nil {
		return MetaStatus{MetaLeader: m.believes(), Term: m.db.term, Epoch: m.local.Epoch, Clock: m.env.Now().UnixMilli(),
			WarmingUp: m.believes() && !m.warmed()}
	}
	st := m.raft.Status()
	return MetaStatus{Raft: st, MetaLeader: m.ready && m.raft.IsLeader(), Term: m.term, Epoch: m.sm.table.Epoch}
}

// Table returns a copy of the meta server's table.
func (m *MetaServer) Table() Table { return copyTable(m.table()) }

func (m *MetaServer) table() *Table {
	if m.db != nil {
		return &m.local
	}
	return &m.sm.table
}

// acting: this meta acts as meta leader now.
func (m *MetaServer) acting() bool {
	if m.db != nil {
		return m.dbLeader.leading && m.believes()
	}
	return m.ready
}

func (m *MetaServer) checkLeader() {
	if m.db != nil {
		m.checkDBLeader()
		return
	}
	st := m.raft.Status()
	if !m.raft.IsLeader() {
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
		m.raft.Propose(b, func(_ []byte, err error) {
			m.noop = false
			if err != nil || !m.raft.IsLeader() || m.raft.Status().Term != term {
				return
			}
			m.ready, m.term = true, term
			if term > 2 {
				m.env.Reached("registry/meta-leader-moved")
			}
			now := m.env.Monotonic()
			// A new leader grants every member of the table a fresh lease.
			m.leases, m.procs, m.roles = map[string]time.Duration{}, map[string]Proc{}, map[string]string{}
			m.membersChanged()
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

// onHeartbeat renews the member's lease and answers with the table if the
// member's is older; a meta that does not act as leader answers with the
// leader it knows of (SOFARegistry's SofaRegistryMetaLeaderException). A
// member that joins or restarts wakes the arranger at once, as the real
// data server manager's NodeAdded does, but not for the first table: the
// members that start together (a cold start) make one table, spread over
// every data server, as after the real leader's warm-up (ours skips the
// cluster's first warm-up), rather than one each and dozens of balancing
// rounds.
func (m *MetaServer) onHeartbeat(conn sim.ConnID, hb *Heartbeat) {
	m.checkLeader()
	if !m.acting() {
		m.env.Send(conn, m.leaderAnswer())
		return
	}
	if m.db != nil {
		m.learnTable(hb.Table)
	}
	id := hb.Proc.ID
	m.conns[id], m.epochs[id] = conn, hb.Epoch
	joined := false
	if cur, ok := m.procs[id]; !ok || cur.Inc <= hb.Proc.Inc {
		if !ok || cur != hb.Proc || m.roles[id] != hb.Role {
			m.membersChanged()
			joined = true
		}
		m.procs[id], m.roles[id] = hb.Proc, hb.Role
		m.leases[id] = m.env.Monotonic() + m.cfg.Lease
	}
	resp := m.leaderAnswer()
	if hb.Epoch < m.table().Epoch {
		resp.Table = m.sentTable()
	}
	m.env.Send(conn, resp)
	if joined && len(m.table().Data) > 0 {
		m.maybePropose()
	}
}

// leaderInfo is the meta leader this meta knows of and its epoch: under db
// the lock row's owner and trusted-until time, under raft the raft leader
// and term.
func (m *MetaServer) leaderInfo() (sim.NodeID, int64) {
	if m.db != nil {
		return sim.NodeID(m.db.leader), m.db.expire
	}
	st := m.raft.Status()
	if m.acting() {
		return m.env.ID(), int64(st.Term)
	}
	return st.Lead, int64(st.Term)
}

// leaderAnswer is the answer to a heartbeat without its table: whether
// this meta acts as leader, and the leader it knows of.
func (m *MetaServer) leaderAnswer() *HeartbeatResp {
	l, e := m.leaderInfo()
	return &HeartbeatResp{Leader: m.acting(), MetaLeader: string(l), LeaderEpoch: e}
}

func (m *MetaServer) tick() {
	m.checkLeader()
	if !m.acting() || !m.warmed() {
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
			m.membersChanged()
			m.env.Trace("registry/lease-expired", id)
			expired++
		}
	}
	if expired > 1 {
		m.env.Reached("registry/leases-expired-together")
	}
	if expired > 0 {
		m.maybePropose() // NodeRemoved wakes the arranger
	}
}

// maybePropose runs the arranger once (ScheduledSlotArranger.arrangeSync).
func (m *MetaServer) maybePropose() {
	if m.propose {
		m.again = true // the real arranger runs one arrangement at a time
		return
	}
	if !m.acting() || !m.warmed() {
		return
	}
	data, sessions := m.members()
	cur := m.table()
	if m.protected(data) {
		data = cur.Data // protection mode: the data servers and their slots stay as they are
	}
	stable := m.stable(cur, data)
	if !m.rec.stopped && m.settled(cur, data, sessions, stable) {
		return
	}
	next := m.arranged(cur, data, sessions)
	if tablesEqual(cur, &next) {
		if !m.rec.stopped {
			m.settle(cur, data, sessions, stable)
		}
		return
	}
	next.Epoch = m.nextEpoch(cur.Epoch)
	m.commit(cur, next, func(ok bool) {
		if m.again {
			m.again = false
			m.maybePropose()
		}
	})
}

// commit makes next (built on cur) the table: installed at once under
// election=db, proposed through raft otherwise; done hears whether it applied.
func (m *MetaServer) commit(cur *Table, next Table, done func(ok bool)) {
	if m.db != nil {
		m.install(next)
		done(true)
		return
	}
	b, _ := json.Marshal(metaCmd{Op: "table", Table: &next})
	m.propose = true
	obs := -1
	if m.cfg.Observer != nil && m.raft.IsLeader() {
		obs = m.cfg.Observer.ProposeTable(m.env.ID(), cur.Epoch)
	}
	m.raft.Propose(b, func(resp []byte, err error) {
		m.propose = false
		if obs >= 0 {
			m.cfg.Observer.ProposeDone(obs, err == nil, err == nil && string(resp) == "ok")
		}
		ok := err == nil && string(resp) == "ok"
		if ok {
			m.announce()
		}
		done(ok)
	})
}

// stable: every live data server has installed the table (SOFARegistry
// waits for their slot status to report every slot stable): only then is
// it balanced further.
func (m *MetaServer) stable(cur *Table, data []Proc) bool {
	for _, p := range data {
		if m.epochs[p.ID] != cur.Epoch {
			return false
		}
	}
	return true
}

// announce pushes the new table to every member.
func (m *MetaServer) announce() {
	t := m.sentTable()
	m.env.Trace("registry/table", t.Epoch, len(t.Data), len(t.Sessions))
	for _, id := range sortedKeys(m.conns) {
		m.env.Send(m.conns[id], &TablePush{Table: t})
	}
}
