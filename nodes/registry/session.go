package registry

import (
	"time"

	"github.com/sofasim/sofasim/sim"
)

// SessionServer holds client connections, routes their writes to the slot
// leaders and pushes datums to their subscribers.
type SessionServer struct {
	sim.BaseNode
	cfg     Config
	m       member
	env     *sim.Env
	clients map[sim.ConnID]*clientConn
	pubs    map[string]*Pub // registerId -> publisher of one of our clients
	pubConn map[string]sim.ConnID
	subs    map[string]*sub
	byData  map[string]map[string]bool // dataInfoId -> its subscribers' registerIds
	cache   map[string]*Datum
	outbox  map[uint64]*pending
	nextReq uint64
	migWait []migWait // migration requests of a newer table than ours
}

type migWait struct {
	c sim.ConnID
	r *MigrateReq
}

type clientConn struct {
	client string
	regs   map[string]bool // the connection's publisher index
}

type sub struct {
	regID, dataID string
	conn          sim.ConnID
	seq           uint64 // the client's connection sequence number
	pushed        uint64 // the version the subscriber acknowledged
	inflight      bool
	attempt       uint64
	firstFails    int
	abandoned     bool
}

type pending struct {
	w       *DataWrite
	conn    sim.ConnID // the client to answer (0: none)
	due     time.Duration
	target  sim.NodeID
	ackReg  string
	ackVers uint64
}

type (
	retryTick   struct{}
	syncTick    struct{}
	pushTimeout struct {
		reg     string
		attempt uint64
	}
	pushRetry struct{ reg string }
)

func (s *SessionServer) Start(env *sim.Env) {
	s.env = env
	s.clients, s.pubs, s.pubConn = map[sim.ConnID]*clientConn{}, map[string]*Pub{}, map[string]sim.ConnID{}
	s.subs, s.cache, s.outbox = map[string]*sub{}, map[string]*Datum{}, map[uint64]*pending{}
	s.byData = map[string]map[string]bool{}
	s.m = member{cfg: s.cfg, onTable: s.onTable}
	s.m.start(env, "session")
	s.cfg = s.m.cfg
	env.SetTimer(s.cfg.RetryInterval, retryTick{})
	env.SetTimer(s.cfg.SyncInterval, syncTick{})
}

// SessionStatus is what a harness samples.
type SessionStatus struct {
	Proc    Proc
	Epoch   uint64
	Clients int
	Pubs    int
	Subs    int
	Pending int
}

func (s *SessionServer) Status() SessionStatus {
	return SessionStatus{Proc: s.m.proc, Epoch: s.m.table.Epoch, Clients: len(s.clients), Pubs: len(s.pubs), Subs: len(s.subs), Pending: len(s.outbox)}
}

func (s *SessionServer) Timer(_ sim.TimerID, tag any) {
	switch t := tag.(type) {
	case retryTick:
		s.resend(false)
		s.env.SetTimer(s.cfg.RetryInterval, retryTick{})
	case syncTick:
		s.sync()
		s.env.SetTimer(s.cfg.SyncInterval, syncTick{})
	case pushTimeout:
		if x := s.subs[t.reg]; x != nil && x.inflight && x.attempt == t.attempt {
			s.pushFailed(x)
		}
	case pushRetry:
		if x := s.subs[t.reg]; x != nil {
			s.maybePush(x)
		}
	default:
		s.m.handle(tag)
	}
}

