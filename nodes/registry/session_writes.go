package registry

// The session's outbox: client writes forwarded to slot leaders and retried
// until accepted, so a client's publish survives leader changes.

import (
	"slices"
	"time"

	"github.com/sofasim/sofasim/sim"
)

type pending struct {
	w       *DataWrite
	conn    sim.ConnID // the client to answer (0: none)
	due     time.Duration
	target  sim.NodeID
	ackReg  string
	ackVers uint64
	sends   int // attempts so far: given up after DataRetries retries unless AckAfterData
	// a sync's publishers as last sent, and the held publishers they were
	// built from (syncPubs)
	built []Pub
	from  []*sessPub
}

// onPublish records a client's publish or unpublish and forwards it to the
// slot leader; an older registration than the one held is ignored.
func (s *SessionServer) onPublish(c sim.ConnID, x *ClientPublish) {
	cc := s.clients[c]
	if cc == nil {
		return
	}
	p := x.Pub
	p.Session, p.Client = s.m.proc, cc.client
	reg := p.RegID
	if x.Unpub {
		if cur := s.pubs[reg]; cur != nil && !p.older(&cur.Pub) {
			delete(s.pubs, reg)
		}
		cc.regs.remove(reg)
		s.queue(&DataWrite{Kind: "unpub", Slot: s.slotOf(p.DataID), Pub: p, Session: s.m.proc}, c, reg, p.Version)
		s.ackStored(c, reg, p.Version)
		return
	}
	if cur := s.pubs[reg]; cur != nil && p.older(&cur.Pub) {
		return
	}
	_, republish := s.pubs[reg]
	if republish && len(cc.regs) > 1 {
		s.env.Reached("registry/republish-on-shared-connection")
	}
	s.pubs[reg] = &sessPub{Pub: p, conn: c}
	slot := s.slotOf(p.DataID)
	s.indexPub(reg, slot)
	if republish && s.bug(BugRepublishDropsIndex) {
		cc.regs = regSet{reg} // the index rebuilt from this publisher alone
	} else {
		cc.regs.add(reg)
	}
	s.queue(&DataWrite{Kind: "pub", Slot: slot, Pub: p, Session: s.m.proc}, c, reg, p.Version)
	s.ackStored(c, reg, p.Version)
}

// ackStored acknowledges a client's write once the session stored it
// (SOFARegistry's contract), unless acks wait for the slot leader.
func (s *SessionServer) ackStored(c sim.ConnID, reg string, v uint64) {
	if !s.cfg.AckAfterData {
		s.toClient(c, &ClientPublishAck{RegID: reg, Version: v})
	}
}

// queue puts a write in the outbox and sends it. A publish or unpublish
// supersedes the pending writes of the same publisher in the same datum:
// resent after a leader change, an older one would reach the new leader
// first and be pushed to subscribers that had already seen the newer one.
func (s *SessionServer) queue(w *DataWrite, conn sim.ConnID, ackReg string, ackVers uint64) {
	if isRegWrite(w) {
		s.dropPendingRegs(w.Pub.RegID, w.Pub.DataID)
	}
	if w.Kind != "sync" {
		s.wrote.add(w.Slot)
	}
	s.nextReq++
	w.ReqID = s.nextReq
	if !s.cfg.AckAfterData {
		ackReg = "" // acknowledged when stored
	}
	p := &pending{w: w, conn: conn, ackReg: ackReg, ackVers: ackVers}
	s.outbox[w.ReqID] = p
	if isRegWrite(w) {
		s.pendingRegs.add(s, w.Pub.RegID, w.ReqID)
	}
	s.send(p)
}

// send sends a pending write to its slot's leader in the current table,
// or gives it up after DataRetries retries (unless AckAfterData): the
// session still holds the publisher, and its periodic digest sync repairs
// the slot leader.
func (s *SessionServer) send(p *pending) {
	if p.sends++; !s.cfg.AckAfterData && p.sends > 1+s.cfg.DataRetries {
		s.env.Reached("registry/write-retries-exhausted")
		delete(s.outbox, p.w.ReqID)
		return
	}
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
		w.Pubs = s.syncPubs(p)
	}
	s.m.peers.send(p.target, &w)
}

// resend sends again the writes whose retry is due (all: every one).
func (s *SessionServer) resend(all bool) {
	now := s.env.Monotonic()
	for _, r := range sortedReqs(s.outbox) {
		if p := s.outbox[r]; all || p.due <= now {
			s.send(p)
		}
	}
}

func (s *SessionServer) retryAll() { s.resend(true) }

func sortedReqs(m map[uint64]*pending) []uint64 {
	out := make([]uint64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out) // sort.Slice's closure was a fifth of every resend
	return out
}

// retryBackoff spaces a refused write's retries.
func (s *SessionServer) retryBackoff() time.Duration {
	if s.cfg.AckAfterData {
		return s.cfg.RetryInterval
	}
	return s.cfg.DataRetryBackoff
}
