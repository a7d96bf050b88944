package registry

// The session's access limit (AccessLimitService, AccessLimitWrapperInterceptor):
// every publisher, subscriber or watcher registration takes a permit of a
// Guava RateLimiter of Config.AccessLimit a second (accessLimitRate,
// 30000); one it cannot take is refused. The client is answered
// success=false ("register failed") and its worker sends the registration
// again after 200 ms per send so far, at most 1 s (TaskEvent.delayTime).
// Unregistrations are not limited.

import (
	"time"

	"github.com/sofasim/sofasim/sim"
)

// ClientRefused: session -> client, a registration refused (RegisterResponse
// with success false); the client sends it again later.
type ClientRefused struct{ RegID string }

// rateLimiter is Guava's SmoothBursty RateLimiter in integer time: it
// starts empty, banks idle time up to one second's permits, and a request
// is admitted whenever no earlier one has borrowed past now (a request
// beyond the bank is admitted and pushes the next free time ahead).
type rateLimiter struct {
	interval time.Duration // time per permit
	stored   time.Duration // banked permits, as time (at most a second)
	nextFree time.Duration
}

func newRateLimiter(perSecond int, now time.Duration) rateLimiter {
	return rateLimiter{interval: time.Second / time.Duration(perSecond), nextFree: now}
}

// tryAcquire takes one permit at now, or reports false.
func (r *rateLimiter) tryAcquire(now time.Duration) bool {
	if r.nextFree > now {
		return false
	}
	r.stored = min(time.Second, r.stored+now-r.nextFree)
	r.nextFree = now
	if r.stored >= r.interval {
		r.stored -= r.interval
	} else {
		r.nextFree += r.interval - r.stored
		r.stored = 0
	}
	return true
}

// admit takes a permit for a client registration on connection c, or
// refuses it.
func (s *SessionServer) admit(c sim.ConnID, regID string) bool {
	if s.ops.limit.tryAcquire(s.env.Monotonic()) {
		return true
	}
	s.env.Reached("registry/registration-refused-by-access-limit")
	s.env.Send(c, &ClientRefused{RegID: regID})
	return false
}

// Client side: a refused registration is sent again after 200 ms per
// refusal so far, at most 1 s, on the connection of the time.

type resendTick struct {
	c     *Client
	regID string
}

// refused schedules the registration's next send.
func (c *Client) refused(x *ClientRefused) {
	if c.refusals == nil {
		c.refusals = map[string]int{}
	}
	c.refusals[x.RegID]++
	c.env.SetTimer(min(time.Duration(c.refusals[x.RegID])*200*time.Millisecond, time.Second), resendTick{c: c, regID: x.RegID})
}

// resend sends a refused registration again, if it is still the client's.
func (c *Client) resend(t resendTick) {
	if !c.up {
		return // the reconnect registers everything again
	}
	if i, ok := find(c.pubs, t.regID, pubKey); ok && c.pubs[i].live {
		c.send(c.registration(&c.pubs[i]))
	} else if s := c.sub(t.regID); s != nil {
		c.sendSub(s)
	}
}