func (s *SessionServer) Closed(c sim.ConnID, _ sim.NodeID) {
	if id, ok := s.m.peers.closed(c); ok {
		for _, r := range sortedReqs(s.outbox) {
			if p := s.outbox[r]; p.target == id {
				p.due = 0
			}
		}
		return
	}
	cc := s.clients[c]
	if cc == nil {
		return
	}
	delete(s.clients, c)
	// The client is gone: its publishers go, per slot.
	type off struct{ regs, datas []string }
	per := map[int]*off{}
	var slots []int
	for _, reg := range sortedKeys(cc.regs) {
		p := s.pubs[reg]
		if p == nil || s.pubConn[reg] != c {
			continue
		}
		delete(s.pubs, reg)
		delete(s.pubConn, reg)
		slot := s.m.slotOf(p.DataID)
		if per[slot] == nil {
			per[slot] = &off{}
			slots = append(slots, slot)
		}
		per[slot].regs = append(per[slot].regs, reg)
		per[slot].datas = append(per[slot].datas, p.DataID)
	}
	for _, r := range sortedReqs(s.outbox) {
		if s.outbox[r].conn == c {
			delete(s.outbox, r)
		}
	}
	for _, reg := range sortedKeys(s.subs) {
		if s.subs[reg].conn == c {
			s.dropSub(reg)
		}
	}
	sortInts(slots)
	for _, slot := range slots {
		s.queue(&DataWrite{Kind: "clientoff", Slot: slot, RegIDs: per[slot].regs, DataIDs: per[slot].datas, Client: cc.client, Session: s.m.proc}, 0, "", 0)
	}
}

func (s *SessionServer) Message(c sim.ConnID, from sim.NodeID, msg any) {
	if s.m.handle(msg) {
		return
	}
	switch x := msg.(type) {
	case *ClientHello:
		s.clients[c] = &clientConn{client: x.Client, regs: map[string]bool{}}
	case *ClientPing:
		s.env.Send(c, &ClientPong{})
	case *ClientPublish:
		s.onPublish(c, x)
	case *ClientSubscribe:
		cc := s.clients[c]
		if cc == nil {
			return
		}
		if cur := s.subs[x.RegID]; cur != nil && cur.seq > x.Conn {
			return // a late subscription from the client's older connection
		}
		sb := &sub{regID: x.RegID, dataID: x.DataID, conn: c, pushed: x.Last, seq: x.Conn}
		s.dropSub(x.RegID)
		s.subs[x.RegID] = sb
		if s.byData[x.DataID] == nil {
			s.byData[x.DataID] = map[string]bool{}
		}
		s.byData[x.DataID][x.RegID] = true
		s.maybePush(sb)
		s.fetch(x.DataID)
	case *PushAck:
		if sb := s.subs[x.RegID]; sb != nil && sb.inflight && sb.attempt == x.Attempt {
			sb.inflight = false
			sb.pushed = maxU(sb.pushed, x.Version)
			s.maybePush(sb)
		}
	case *DataWriteResp:
		p := s.outbox[x.ReqID]
		if p == nil {
			return
		}
		if x.Status != Accept {
			p.due = s.env.Monotonic() + s.cfg.RetryInterval
			return
		}
		delete(s.outbox, x.ReqID)
		if p.ackReg != "" && s.clients[p.conn] != nil {
			s.env.Send(p.conn, &ClientPublishAck{RegID: p.ackReg, Version: p.ackVers})
		}
	// Datums are taken only from the slot's leader in this session's
	// table: a data server that lost the slot (it is cut off from the
	// meta leader and has not heard of the newer table) may still announce
	// changes, with versions from its own clock that would win.
	case *GetDatumResp:
		if x.Status == Accept && x.Datum != nil && from == s.m.leaderOf(s.m.slotOf(x.Datum.DataID)) {
			s.onDatum(x.Datum)
		}
	case *DatumChanged:
		if from == s.m.leaderOf(s.m.slotOf(x.Datum.DataID)) {
			s.onDatum(x.Datum)
		}
	case *MigrateReq:
		s.onMigrate(c, x)
	}
}

func (s *SessionServer) dropSub(reg string) {
	x := s.subs[reg]
	if x == nil {
		return
	}
	delete(s.subs, reg)
	delete(s.byData[x.dataID], reg)
	if len(s.byData[x.dataID]) == 0 {
		delete(s.byData, x.dataID)
	}
}

