package coordinator

import (
	"errors"
	"slices"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// Errors of RPCs.
var (
	ErrTimeout = errors.New("coordinator: no answer in time (outcome unknown)")
	ErrClosed  = errors.New("coordinator: connection closed (outcome unknown)")
)

// rpc sends requests over one connection per peer (dialled on demand) and
// matches answers by request id; each request has its own deadline. Hosts
// forward Message, Closed and Timer to it.
type rpc struct {
	env    *sim.Env
	conns  map[sim.NodeID]sim.ConnID
	peers  map[sim.ConnID]sim.NodeID
	calls  map[uint64]*call
	nextID uint64
}

type call struct {
	id    uint64
	conn  sim.ConnID
	done  func(any, error)
	timer sim.TimerID
}

type rpcTimeout struct{ id uint64 }

func newRPC(env *sim.Env) *rpc {
	return &rpc{env: env, conns: map[sim.NodeID]sim.ConnID{}, peers: map[sim.ConnID]sim.NodeID{}, calls: map[uint64]*call{}}
}

// id draws the next request id; ids embed the incarnation so that a
// restarted host never matches an old answer.
func (r *rpc) id() uint64 {
	r.nextID++
	return uint64(r.env.Incarnation())<<40 | r.nextID
}

// send sends msg (whose Req is id) to peer and calls done with the answer,
// ErrTimeout after timeout, or ErrClosed if the connection breaks.
func (r *rpc) send(to sim.NodeID, id uint64, msg any, timeout time.Duration, done func(any, error)) {
	c, ok := r.conns[to]
	if !ok {
		c = r.env.Dial(to)
		r.conns[to], r.peers[c] = c, to
	}
	cl := &call{id: id, conn: c, done: done}
	r.calls[id] = cl
	cl.timer = r.env.SetTimer(timeout, rpcTimeout{id})
	if !r.env.Send(c, msg) {
		r.forget(c)
		r.finish(id, nil, ErrClosed)
	}
}

func (r *rpc) finish(id uint64, resp any, err error) {
	cl := r.calls[id]
	if cl == nil {
		return
	}
	delete(r.calls, id)
	r.env.CancelTimer(cl.timer)
	cl.done(resp, err)
}

func (r *rpc) forget(c sim.ConnID) {
	if p, ok := r.peers[c]; ok {
		delete(r.peers, c)
		if r.conns[p] == c {
			delete(r.conns, p)
		}
	}
}

// handleMessage takes answers; it reports whether msg was one.
func (r *rpc) handleMessage(msg any) bool {
	var id uint64
	switch m := msg.(type) {
	case *TCResponse:
		id = m.Req
	case *PhaseTwoResp:
		id = m.Req
	case *CallResp:
		id = m.Req
	default:
		return false
	}
	r.finish(id, msg, nil)
	return true
}

// handleClosed fails the calls in flight on the connection.
func (r *rpc) handleClosed(c sim.ConnID) bool {
	if _, ok := r.peers[c]; !ok {
		return false
	}
	r.forget(c)
	var ids []uint64
	for id, cl := range r.calls { //detlint:allow ids are sorted below
		if cl.conn == c {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		r.finish(id, nil, ErrClosed)
	}
	return true
}

func (r *rpc) handleTimer(tag any) bool {
	t, ok := tag.(rpcTimeout)
	if ok {
		r.finish(t.id, nil, ErrTimeout)
	}
	return ok
}

// tcClient calls the TC with failover: NotLeader answers redirect (to the
// hint, else the next TC); a request that times out or whose connection
// breaks moves to the next TC when retry allows it (it is idempotent),
// until OpTimeout.
type tcClient struct {
	r       *rpc
	env     *sim.Env
	servers func() []sim.NodeID
	target  int
	cfg     *Config
	// outside is a leader hint the servers list lacks (a registry whose
	// list is stale): followed until it fails, as a list is only a
	// starting point.
	outside sim.NodeID
}

type tcRetry struct {
	req      TCRequest
	retry    bool
	deadline time.Duration
	done     func(*TCResponse, error)
}

func (c *tcClient) do(req TCRequest, retry bool, done func(*TCResponse, error)) {
	c.attempt(&tcRetry{req: req, retry: retry, deadline: c.env.Monotonic() + c.cfg.OpTimeout, done: done})
}

func (c *tcClient) attempt(t *tcRetry) {
	list := c.servers()
	if len(list) == 0 {
		c.later(t, ErrTimeout)
		return
	}
	to := list[c.target%len(list)]
	if c.outside != "" {
		to = c.outside
	}
	req := t.req
	req.Req = c.r.id()
	c.r.send(to, req.Req, &req, c.cfg.RPCTimeout, func(resp any, err error) {
		if err != nil {
			c.target++
			c.outside = ""
			if !t.retry {
				t.done(nil, err)
				return
			}
			c.later(t, err)
			return
		}
		m := resp.(*TCResponse)
		if m.Code == CodeNotLeader {
			c.target++
			c.outside = ""
			if m.Leader != "" && m.Leader != to {
				c.outside = m.Leader
			}
			for i, s := range list {
				if m.Leader != "" && s == m.Leader {
					c.target, c.outside = i, ""
				}
			}
			c.later(t, ErrTimeout)
			return
		}
		t.done(m, nil)
	})
}

type tcBackoff struct{ t *tcRetry }

func (c *tcClient) later(t *tcRetry, err error) {
	if c.env.Monotonic()+c.cfg.RetryBackoff >= t.deadline {
		t.done(nil, err)
		return
	}
	c.env.SetTimer(c.cfg.RetryBackoff, tcBackoff{t})
}

func (c *tcClient) handleTimer(tag any) bool {
	if b, ok := tag.(tcBackoff); ok {
		c.attempt(b.t)
		return true
	}
	return c.r.handleTimer(tag)
}
