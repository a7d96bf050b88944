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
	pubs    map[string]*sessPub // registerId -> publisher of one of our clients
	subs    map[string]*sub
	byData  map[string]subList // dataInfoId -> its subscribers, by registerId
	cache   map[string]*Datum
	notes   sessionNotes // fetches the data servers' change notices asked for (perf_notify.go)
	wrote   slotSet      // slots this session sent a write for: the ones a new leader re-syncs
	memo    sessionMemo  // slots and digests (perf_session.go)
	outbox  map[uint64]*pending
	// the outbox's publishes and unpublishes by registerId (perf_session.go)
	pendingRegs pendingRegs
	nextReq     uint64
	migWait     []migWait // migration requests of a newer table than ours

	conns connSweep // registration times and the orphan sweep (conn_sweep.go)

	ops  sessionOps  // the ops controls (ops_session.go)
	apps sessionApps // app-level discovery (app.go)
	push pushPipe    // change merging, debounce, retry cap, breaker (push_pipeline.go)
}

// sessPub is a publisher the session holds and the client connection it
// came through, together: a second map by registerId cost 38 B a client.
type sessPub struct {
	Pub
	conn sim.ConnID
}

type clientConn struct {
	client string
	regs   regSet        // the connection's publisher index
	io     time.Duration // the last read or write, for the idle close (client_liveness.go; 0: not yet)
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
	s.clients, s.pubs = map[sim.ConnID]*clientConn{}, map[string]*sessPub{}
	s.subs, s.cache, s.outbox = map[string]*sub{}, map[string]*Datum{}, map[uint64]*pending{}
	s.byData, s.wrote, s.pendingRegs = map[string]subList{}, nil, pendingRegs{}
	s.notes.init()
	s.m = member{cfg: s.cfg, onTable: s.onTable}
	s.m.start(env, "session")
	s.cfg = s.m.cfg
	env.SetTimer(s.cfg.RetryInterval, retryTick{})
	env.SetTimer(s.cfg.SyncInterval, syncTick{})
	s.startOps()
	env.SetTimer(s.cfg.SessionSyncInterval, sessionSyncTick{})
	s.startSweep()
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
	if s.opsMessage(0, tag) || s.pushTimer(tag) {
		return
	}
	switch t := tag.(type) {
	case retryTick:
		s.resend(false)
		s.env.SetTimer(s.cfg.RetryInterval, retryTick{})
	case syncTick:
		s.sync()
		s.env.SetTimer(s.cfg.SyncInterval, syncTick{})
	case sessionSyncTick:
		s.sendDigests()
		s.env.SetTimer(s.cfg.SessionSyncInterval, sessionSyncTick{})
	case orphanSweepTick:
		s.sweepOrphans()
		s.env.SetTimer(s.cfg.OrphanSweepInterval, orphanSweepTick{})
	case pushTimeout:
		if x := s.subs[t.reg]; x != nil && x.inflight && x.attempt == t.attempt {
			s.pushFailed(x)
		}
	case pushRetry:
		if x := s.subs[t.reg]; x != nil {
			s.maybePush(x)
		}
	case serverIdleTick:
		s.serverIdle(t.conn)
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
	delete(s.push.addrs, c) // its failed pushes: a reconnect is another address record
	var regs, late []string
	for _, reg := range cc.regs {
		if s.lostCloseRace(reg) {
			late = append(late, reg)
		} else {
			regs = append(regs, reg)
		}
	}
	if len(late) > 0 {
		s.conns.closed[c] = late // stored after the cleanup: left to the orphan sweep
	}
	s.cleanConn(c, regs)
}

// cleanConn removes what a closed connection registered: the given
// publishers (if still registered through it), its pending writes and its
// subscribers, and tells the slot leaders (clientoff, per slot).
func (s *SessionServer) cleanConn(c sim.ConnID, regs []string) {
	type off struct {
		regs, datas []string
		pubs        []Pub
	}
	per := map[int]*off{}
	var slots []int
	client := ""
	for _, reg := range regs {
		p := s.pubs[reg]
		if p == nil || p.conn != c {
			continue
		}
		client = p.Client
		delete(s.pubs, reg)
		slot := s.m.slotOf(p.DataID)
		if per[slot] == nil {
			per[slot] = &off{}
			slots = append(slots, slot)
		}
		per[slot].regs = append(per[slot].regs, reg)
		per[slot].datas = append(per[slot].datas, p.DataID)
		per[slot].pubs = append(per[slot].pubs, p.Pub)
	}
	for _, r := range sortedReqs(s.outbox) {
		if p := s.outbox[r]; p.conn == c && p.w.Kind == "unpub" {
			p.conn = 0 // the client's unpublish still goes: the cleanup below no longer names the publisher
		} else if p.conn == c {
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
		s.queue(&DataWrite{Kind: "clientoff", Slot: slot, RegIDs: per[slot].regs, DataIDs: per[slot].datas, Pubs: per[slot].pubs, Client: client, Session: s.m.proc}, 0, "", 0)
	}
}

func (s *SessionServer) Message(c sim.ConnID, from sim.NodeID, msg any) {
	switch msg.(type) {
	case *DataWriteResp, *GetDatumResp, *DataChange, *GetVersionsResp, *MigrateReq, *SlotDigestResp:
		// Only data servers send these: no client connection's idle clock
		// to look up (most of a session's messages).
	default:
		s.clientIO(c) // any read keeps a client connection from the idle close
	}
	if s.m.handle(msg) || s.opsMessage(c, msg) {
		return
	}
	switch x := msg.(type) {
	case *ClientHello:
		s.clients[c] = &clientConn{client: x.Client}
		s.idleWatch(c)
	case *ClientPing:
		s.toClient(c, &ClientPong{})
	case *ConnHeartbeat:
		s.toClient(c, &ConnHeartbeatAck{ID: x.ID})
	case *ClientPublish:
		s.onPublish(c, x)
		s.registered(x.Pub.RegID)
	case *ClientSubscribe:
		cc := s.clients[c]
		if cc == nil {
			return
		}
		if cur := s.subs[x.RegID]; cur != nil && cur.seq > x.Conn {
			return // a late subscription from the client's older connection
		}
		sb := &sub{regID: x.RegID, dataID: x.DataID, conn: c, pushed: x.Last, seq: x.Conn}
		s.putSub(sb)
		s.maybePush(sb)
		s.fetch(x.DataID)
	case *PushAck:
		if sb := s.subs[x.RegID]; sb != nil && sb.inflight && sb.attempt == x.Attempt {
			sb.inflight = false
			s.env.CancelTimer(sb.timeout)
			sb.pushed = maxU(sb.pushed, x.Version)
			s.maybePush(sb)
		}
	case *DataWriteResp:
		p := s.outbox[x.ReqID]
		if p == nil {
			return
		}
		if x.Status != Accept {
			p.due = s.env.Monotonic() + s.retryBackoff()
			return
		}
		delete(s.outbox, x.ReqID)
		if p.ackReg != "" && s.clients[p.conn] != nil {
			s.toClient(p.conn, &ClientPublishAck{RegID: p.ackReg, Version: p.ackVers})
		}
	// Datums are taken only from the slot's leader in this session's
	// table: a data server that lost the slot (it is cut off from the
	// meta leader and has not heard of the newer table) may still announce
	// changes, with versions from its own clock that would win.
	case *GetDatumResp:
		s.onFetched(from, x)
	case *GetVersionsResp:
		s.onVersions(from, x)
	case *DataChange:
		s.onDataChange(from, x)
	case *MigrateReq:
		s.onMigrate(from, x)
	case *SlotDigestResp:
		s.onDigestDiff(x)
	}
}

// putSub holds a subscriber, replacing the one of its registerId.
func (s *SessionServer) putSub(x *sub) {
	s.dropSub(x.regID)
	s.subs[x.regID] = x
	subs := s.byData[x.dataID]
	subs.add(x)
	s.byData[x.dataID] = subs
}

func (s *SessionServer) dropSub(reg string) {
	x := s.subs[reg]
	if x == nil {
		return
	}
	delete(s.subs, reg)
	x.gone = true
	subs := s.byData[x.dataID]
	subs.remove(reg)
	if len(subs) == 0 {
		delete(s.byData, x.dataID)
	} else {
		s.byData[x.dataID] = subs
	}
}

func (s *SessionServer) bug(name string) bool {
	_, ok := s.env.Failpoint(name)
	return ok
}
