package mesh

import (
	"slices"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// inbound is the sidecar's inbound side: requests from other sidecars pass
// its filters (identity, authorization, rate limit) to the application.
type inbound struct {
	s     *Sidecar
	conns map[sim.ConnID]bool // accepted connections still open
	l     Listener
	have  bool // an inbound listener is applied
	// Token bucket in millitokens, refilled by monotonic time.
	tokens int64
	last   time.Duration
}

func (in *inbound) init(s *Sidecar) {
	in.s = s
	in.conns = map[sim.ConnID]bool{}
}

func (in *inbound) configure(l Listener) {
	old := in.l.RateLimit
	in.l, in.have = l, l.Name != ""
	if rl := l.RateLimit; rl != nil && (old == nil || *old != *rl) {
		in.tokens, in.last = int64(rl.Burst)*1000, in.s.env.Monotonic()
	}
}

func (in *inbound) closed(c sim.ConnID) { delete(in.conns, c) }

func (in *inbound) allow(rl *RateLimit) bool {
	now := in.s.env.Monotonic()
	elapsed := min(now-in.last, time.Hour)
	in.tokens = min(int64(rl.Burst)*1000, in.tokens+int64(elapsed)*int64(rl.PerSecond)/1_000_000)
	in.last = now
	if in.tokens < 1000 {
		return false
	}
	in.tokens -= 1000
	return true
}

func (in *inbound) request(c sim.ConnID, x *UpstreamReq) {
	s := in.s
	in.conns[c] = true
	app := s.app
	reply := func(r Response) {
		if in.conns[c] {
			s.env.Send(c, &UpstreamResp{Stream: x.Stream, Resp: r, Drain: app != nil && app.state != StatePublished})
		}
	}
	refuse := func(status int, flag string) {
		reply(Response{Status: status, Flag: flag, NotExecuted: true, By: s.env.ID()})
	}
	switch {
	case app == nil || app.stopped() || !in.have:
		refuse(StatusUnavailable, FlagDraining)
		return
	case x.Epoch != 0 && x.Epoch != s.env.Incarnation():
		refuse(StatusUnavailable, FlagStaleIdentity)
		return
	}
	if az := in.l.Authz; az != nil {
		ok := slices.Contains(az.Allow, x.Req.Caller)
		observe(s.obs, s.env, AuthzDecision{ReqID: x.Req.ID, Caller: x.Req.Caller, Allowed: ok})
		if !ok {
			refuse(StatusForbidden, FlagDenied)
			return
		}
	}
	if rl := in.l.RateLimit; rl != nil && !in.allow(rl) {
		refuse(StatusTooMany, FlagRateLimited)
		return
	}
	app.handle(x.Req, x.Attempt, reply)
}
