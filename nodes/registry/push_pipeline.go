package registry

// The session's push pipeline, after SOFARegistry's ChangeProcessor (a
// dataInfoId's changes merged for ChangeDebounce, at most ChangeMaxDelay
// after the first) and PushProcessor (a subscriber's push debounced, a
// failed one retried Retries times with a growing backoff and then left to
// the next version scan, a push stuck in flight dropped, a circuit breaker
// per subscriber, and per connection behind the address switch).
// Config.Push.Immediate keeps the old model.

import (
	"time"

	"github.com/sofasim/sofasim/sim"
)

// pushPipe is a session's pipeline state; the maps start lazily.
type pushPipe struct {
	merges map[string]*merge // dataInfoId -> its changes not fired yet
	gen    uint64            // names timers, so a superseded one is ignored
	// the address statistics of DefaultCircuitBreakerService: failed
	// pushes to a client connection (ip:port) since its last success
	addrs map[sim.ConnID]*addrStat
}

type addrStat struct {
	fails    int
	lastFail time.Duration
}

type merge struct {
	first time.Duration // when the first change arrived
	d     *Datum        // the newest change
	gen   uint64
	// with the adaptive delay on: when the merge fires and its deadline
	// (AbstractChangeWorker's expire and expireDeadline timestamps)
	due, deadline time.Duration
}

// subPipe is a subscriber's pipeline state.
type subPipe struct {
	debounce uint64 // the pending debounce timer's gen (0: none)
	retry    uint64 // the pending retry timer's gen
	retryVer uint64
	gaveUp   uint64 // the version whose retries ran out: left to the version scan
	sentAt   time.Duration
	sentVer  uint64
	// the subscriber's circuit breaker (SOFARegistry's
	// Subscriber.getStatistic): pushes skipped until openUntil, and failed
	// pushes since the last success (beside retries: one word for both)
	openUntil time.Duration
	fails     int32
	retries   int32 // retries of retryVer so far
}

type (
	changeFire struct {
		dataID string
		gen    uint64
	}
	// The subscriber itself, not its registerId to look up: gens are
	// unique, so only the subscriber that set the timer can match, and a
	// dropped one is marked gone.
	pushDue struct {
		x   *sub
		gen uint64
	}
	pushRetryDue struct {
		x   *sub
		gen uint64
	}
)

func (p *pushPipe) next() uint64 {
	if p.merges == nil {
		p.merges = map[string]*merge{}
	}
	p.gen++
	return p.gen
}

// onChange merges a data server's change announcement with the
// dataInfoId's others and fires them together.
func (s *SessionServer) onChange(d *Datum) {
	cfg := s.cfg.Push
	if cfg.immediate() || derived(d.DataID) {
		s.onDatum(d)
		return
	}
	if c := s.cache[d.DataID]; c != nil && c.Version >= d.Version {
		return
	}
	gen := s.push.next()
	now := s.env.Monotonic()
	m := s.push.merges[d.DataID]
	if m == nil {
		m = &merge{first: now}
		s.push.merges[d.DataID] = m
	} else {
		s.env.Reached("registry/change-merged")
	}
	if m.d == nil || d.Version > m.d.Version {
		m.d = d
	}
	m.gen = gen
	due := min(now+cfg.ChangeDebounce, m.first+cfg.ChangeMaxDelay)
	if cfg.Adaptive.On {
		due = m.adapt(now, cfg, len(d.Pubs))
	}
	s.env.SetTimer(max(due-now, 0), changeFire{dataID: d.DataID, gen: gen})
}

// adapt is LargeChangeAdaptiveDelayWorker's merge: a change of more than
// Threshold publishers waits its adaptive delay from now, others the
// change debounce; a new merge's deadline is its delay (large) or the
// maximum debounce, and a change due after the deadline leaves the merge
// due when it was.
func (m *merge) adapt(now time.Duration, cfg PushConfig, pubs int) time.Duration {
	e := now + cfg.ChangeDebounce
	large := cfg.Adaptive.delay(pubs)
	if large > 0 {
		e = now + large
	}
	switch {
	case m.deadline == 0 && large > 0:
		m.due, m.deadline = e, e
	case m.deadline == 0:
		m.due, m.deadline = e, now+cfg.ChangeMaxDelay
	case e <= m.deadline:
		m.due = e
	}
	return m.due
}

// pushTimer handles the pipeline's timers.
func (s *SessionServer) pushTimer(tag any) bool {
	switch t := tag.(type) {
	case changeFire:
		if m := s.push.merges[t.dataID]; m != nil && m.gen == t.gen {
			delete(s.push.merges, t.dataID)
			s.onDatum(m.d)
		}
	case pushDue:
		if x := t.x; !x.gone && x.pipe.debounce == t.gen {
			x.pipe.debounce = 0
			s.pushNow(x)
		}
	case pushRetryDue:
		if x := t.x; !x.gone && x.pipe.retry == t.gen {
			x.pipe.retry = 0
			s.pushNow(x)
		}
	default:
		return false
	}
	return true
}