func (s *SessionServer) onPublish(c sim.ConnID, x *ClientPublish) {
	cc := s.clients[c]
	if cc == nil {
		return
	}
	p := x.Pub
	p.Session, p.Client = s.m.proc, cc.client
	reg := p.RegID
	if x.Unpub {
		if cur := s.pubs[reg]; cur != nil && cur.Version <= p.Version {
			delete(s.pubs, reg)
			delete(s.pubConn, reg)
		}
		delete(cc.regs, reg)
		s.queue(&DataWrite{Kind: "unpub", Slot: s.m.slotOf(p.DataID), Pub: p, Session: s.m.proc}, c, reg, p.Version)
		return
	}
	if cur := s.pubs[reg]; cur != nil && p.older(cur) {
		return
	}
	_, republish := s.pubs[reg]
	s.pubs[reg] = &p
	s.pubConn[reg] = c
	if republish && s.bug(BugRepublishDropsIndex) {
		cc.regs = map[string]bool{reg: true} // the index rebuilt from this publisher alone
	} else {
		cc.regs[reg] = true
	}
	s.queue(&DataWrite{Kind: "pub", Slot: s.m.slotOf(p.DataID), Pub: p, Session: s.m.proc}, c, reg, p.Version)
}

func (s *SessionServer) bug(name string) bool {
	_, ok := s.env.Failpoint(name)
	return ok
}

func (s *SessionServer) queue(w *DataWrite, conn sim.ConnID, ackReg string, ackVers uint64) {
	s.nextReq++
	w.ReqID = s.nextReq
	p := &pending{w: w, conn: conn, ackReg: ackReg, ackVers: ackVers}
	s.outbox[w.ReqID] = p
	s.send(p)
}

func (s *SessionServer) send(p *pending) {
	p.due = s.env.Monotonic() + 2*time.Second
	p.target = s.m.leaderOf(p.w.Slot)
	if p.target == "" {
		p.due = s.env.Monotonic() + s.cfg.RetryInterval
		return
	}
	w := *p.w
	w.Epoch = s.m.table.Epoch
	if w.Kind == "sync" {
		// Built at each send: a sync that waited in the outbox must not
		// drop the publishers written since it was queued.
		w.Pubs = s.slotPubs(w.Slot)
	}
	s.m.peers.send(p.target, &w)
}

func (s *SessionServer) resend(all bool) {
	now := s.env.Monotonic()
	for _, r := range sortedReqs(s.outbox) {
		if p := s.outbox[r]; all || p.due <= now {
			s.send(p)
		}
	}
}

func (s *SessionServer) retryAll() { s.resend(true) }

// onTable resends the pending writes to the new leaders, then re-syncs its
// publishers of every slot whose leader changed (all slots if it skipped
// an epoch): a write this session had acknowledged may have been taken by
// a leader that had already lost the slot (it had not heard of the newer
// table either), and the new leader may have synced from this session
// before that write. The session is the truth about its own clients'
// publishers.
func (s *SessionServer) onTable(old Table) {
	s.retryAll()
	waiting := s.migWait
	s.migWait = nil
	for _, w := range waiting {
		s.onMigrate(w.c, w.r)
	}
	t := &s.m.table
	skipped := t.Epoch != old.Epoch+1
	changed := map[int]bool{}
	for i := range t.Slots {
		if skipped || i >= len(old.Slots) || old.Slots[i].Leader != t.Slots[i].Leader {
			changed[i] = true
		}
	}
	for i := range t.Slots {
		if changed[i] {
			s.queue(&DataWrite{Kind: "sync", Slot: i, Session: s.m.proc}, 0, "", 0)
		}
	}
}

// slotPubs is the session's publishers in a slot.
func (s *SessionServer) slotPubs(slot int) []Pub {
	var out []Pub
	for _, reg := range sortedKeys(s.pubs) {
		if s.m.slotOf(s.pubs[reg].DataID) == slot {
			out = append(out, *s.pubs[reg])
		}
	}
	return out
}

