package registry

// The ops controls on a session server, as SOFARegistry's session applies
// them from provide data (FetchStopPushService, FetchGrayPushSwitchService,
// FetchClientOffAddressService, FetchBlackListService,
// FetchDataInfoIDBlackListService) and from the zone console API:
//
//   - stop push: nothing is pushed but to gray addresses; when push resumes
//     every subscriber is compared again and pushed what it lacks;
//   - client-off: the address's connections stay open but lose their
//     publishers and subscribers, and what they register is dropped;
//     client-open closes those connections, so the clients reconnect and
//     register everything again;
//   - IP blacklist: publishes from the address are dropped;
//   - dataInfoId blacklist: publishes to the id are dropped and the
//     session's publishers of it are removed (kept by their clients, who
//     register them again after a reconnect once the id is allowed).

import (
	"slices"
	"strings"

	"github.com/sofasim/sofasim/sim"
)

// sessionOps is a session server's ops state.
type sessionOps struct {
	view     provideView
	zoneOff  map[string]bool     // addresses switched off through the zone API (memory only)
	offConns map[sim.ConnID]bool // connections switched off
	stopped  bool                // push stopped, as last applied
	mdc      switches            // the remote data centres' switches, as last reloaded (multidc_switch.go)
	watch    sessionWatch        // watchers (watch.go)
	limit    rateLimiter         // the access limit (access_limit.go)
}

func (s *SessionServer) startOps() {
	s.ops = sessionOps{zoneOff: map[string]bool{}, offConns: map[sim.ConnID]bool{}, limit: newRateLimiter(s.cfg.AccessLimit, s.env.Monotonic())}
	s.ops.view.start(s.env, s.cfg)
	s.ops.mdc.start(s.env, s.cfg.MultiDC)
	s.startWatch()
	s.startApps()
}

// addrOf is a connection's client address (its node, as an IP).
func (s *SessionServer) addrOf(c sim.ConnID) string {
	cc := s.clients[c]
	if cc == nil {
		return ""
	}
	addr, _, _ := strings.Cut(cc.client, "#")
	return addr
}

func (s *SessionServer) clientOff(addr string) bool {
	return addr != "" && (s.ops.zoneOff[addr] || s.ops.view.has(ProvideClientOff, addr))
}

// opsMessage takes the ops messages and drops the registrations the
// controls refuse, then the app-level messages (app.go); it reports
// whether msg was handled.
func (s *SessionServer) opsMessage(c sim.ConnID, msg any) bool {
	switch x := msg.(type) {
	case provideTick:
		s.ops.view.poll(s.env, s.cfg, &s.m.peers)
	case switchReloadTick:
		s.reloadSwitches()
	case *ProvideAnswer:
		first := !s.ops.view.answered
		if changed := s.ops.view.take(x); len(changed) > 0 {
			s.applyOps()
			s.revisionsLearnt(changed)
		}
		if first && len(s.cfg.MultiDC.Remotes) > 0 {
			s.readSwitches() // remote pushes wait for this (switches.loaded)
		}
	case *ClientOffZone:
		for _, a := range x.Addrs {
			if x.Open {
				delete(s.ops.zoneOff, a)
			} else {
				s.ops.zoneOff[a] = true
			}
		}
		s.applyOps()
	// Registrations pass the real interceptors in their order: IP
	// blacklist, access limit, client-off, dataInfoId blacklist.
	case *ClientPublish:
		addr := s.addrOf(c)
		if x.Unpub {
			if s.clientOff(addr) {
				s.ops.offConns[c] = true
				return true
			}
			return false
		}
		switch {
		case s.ops.view.has(ProvideBlackIP, addr):
			s.env.Reached("registry/publish-blacklisted")
		case !s.admit(c, x.Pub.RegID):
		case s.clientOff(addr):
			s.ops.offConns[c] = true
		case s.ops.view.has(ProvideBlackDataID, x.Pub.DataID):
			s.env.Reached("registry/publish-blacklisted")
		default:
			return false
		}
		return true
	case *ClientSubscribe:
		if !s.admit(c, x.RegID) {
			return true
		}
		if s.clientOff(s.addrOf(c)) {
			s.ops.offConns[c] = true
			return true
		}
		return false
	case *ClientRevision:
		addr := s.addrOf(c)
		if s.ops.view.has(ProvideBlackIP, addr) || !s.admit(c, x.Pub.RegID) || s.clientOff(addr) || s.ops.view.has(ProvideBlackDataID, x.Pub.DataID) {
			return true
		}
		return s.appMessage(c, msg)
	default:
		return s.watchMessage(msg) || s.appMessage(c, msg)
	}
	return true
}

// applyOps brings the session in line with the switches.
func (s *SessionServer) applyOps() {
	for _, c := range connsSorted(s.clients) {
		addr := s.addrOf(c)
		switch off := s.clientOff(addr); {
		case off && !s.ops.offConns[c]:
			// Off: the connection stays, what it registered goes.
			cc := s.clients[c]
			s.Closed(c, "")
			s.clients[c] = &clientConn{client: cc.client}
			s.ops.offConns[c] = true
			s.env.Trace("registry/client-off", addr)
		case !off && s.ops.offConns[c]:
			// Open: close the connection; the client reconnects and
			// registers everything again.
			delete(s.ops.offConns, c)
			s.env.Close(c)
			s.Closed(c, "")
			s.env.Trace("registry/client-open", addr)
		}
	}
	s.dropBlacklisted()
	stopped := s.ops.view.on(ProvideStopPush)
	if s.ops.stopped != stopped {
		s.env.Trace("registry/stop-push", stopped)
	}
	if s.ops.stopped && !stopped {
		s.env.Reached("registry/push-resumed")
		s.sync() // every subscriber is compared again and pushed what it lacks
	} else if stopped {
		s.sync() // the gray list may have changed
	}
	s.ops.stopped = stopped
}

// dropBlacklisted removes the session's publishers of blacklisted
// dataInfoIds, at the data servers too.
func (s *SessionServer) dropBlacklisted() {
	for _, reg := range sortedKeys(s.pubs) {
		p := s.pubs[reg]
		if !s.ops.view.has(ProvideBlackDataID, p.DataID) {
			continue
		}
		c := p.conn
		delete(s.pubs, reg)
		if cc := s.clients[c]; cc != nil {
			cc.regs.remove(reg)
		}
		for _, r := range sortedReqs(s.outbox) {
			if w := s.outbox[r].w; w.Kind == "pub" && w.Pub.RegID == reg {
				delete(s.outbox, r) // refused now: a write still pending would bring it back after the removal
			}
		}
		s.queue(&DataWrite{Kind: "clientoff", Slot: s.m.slotOf(p.DataID), RegIDs: []string{reg}, DataIDs: []string{p.DataID}, Client: p.Client, Session: s.m.proc}, 0, "", 0)
	}
}

// pushHeld: push is stopped and the subscriber's address is not gray.
func (s *SessionServer) pushHeld(x *sub) bool {
	return s.ops.view.on(ProvideStopPush) && !s.ops.view.has(ProvideGrayPush, s.addrOf(x.conn)) || s.remotePushOff(x)
}

func connsSorted[V any](m map[sim.ConnID]V) []sim.ConnID {
	out := make([]sim.ConnID, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}
