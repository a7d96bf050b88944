package mesh

import (
	"slices"
	"strings"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// DefaultRouteTimeout applies to routes without a timeout (Envoy's 15s).
const DefaultRouteTimeout = 15 * time.Second

// downstream is one request the pod's caller handed to the sidecar.
type downstream struct {
	req       Request
	done      func(Response)
	route     Route
	cname     string
	c         *cluster
	attempts  int
	cur       *attempt
	answered  bool
	rtTimer   sim.TimerID
	boTimer   sim.TimerID
	inBackoff bool
}

// attempt is one try of a request on one host.
type attempt struct {
	d      *downstream
	n      int
	c      *cluster
	h      *host
	p      *pool
	req    Request
	stream uint64
	sent   bool // written to a connection: it may have reached the upstream
	queued bool // waiting for the pool's connection
	done   bool
	retry  bool // counted in the cluster's retries
	timer  sim.TimerID
}

type (
	routeTimeout struct{ id string }
	tryTimeout   struct {
		id string
		n  int
	}
	backoffDone struct{ id string }
	faultDelay  struct{ id string }
)

// Outbound sends a request of the pod's application (or load generator)
// through the mesh; done is called exactly once with the final answer.
func (s *Sidecar) Outbound(req Request, done func(Response)) {
	req.Caller = s.service
	if s.downs[req.ID] != nil {
		done(Response{Status: StatusError, Flag: "DUP"})
		return
	}
	d := &downstream{req: req, done: done}
	s.downs[req.ID] = d
	rt := s.findRoute(&req)
	if rt == nil {
		s.answer(d, Response{Status: StatusNotFound, Flag: FlagNoRoute})
		return
	}
	d.route = *rt
	timeout := rt.Timeout
	if timeout <= 0 {
		timeout = DefaultRouteTimeout
	}
	d.rtTimer = s.env.SetTimer(timeout, routeTimeout{req.ID})
	if f := rt.Fault; f != nil {
		r := s.env.Rand()
		if chance(r, f.AbortPPM) {
			s.answer(d, Response{Status: f.AbortStatus, Flag: FlagFaultAbort})
			return
		}
		if chance(r, f.DelayPPM) {
			s.env.SetTimer(f.Delay, faultDelay{req.ID})
			return
		}
	}
	s.pickCluster(d)
}

func (s *Sidecar) findRoute(req *Request) *Route {
	l, ok := s.listeners[OutboundListener]
	if !ok {
		return nil
	}
	rc := s.routes[l.RouteConfig]
	for i := range rc.VirtualHosts {
		vh := &rc.VirtualHosts[i]
		if !slices.Contains(vh.Domains, req.Service) {
			continue
		}
		for j := range vh.Routes {
			if vh.Routes[j].Match.matches(req) {
				return &vh.Routes[j]
			}
		}
	}
	return nil
}

func (s *Sidecar) afterFaultDelay(x faultDelay) {
	if d := s.downs[x.id]; d != nil && !d.answered {
		s.pickCluster(d)
	}
}

// pickCluster chooses among the route's weighted clusters.
func (s *Sidecar) pickCluster(d *downstream) {
	total := 0
	for _, wc := range d.route.Clusters {
		total += wc.Weight
	}
	r := s.env.Rand().IntN(total)
	for _, wc := range d.route.Clusters {
		if r < wc.Weight {
			d.cname = wc.Cluster
			break
		}
		r -= wc.Weight
	}
	observe(s.obs, s.env, Routed{ReqID: d.req.ID, Route: d.route.Name, Cluster: d.cname, Split: len(d.route.Clusters) > 1})
	d.c = s.clusters[d.cname]
	if d.c == nil {
		s.answer(d, Response{Status: StatusUnavailable, Flag: FlagNoCluster})
		return
	}
	d.c.downs++
	s.tryAttempt(d, false)
}

// tryAttempt picks a host and sends (or queues) an attempt.
func (s *Sidecar) tryAttempt(d *downstream, retry bool) {
	c := d.c
	d.attempts++
	a := &attempt{d: d, n: d.attempts, c: c, retry: retry}
	d.cur = a
	if s.clusters[d.cname] != c {
		s.endAttempt(a, Response{Status: StatusUnavailable, Flag: FlagNoCluster})
		return
	}
	key := d.req.ID
	if c.cfg.HashHeader != "" {
		key = d.req.Header(c.cfg.HashHeader)
	}
	h, v := c.pick(s.env.Rand(), key, bug(s.env, BugSingleHostIgnoresHealth))
	if h == nil {
		observe(s.obs, s.env, NoHost{ReqID: d.req.ID, Cluster: d.cname, Hosts: v.hosts})
		s.endAttempt(a, Response{Status: StatusUnavailable, Flag: FlagNoHealthy})
		return
	}
	br := c.cfg.Breakers
	p := s.pools[poolKey{d.cname, h.ep.Addr}]
	overflow := ""
	switch {
	case c.active >= br.limit(br.MaxRequests):
		overflow = "requests"
	case p == nil && c.conns >= br.limit(br.MaxConnections):
		overflow = "connections"
	case (p == nil || !p.up) && c.pending >= br.limit(br.MaxPending):
		overflow = "pending"
	}
	if overflow != "" {
		observe(s.obs, s.env, Overflow{ReqID: d.req.ID, Cluster: d.cname, Breaker: overflow})
		s.endAttempt(a, Response{Status: StatusUnavailable, Flag: FlagOverflow})
		return
	}
	if p == nil {
		p = s.newPool(d.cname, c, h)
	}
	a.h, a.p = h, p
	c.active++
	h.active++
	a.req = s.rewrite(d)
	if !p.up {
		a.queued = true
		c.pending++
		p.pending = append(p.pending, a)
	}
	observe(s.obs, s.env, Attempt{ReqID: d.req.ID, N: a.n, Cluster: d.cname, Host: h.ep.Addr, Hosts: v.hosts, Ejected: v.ejected,
		Unhealthy: v.unhealthy, Panic: v.panic, Path: a.req.Path, Active: c.active, MaxRequests: br.limit(br.MaxRequests),
		Pending: c.pending, MaxPending: br.limit(br.MaxPending)})
	if p.up {
		s.send(a)
	}
	if rp := d.route.Retry; rp != nil && rp.PerTryTimeout > 0 {
		a.timer = s.env.SetTimer(rp.PerTryTimeout, tryTimeout{d.req.ID, a.n})
	}
}

// rewrite returns the request an attempt sends: the caller's request with
// the route's prefix rewrite applied once.
func (s *Sidecar) rewrite(d *downstream) Request {
	rw := d.route.PrefixRewrite
	if rw == "" || !strings.HasPrefix(d.req.Path, d.route.Match.Prefix) {
		return d.req
	}
	r := d.req
	r.Path = rw + strings.TrimPrefix(r.Path, d.route.Match.Prefix)
	if bug(s.env, BugRetryRewritesRequest) {
		d.req.Path = r.Path // rewritten in place: the next attempt rewrites it again
	}
	return r
}

// endAttempt closes an attempt with its result, feeds outlier detection
// and decides what happens to the request.
func (s *Sidecar) endAttempt(a *attempt, r Response) {
	if a.done {
		return
	}
	a.done = true
	c, d := a.c, a.d
	if a.timer != 0 {
		s.env.CancelTimer(a.timer)
	}
	if a.queued {
		a.queued = false
		c.pending--
		a.p.pending = slices.DeleteFunc(a.p.pending, func(x *attempt) bool { return x == a })
	}
	if a.sent {
		delete(a.p.streams, a.stream)
		if r.Flag == FlagPerTryTimeout || r.Flag == FlagRouteTimeout {
			s.streamTimedOut(a.p)
		}
		s.maybeClosePool(a.p)
	}
	if a.h != nil {
		c.active--
		a.h.active--
	}
	if a.retry {
		c.retries--
		observe(s.obs, s.env, RetryDone{ReqID: d.req.ID, N: a.n, Cluster: d.cname})
	}
	ev := AttemptDone{ReqID: d.req.ID, N: a.n, Host: hostAddr(a.h), Resp: r}
	if a.p != nil {
		ev.Epoch = a.p.epoch
	}
	observe(s.obs, s.env, ev)
	if a.h != nil && !localFlag(r.Flag) {
		if c.outlierResult(a.h, r.Status >= 500, bug(s.env, BugMaxEjectionIgnored)) {
			s.observeEjection(d.cname, c, a.h)
			s.env.SetTimer(c.ejectionTime(a.h), uneject{d.cname, a.h.ep.Addr, a.h.ejections})
		}
	}
	if d.answered || d.cur != a {
		return
	}
	s.afterAttempt(d, a, r)
}

func hostAddr(h *host) sim.NodeID {
	if h == nil {
		return ""
	}
	return h.ep.Addr
}

// localFlag: the sidecar answered without the host's fault.
func localFlag(f string) bool {
	switch f {
	case FlagNoRoute, FlagNoCluster, FlagNoHealthy, FlagOverflow, FlagFaultAbort, FlagRouteTimeout:
		return true
	}
	return false
}

// retriable says whether the policy retries this result. A request that
// may have reached the upstream is retried only if it is idempotent or the
// upstream says it did not run it.
func retriable(p *RetryPolicy, a *attempt, r Response, idempotent bool) bool {
	if localFlag(r.Flag) || r.OK() {
		return false
	}
	if a.sent && !r.NotExecuted && !idempotent {
		return false
	}
	for _, on := range p.RetryOn {
		switch on {
		case RetryOn5xx:
			if r.Status >= 500 {
				return true
			}
		case RetryOnGatewayError:
			if r.Status == StatusBadGateway || r.Status == StatusUnavailable || r.Status == StatusTimeout {
				return true
			}
		case RetryOnReset:
			if r.Flag == FlagReset {
				return true
			}
		case RetryOnConnectFailure:
			if r.Flag == FlagConnectFailure {
				return true
			}
		case RetryOnRefused:
			if r.NotExecuted && r.Status >= 500 {
				return true
			}
		}
	}
	return false
}

func (s *Sidecar) afterAttempt(d *downstream, a *attempt, r Response) {
	p := d.route.Retry
	if p == nil || d.attempts > p.NumRetries || !retriable(p, a, r, d.req.Idempotent) {
		s.answer(d, r)
		return
	}
	c := d.c
	ev := Retry{ReqID: d.req.ID, N: d.attempts + 1, Cluster: d.cname, Limit: -1, MaxRetries: c.cfg.Breakers.limit(c.cfg.Breakers.MaxRetries)}
	if c.retries >= ev.MaxRetries {
		ev.Reason, ev.Outstanding = "breaker", c.retries
		observe(s.obs, s.env, ev)
		observe(s.obs, s.env, Overflow{ReqID: d.req.ID, Cluster: d.cname, Breaker: "retries"})
		s.answer(d, r)
		return
	}
	if b := c.cfg.RetryBudget; b != nil {
		ev.Limit = b.Limit(c.downs)
		counted := c.retries
		if bug(s.env, BugRetryBudgetOvershoot) {
			counted -= c.backoff // retries in backoff are forgotten
		}
		if counted >= ev.Limit {
			ev.Reason, ev.Outstanding = "budget", c.retries
			observe(s.obs, s.env, ev)
			s.answer(d, r)
			return
		}
	}
	c.retries++
	c.backoff++
	d.inBackoff = true
	ev.Admitted, ev.Outstanding = true, c.retries
	observe(s.obs, s.env, ev)
	d.boTimer = s.env.SetTimer(backoff(s.env, p, d.attempts), backoffDone{d.req.ID})
}

// backoff is Envoy's full-jitter exponential backoff: uniform in
// [0, min(max, base * 2^(retry-1))].
func backoff(env *sim.Env, p *RetryPolicy, tried int) time.Duration {
	base, ceil := p.BackoffBase, p.BackoffMax
	if base <= 0 {
		base = 25 * time.Millisecond
	}
	if ceil <= 0 {
		ceil = 10 * base
	}
	d := base << min(tried-1, 20)
	d = min(d, ceil)
	return time.Duration(env.Rand().Int64N(int64(d) + 1))
}

func (s *Sidecar) onBackoff(x backoffDone) {
	d := s.downs[x.id]
	if d == nil || d.answered || !d.inBackoff {
		return
	}
	d.inBackoff = false
	d.c.backoff--
	s.tryAttempt(d, true)
}

func (s *Sidecar) onTryTimeout(x tryTimeout) {
	if d := s.downs[x.id]; d != nil && d.cur != nil && d.cur.n == x.n {
		s.endAttempt(d.cur, Response{Status: StatusTimeout, Flag: FlagPerTryTimeout})
	}
}

func (s *Sidecar) onRouteTimeout(x routeTimeout) {
	if d := s.downs[x.id]; d != nil {
		s.answer(d, Response{Status: StatusTimeout, Flag: FlagRouteTimeout})
	}
}

// answer gives the caller its one answer and releases everything the
// request holds.
func (s *Sidecar) answer(d *downstream, r Response) {
	if d.answered {
		return
	}
	d.answered = true
	if d.rtTimer != 0 {
		s.env.CancelTimer(d.rtTimer)
	}
	if d.inBackoff {
		d.inBackoff = false
		s.env.CancelTimer(d.boTimer)
		d.c.backoff--
		d.c.retries--
		observe(s.obs, s.env, RetryDone{ReqID: d.req.ID, N: d.attempts + 1, Cluster: d.cname})
	}
	if a := d.cur; a != nil && !a.done {
		s.endAttempt(a, Response{Status: StatusTimeout, Flag: FlagRouteTimeout})
	}
	if d.c != nil {
		d.c.downs--
	}
	delete(s.downs, d.req.ID)
	observe(s.obs, s.env, Answered{ReqID: d.req.ID, Resp: r, Attempts: d.attempts, Route: d.route.Name, Cluster: d.cname})
	s.env.Trace("mesh/answer", d.req.ID, r.Status, r.Flag)
	d.done(r)
}
