package mesh

import (
	"maps"
	"slices"

	"github.com/sofasim/sofasim/sim"
)

// poolKey names a connection pool: one per cluster and host, as in Envoy.
type poolKey struct {
	cluster string
	addr    sim.NodeID
}

// pool is one multiplexed connection to a host. It keeps the host metadata
// it was created with (the identity it expects); a host whose metadata
// changes gets a new pool, and the old one drains.
type pool struct {
	key      poolKey
	c        *cluster
	conn     sim.ConnID
	epoch    uint32
	up       bool
	draining bool
	timeouts int // streams timed out in a row with nothing heard since
	streams  map[uint64]*attempt
	pending  []*attempt
}

// stuckTimeouts closes a connection whose streams time out this many times
// in a row with no response between them. A connection held up by the
// network (a clog or heavy loss whose retransmissions back off past the
// heal) delivers in order, so every later stream on it would wait too:
// Envoy closes an HTTP/1 connection when a request on it times out and
// aborts an HTTP/2 one whose keepalive PING goes unanswered; MOSN closes
// one after consecutive heartbeat timeouts. Closing lets the next attempt
// dial afresh.
const stuckTimeouts = 3

func (s *Sidecar) newPool(name string, c *cluster, h *host) *pool {
	p := &pool{key: poolKey{name, h.ep.Addr}, c: c, epoch: h.ep.Epoch, streams: map[uint64]*attempt{}}
	p.conn = s.env.Dial(h.ep.Addr)
	c.conns++
	s.pools[p.key] = p
	s.byConn[p.conn] = p
	return p
}

func (s *Sidecar) poolUp(p *pool) {
	p.up = true
	q := p.pending
	p.pending = nil
	for _, a := range q {
		a.queued = false
		p.c.pending--
		s.send(a)
	}
}

func (s *Sidecar) send(a *attempt) {
	s.stream++
	a.stream, a.sent = s.stream, true
	a.p.streams[a.stream] = a
	s.env.Send(a.p.conn, &UpstreamReq{Stream: a.stream, Req: a.req, Attempt: a.n, Epoch: a.p.epoch})
}

func (s *Sidecar) poolResponse(p *pool, x *UpstreamResp) {
	a := p.streams[x.Stream]
	p.timeouts = 0
	if x.Drain && !p.draining {
		p.draining = true
		if s.pools[p.key] == p {
			delete(s.pools, p.key)
		}
	}
	if a != nil {
		s.endAttempt(a, x.Resp)
	}
	s.maybeClosePool(p)
}

// retirePool stops new attempts on the host's pool and closes it once idle.
func (s *Sidecar) retirePool(name string, addr sim.NodeID) {
	p := s.pools[poolKey{name, addr}]
	if p == nil {
		return
	}
	delete(s.pools, p.key)
	p.draining = true
	s.maybeClosePool(p)
}

func (s *Sidecar) maybeClosePool(p *pool) {
	if !p.draining || len(p.streams) > 0 || len(p.pending) > 0 || s.byConn[p.conn] != p {
		return
	}
	s.env.Close(p.conn)
	s.forgetPool(p)
}

func (s *Sidecar) forgetPool(p *pool) {
	delete(s.byConn, p.conn)
	if s.pools[p.key] == p {
		delete(s.pools, p.key)
	}
	p.c.conns--
}

// streamTimedOut counts a sent attempt that timed out on p and closes p
// once it looks stuck (see stuckTimeouts).
func (s *Sidecar) streamTimedOut(p *pool) {
	p.timeouts++
	if p.timeouts < stuckTimeouts || s.byConn[p.conn] != p {
		return
	}
	s.env.Trace("mesh/stuck-conn", p.key.cluster, p.key.addr, p.timeouts)
	s.env.Close(p.conn)
	s.poolClosed(p)
}

// poolClosed fails the pool's attempts: those sent may have reached the
// host (reset), those still waiting did not (connect failure).
func (s *Sidecar) poolClosed(p *pool) {
	s.forgetPool(p)
	for _, id := range slices.Sorted(maps.Keys(p.streams)) {
		s.endAttempt(p.streams[id], Response{Status: StatusBadGateway, Flag: FlagReset})
	}
	for _, a := range slices.Clone(p.pending) {
		s.endAttempt(a, Response{Status: StatusUnavailable, Flag: FlagConnectFailure, NotExecuted: true})
	}
}
