package registry

// Pushes to subscribers: datums are fetched or announced, cached, pushed with
// their version and retried until acknowledged.

import (
	"github.com/sofasim/sofasim/sim"
)

type sub struct {
	regID, dataID string
	conn          sim.ConnID
	seq           uint64 // the client's connection sequence number
	pushed        uint64 // the version the subscriber acknowledged
	inflight      bool
	attempt       uint64
	firstFails    int
	abandoned     bool
	timeout       sim.TimerID // the push in flight's timeout, cancelled by its ack
	pipe          subPipe     // the push pipeline's state (push_pipeline.go)
	watchAcked    bool        // a watcher's push was acknowledged (watch.go)
}

// fetch asks the slot leader for a datum, telling it the highest version
// held here so that it moves past it.
func (s *SessionServer) fetch(dataID string) {
	if s.fetchApps(dataID) {
		return
	}
	s.nextReq++
	g := &GetDatum{ReqID: s.nextReq, DataID: dataID, Epoch: s.m.table.Epoch}
	// Subscribers that came from another session (or from before this one
	// restarted) may hold a version above the cache's: the leader must
	// move past it too, or they never hear of a datum that was lost with
	// every data server (its version restarts at zero).
	var pushed uint64
	for _, reg := range s.byData[dataID] {
		pushed = max(pushed, s.subs[reg].pushed)
	}
	if c := s.cache[dataID]; c != nil && pushed <= c.Version {
		g.Have, g.Digest = c.Version, s.digestOf(c)
	} else {
		g.Have = pushed
	}
	s.m.peers.send(s.m.leaderOf(s.slotOf(dataID)), g)
}

// sync compares datum versions with the slot leaders and re-pushes what
// is owed.
func (s *SessionServer) sync() {
	seen := map[string]bool{}
	for _, reg := range sortedKeys(s.subs) {
		x := s.subs[reg]
		if watched(x.dataID) {
			continue // the watcher scan's (watch.go)
		}
		x.pipe.rescan() // the version scan pushes what the retries gave up
		if !seen[x.dataID] {
			seen[x.dataID] = true
			s.fetch(x.dataID)
		}
		s.maybePush(x)
	}
}

// onDatum caches a newer datum and pushes it to its subscribers.
func (s *SessionServer) onDatum(d *Datum) {
	if derived(d.DataID) {
		return // a data server's copy of what the session builds itself
	}
	if c := s.cache[d.DataID]; c != nil && c.Version >= d.Version {
		return
	}
	s.cache[d.DataID] = d
	for _, reg := range s.byData[d.DataID] {
		s.maybePush(s.subs[reg])
	}
	s.appDatum(d)
}

// maybePush pushes the cached datum to a subscriber that has not
// acknowledged it, one push in flight at a time: at once in the Immediate
// model, otherwise after the push debounce (push_pipeline.go).
func (s *SessionServer) maybePush(x *sub) {
	if watched(x.dataID) {
		s.pushWatcher(x)
		return
	}
	s.pushSettled(x)
	d := s.toPush(x)
	if d == nil || d.Version <= x.pushed || x.abandoned || s.pushHeld(x) {
		return
	}
	if s.cfg.Push.immediate() {
		if !x.inflight {
			s.sendPush(x, d)
		}
		return
	}
	s.debouncePush(x, d)
}

// sendPush sends d to the subscriber and waits for its ack (pushTimeout).
func (s *SessionServer) sendPush(x *sub, d *Datum) {
	x.attempt++
	x.inflight = true
	x.pipe.sentAt, x.pipe.sentVer = s.env.Monotonic(), d.Version
	if _, fail := s.env.Failpoint(FailPush); fail {
		s.pushFailedVersion(x, d.Version)
		return
	}
	s.env.Send(x.conn, &Push{RegID: x.regID, Datum: d, Attempt: x.attempt})
	x.timeout = s.env.SetTimer(s.cfg.pushTimeout(), pushTimeout{reg: x.regID, attempt: x.attempt})
}

// pushFailed handles a push timeout: retried later, never recorded as
// delivered (unless a planted bug says otherwise).
func (s *SessionServer) pushFailed(x *sub) {
	v := x.pipe.sentVer
	if d := s.cache[x.dataID]; v == 0 && d != nil {
		v = d.Version
	}
	s.pushFailedVersion(x, v)
}

func (s *SessionServer) pushFailedVersion(x *sub, v uint64) {
	x.inflight = false
	if watched(x.dataID) {
		return // the next watcher scan pushes again
	}
	if s.bug(BugPushFailedRecordedDelivered) {
		x.pushed = maxU(x.pushed, v) // recorded as delivered
	}
	s.env.Reached("registry/push-failed")
	if x.pushed == 0 {
		x.firstFails++
		if x.firstFails >= 3 {
			s.env.Reached("registry/first-push-failed-thrice")
		}
		if x.firstFails >= 3 && s.bug(BugFirstPushLost) {
			x.abandoned = true
			s.env.Trace("registry/push-abandoned", x.regID)
			return
		}
	}
	if s.cfg.Push.immediate() {
		s.env.SetTimer(s.cfg.RetryInterval, pushRetry{reg: x.regID})
		return
	}
	s.retryPush(x, v)
}
