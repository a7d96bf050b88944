package registry

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/sofasim/sofasim/nodes/raftkv"
	"github.com/sofasim/sofasim/sim"
)

// Config is shared by every registry node.
type Config struct {
	Metas    []sim.NodeID
	Data     []sim.NodeID
	Sessions []sim.NodeID
	// Slots in the table (default 256).
	Slots int
	// HeartbeatInterval of members to the meta servers (default 500ms);
	// Lease is how long the meta leader keeps a silent member (default 3s).
	HeartbeatInterval, Lease time.Duration
	// SyncInterval: session servers compare datum versions (default 2s).
	SyncInterval time.Duration
	// ReplicateInterval: data leaders batch replication (default 300ms).
	ReplicateInterval time.Duration
	// PushTimeout: a push without an ack failed (default 1s); RetryInterval
	// spaces retries of pushes and writes (default 300ms).
	PushTimeout, RetryInterval time.Duration
	// SnapshotEvery for the meta raft log (default 64).
	SnapshotEvery uint64
	// Observer, if set, is told of every table proposal of the meta
	// leaders (a harness records them for a linearizability check of the
	// meta store). It is not part of the servers' state.
	Observer MetaObserver
}

// MetaObserver hears of the meta store's compare-and-set proposals: a new
// table of epoch Expected+1 applies only on a table of epoch Expected.
type MetaObserver interface {
	// ProposeTable: node proposed the table of epoch expected+1; the
	// returned id names the proposal in ProposeDone.
	ProposeTable(node sim.NodeID, expected uint64) int
	// ProposeDone: applied says whether the table applied; known is false
	// when the outcome is unknown (leadership was lost).
	ProposeDone(id int, known, applied bool)
}

func (c *Config) defaults() {
	if c.Slots <= 0 {
		c.Slots = 256
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = 500 * time.Millisecond
	}
	if c.Lease <= 0 {
		c.Lease = 3 * time.Second
	}
	if c.SyncInterval <= 0 {
		c.SyncInterval = 2 * time.Second
	}
	if c.ReplicateInterval <= 0 {
		c.ReplicateInterval = 300 * time.Millisecond
	}
	if c.PushTimeout <= 0 {
		c.PushTimeout = time.Second
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = 300 * time.Millisecond
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = 64
	}
}

// AddServers adds every meta, data and session server to the world.
func AddServers(w *sim.World, cfg Config) {
	cfg.defaults()
	for _, id := range cfg.Metas {
		id := id
		w.AddNode(id, func() sim.Node { return NewMeta(cfg, id) })
	}
	for _, id := range cfg.Data {
		w.AddNode(id, func() sim.Node { return &DataServer{cfg: cfg} })
	}
	for _, id := range cfg.Sessions {
		w.AddNode(id, func() sim.Node { return &SessionServer{cfg: cfg} })
	}
}

// metaSM is the replicated state: the slot table.
type metaSM struct{ table Table }

type metaCmd struct {
	Op    string `json:"op"` // "noop" or "table"
	Table *Table `json:"table,omitempty"`
}

func (m *metaSM) Apply(_ uint64, cmd []byte) []byte {
	var c metaCmd
	if json.Unmarshal(cmd, &c) != nil {
		return []byte("bad")
	}
	if c.Op == "table" && c.Table != nil {
		if c.Table.Epoch != m.table.Epoch+1 {
			return []byte("stale")
		}
		m.table = *c.Table
	}
	return []byte("ok")
}
func (m *metaSM) Query([]byte) []byte {
	b, _ := json.Marshal(m.table)
	return b
}
func (m *metaSM) Snapshot() []byte {
	b, _ := json.Marshal(m.table)
	return b
}
func (m *metaSM) Restore(s []byte) error {
	m.table = Table{}
	if len(s) == 0 {
		return nil
	}
	return json.Unmarshal(s, &m.table)
}

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
	for _, id := range sortedKeys(m.leases) {
		if m.leases[id] < now {
			delete(m.leases, id)
			delete(m.procs, id)
			delete(m.roles, id)
			m.env.Trace("registry/lease-expired", id)
		}
	}
	m.maybePropose()
}

func (m *MetaServer) maybePropose() {
	if !m.ready || m.propose {
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

func copyTable(t *Table) Table {
	return Table{Epoch: t.Epoch, Slots: append([]Slot(nil), t.Slots...), Data: append([]Proc(nil), t.Data...), Sessions: append([]Proc(nil), t.Sessions...)}
}

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

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var _ = fmt.Sprintf
