package registry

// Pushes to subscribers: datums are fetched or announced, cached, pushed with
// their version and retried until acknowledged.

import (
	"slices"

	"github.com/sofasim/sofasim/sim"
)

type sub struct {
	regID, dataID string
	conn          sim.ConnID
	seq           uint64 // the client's connection sequence number
	pushed        uint64 // the version the subscriber acknowledged
	attempt       uint64
	timeout       sim.TimerID // the push in flight's timeout, cancelled by its ack
	pipe          subPipe     // the push pipeline's state (push_pipeline.go)
	// the small fields together: 144 bytes, not 160
	firstFails int32
	inflight   bool
	abandoned  bool
	watchAcked bool // a watcher's push was acknowledged (watch.go)
	gone       bool // dropped from s.subs (its pipeline timers do nothing)
}

// fetch asks the slot leader for a datum, telling it what this session
// holds so that it moves past it.
func (s *SessionServer) fetch(dataID string) {
	if s.fetchApps(dataID) {
		return
	}
	s.nextReq++
	g := &GetDatum{ReqID: s.nextReq, DataID: dataID, Epoch: s.m.table.Epoch}
	g.Have, g.Digest = s.held(dataID)
	s.m.peers.send(s.m.leaderOf(s.slotOf(dataID)), g)
}

// held is what the session holds of a datum: the cached version and its
// digest, or the highest version a subscriber acknowledged when that is
// higher (digest 0). Subscribers that came from another session (or from
// before this one restarted) may hold a version above the cache's: the
// leader must move past it too, or they never hear of a datum that was
// lost with every data server (its version restarts at zero).
func (s *SessionServer) held(dataID string) (have, digest uint64) {
	var pushed uint64
	for _, x := range s.byData[dataID] {
		pushed = max(pushed, x.pushed)
	}
	if c := s.cache[dataID]; c != nil && pushed <= c.Version {
		return c.Version, s.digestOf(c)
	}
	return pushed, 0
}

// sync is the version scan (SOFARegistry's VersionWatchDog, every
// SyncInterval): it pushes what the retries gave up, then asks each slot
// leader in one request for the versions of the datums this session's
// subscribers follow in its slots (an interface's: its app datums), with
// what the session holds of each; only the ones that differ are fetched
// (onVersions). Watchers are the watcher scan's (watch.go).
func (s *SessionServer) sync() {
	var ids []string // sorted and unique unless an interface's apps were added
	apps := false
	for _, id := range sortedKeys(s.byData) {
		if watched(id) {
			continue
		}
		for _, x := range s.byData[id] {
			x.pipe.rescan()
			s.maybePush(x)
		}
		if ifaceApps, ok := s.interfaceApps(id); ok {
			ids, apps = append(ids, ifaceApps...), true
			s.recompute(id)
		} else {
			ids = append(ids, id)
		}
	}
	if apps {
		sortStrings(ids)
		ids = slices.Compact(ids)
	}
	per := map[sim.NodeID]*GetVersions{}
	var leaders []sim.NodeID
	for _, in := range s.interests(ids) {
		to := s.m.leaderOf(in.Slot)
		if to == "" {
			continue
		}
		g := per[to]
		if g == nil {
			g = &GetVersions{Epoch: s.m.table.Epoch, Session: s.m.proc}
			per[to] = g
			leaders = append(leaders, to)
		}
		g.Slots = append(g.Slots, in)
	}
	for _, to := range leaders {
		s.m.peers.send(to, per[to])
	}
}

// interests groups the datums ids (sorted) by slot, in slot order, each
// with what the session holds of it. A counting sort into one array a
// field: growing three slices a slot made the version scan a session's
// largest allocator.
func (s *SessionServer) interests(ids []string) []SlotInterests {
	slotOf := make([]int32, len(ids))
	start := make([]int, s.m.cfg.Slots+1) // slot i's datums are [start[i], start[i+1])
	for i, id := range ids {
		slot := s.slotOf(id)
		slotOf[i] = int32(slot)
		start[slot+1]++
	}
	n := 0
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
		if start[i] > start[i-1] {
			n++
		}
	}
	allIDs, have, digests := make([]string, len(ids)), make([]uint64, len(ids)), make([]uint64, len(ids))
	next := slices.Clone(start)
	for i, id := range ids {
		j := next[slotOf[i]]
		next[slotOf[i]]++
		allIDs[j] = id
		have[j], digests[j] = s.held(id)
	}
	out := make([]SlotInterests, 0, n)
	for slot := range len(start) - 1 {
		if lo, hi := start[slot], start[slot+1]; lo < hi {
			out = append(out, SlotInterests{Slot: slot, IDs: allIDs[lo:hi:hi], Have: have[lo:hi:hi], Digests: digests[lo:hi:hi]})
		}
	}
	return out
}

// onVersions fetches the datums whose version a slot leader answered and
// that the session wants at it (the real session's checkInterestVersion),
// from the leader in this session's table only. The fetched datum goes
// through change merging, as the real scan's fireOnChange does; a change
// already merging at that version is left to fire.
func (s *SessionServer) onVersions(from sim.NodeID, r *GetVersionsResp) {
	for i, id := range r.IDs {
		v := r.Versions[i]
		if from != s.m.leaderOf(s.slotOf(id)) || !s.wants(id, v) {
			continue
		}
		if m := s.push.merges[id]; m != nil && m.d.Version >= v {
			continue
		}
		s.env.Reached("registry/version-scan-fetched")
		s.fetchNoticed(id)
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
	for _, x := range s.byData[d.DataID] {
		s.maybePush(x)
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
	s.toClient(x.conn, &Push{RegID: x.regID, Datum: d, Attempt: x.attempt})
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