// debouncePush starts the subscriber's push debounce unless one is
// pending: the push sends the datum cached when it expires.
func (s *SessionServer) debouncePush(x *sub, d *Datum) {
	if d.Version <= x.pipe.gaveUp || x.pipe.debounce != 0 || x.pipe.retry != 0 {
		return
	}
	x.pipe.debounce = s.push.next()
	s.env.SetTimer(s.cfg.Push.Debounce, pushDue{x: x, gen: x.pipe.debounce})
}

// pushNow sends what the subscriber lacks, unless its circuit breaker
// is open or a push is in flight (one stuck for StuckTimeout is dropped).
func (s *SessionServer) pushNow(x *sub) {
	s.pushSettled(x)
	d := s.toPush(x)
	if d == nil || d.Version <= x.pushed || x.abandoned || s.pushHeld(x) {
		return
	}
	if s.breakerOpen(x) {
		s.env.Reached("registry/push-breaker-open")
		return // the version scan pushes once it closes
	}
	if x.inflight {
		if s.env.Monotonic()-x.pipe.sentAt < s.cfg.Push.StuckTimeout {
			return // its ack (or timeout) pushes again
		}
		x.inflight = false
		s.env.Reached("registry/push-stuck-dropped")
	}
	s.sendPush(x, d)
}

// retryPush schedules the next retry of version v, or gives it up to the
// version scan after Retries.
func (s *SessionServer) retryPush(x *sub, v uint64) {
	cfg := s.cfg.Push
	s.push.next()
	if x.pushed > 0 { // a subscriber never pushed does not count (DefaultCircuitBreakerService.onPushFail)
		if x.pipe.fails++; int(x.pipe.fails) > cfg.BreakerFailures {
			x.pipe.openUntil = s.env.Monotonic() + cfg.BreakerSilence
		}
		if s.push.addrs == nil {
			s.push.addrs = map[sim.ConnID]*addrStat{}
		}
		a := s.push.addrs[x.conn]
		if a == nil {
			a = &addrStat{}
			s.push.addrs[x.conn] = a
		}
		a.fails++
		a.lastFail = s.env.Monotonic()
	}
	if v > x.pipe.retryVer {
		x.pipe.retryVer, x.pipe.retries = v, 0
	}
	if int(x.pipe.retries) >= cfg.Retries {
		x.pipe.gaveUp = v
		s.env.Reached("registry/push-gave-up")
		return
	}
	x.pipe.retries++
	x.pipe.retry = s.push.next()
	s.env.SetTimer(cfg.RetryFirst+time.Duration(x.pipe.retries-1)*cfg.RetryIncrement, pushRetryDue{x: x, gen: x.pipe.retry})
}

// rescan: a version scan starts a new push task, with its own retries.
func (p *subPipe) rescan() { p.gaveUp, p.retries = 0, 0 }

// pushSettled notes an acknowledged push: the subscriber's breaker closes
// (pushConsecutiveSuccess 1).
func (s *SessionServer) pushSettled(x *sub) {
	if x.inflight || x.pipe.sentVer == 0 || x.pushed < x.pipe.sentVer {
		return
	}
	x.pipe.sentVer = 0
	x.pipe.fails, x.pipe.openUntil = 0, 0
	delete(s.push.addrs, x.conn) // pushConsecutiveSuccess 1
}

// breakerOpen is DefaultCircuitBreakerService.pushCircuitBreaker: a
// subscriber pushed before is held while its own breaker is open, and,
// with the address switch on (provide data ProvideCircuitBreaker), while
// its connection failed more than AddressBreakerFailures pushes within
// BreakerSilence or its address is on the switch's stop-push list.
func (s *SessionServer) breakerOpen(x *sub) bool {
	now := s.env.Monotonic()
	if x.pushed == 0 {
		return false
	}
	sub := now < x.pipe.openUntil
	if !s.ops.view.has(ProvideCircuitBreaker, BreakerAddressSwitch) {
		return sub
	}
	if s.ops.view.has(ProvideCircuitBreaker, s.addrOf(x.conn)) {
		return true
	}
	a := s.push.addrs[x.conn]
	return sub || a != nil && a.fails > s.cfg.Push.AddressBreakerFailures && now < a.lastFail+s.cfg.Push.BreakerSilence
}

// toPush is the datum a push to x sends: the cached one, or with
// BugEmptyPushAfterSubscribe, on x's first push, the empty one when the
// cache misses. Both modes ask when they send (the pipeline after its
// debounce), so the bug acts under either.
func (s *SessionServer) toPush(x *sub) *Datum {
	d := s.cache[x.dataID]
	if x.attempt == 0 && (d == nil || s.push.merges[x.dataID] != nil) && s.bug(BugEmptyPushAfterSubscribe) {
		return s.emptyOnMiss(x)
	}
	return d
}

// emptyOnMiss is BugEmptyPushAfterSubscribe: a new subscriber that misses
// the cache (nothing fetched yet, or the entry invalidated by a change
// still merging, as SOFARegistry's session cache is) is pushed an empty
// datum versioned by the session's clock (ms, as data versions are), so
// the real datum fetched next looks older than what was pushed.
func (s *SessionServer) emptyOnMiss(x *sub) *Datum {
	s.env.Reached("registry/empty-push-on-miss")
	return &Datum{DataID: x.dataID, Version: uint64(s.env.Now().UnixMilli())}
}