func (s *SessionServer) fetch(dataID string) {
	s.nextReq++
	g := &GetDatum{ReqID: s.nextReq, DataID: dataID, Epoch: s.m.table.Epoch}
	if c := s.cache[dataID]; c != nil {
		g.Have, g.Digest = c.Version, c.Digest()
	}
	// Subscribers that came from another session (or from before this one
	// restarted) may hold a version above the cache's: the leader must
	// move past it too, or they never hear of a datum that was lost with
	// every data server (its version restarts at zero).
	for _, reg := range sortedKeys(s.byData[dataID]) {
		if x := s.subs[reg]; x.pushed > g.Have {
			g.Have, g.Digest = x.pushed, 0
		}
	}
	s.m.peers.send(s.m.leaderOf(s.m.slotOf(dataID)), g)
}

// sync compares datum versions with the slot leaders and re-pushes what
// is owed.
func (s *SessionServer) sync() {
	seen := map[string]bool{}
	for _, reg := range sortedKeys(s.subs) {
		x := s.subs[reg]
		if !seen[x.dataID] {
			seen[x.dataID] = true
			s.fetch(x.dataID)
		}
		s.maybePush(x)
	}
}

func (s *SessionServer) onDatum(d *Datum) {
	if c := s.cache[d.DataID]; c != nil && c.Version >= d.Version {
		return
	}
	s.cache[d.DataID] = d
	for _, reg := range sortedKeys(s.byData[d.DataID]) {
		s.maybePush(s.subs[reg])
	}
}

func (s *SessionServer) maybePush(x *sub) {
	d := s.cache[x.dataID]
	if d == nil || d.Version <= x.pushed || x.inflight || x.abandoned {
		return
	}
	x.attempt++
	x.inflight = true
	if _, fail := s.env.Failpoint(FailPush); fail {
		s.pushFailedVersion(x, d.Version)
		return
	}
	s.env.Send(x.conn, &Push{RegID: x.regID, Datum: d, Attempt: x.attempt})
	s.env.SetTimer(s.cfg.PushTimeout, pushTimeout{reg: x.regID, attempt: x.attempt})
}

func (s *SessionServer) pushFailed(x *sub) {
	v := uint64(0)
	if d := s.cache[x.dataID]; d != nil {
		v = d.Version
	}
	s.pushFailedVersion(x, v)
}

func (s *SessionServer) pushFailedVersion(x *sub, v uint64) {
	x.inflight = false
	if s.bug(BugPushFailedRecordedDelivered) {
		x.pushed = maxU(x.pushed, v) // recorded as delivered
	}
	if x.pushed == 0 {
		x.firstFails++
		if x.firstFails >= 3 && s.bug(BugFirstPushLost) {
			x.abandoned = true
			s.env.Trace("registry/push-abandoned", x.regID)
			return
		}
	}
	s.env.SetTimer(s.cfg.RetryInterval, pushRetry{reg: x.regID})
}

func (s *SessionServer) onMigrate(c sim.ConnID, r *MigrateReq) {
	if r.Epoch > s.m.table.Epoch {
		// Not before this session routes by that table: until then its
		// writes still go to the slot's previous leader, and an answer now
		// would miss them. Answered once the table is installed.
		s.migWait = append(s.migWait, migWait{c, r})
		return
	}
	want := map[int]bool{}
	for _, i := range r.Slots {
		want[i] = true
	}
	resp := &MigrateResp{Epoch: r.Epoch, Session: s.m.proc, Slots: r.Slots, Versions: map[string]uint64{}}
	for _, reg := range sortedKeys(s.pubs) {
		if p := s.pubs[reg]; want[s.m.slotOf(p.DataID)] {
			resp.Pubs = append(resp.Pubs, *p)
		}
	}
	for _, id := range sortedKeys(s.cache) {
		if want[s.m.slotOf(id)] {
			resp.Versions[id] = s.cache[id].Version
		}
	}
	s.env.Send(c, resp)
}

func sortedReqs(m map[uint64]*pending) []uint64 {
	out := make([]uint64, 0, len(m))
	for k := range m { //detlint:allow collecting keys; sorted below
		out = append(out, k)
	}
	sortU64(out)
	return out
}
