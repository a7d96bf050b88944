package raftkv

import (
	"errors"
	"fmt"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// ErrTimeout: no answer before the op's deadline. For a write the outcome
// is unknown (it may have been applied, or be applied later, at most
// once); for a read nothing was read.
var ErrTimeout = errors.New("raftkv: timed out, outcome unknown")

// RejectedError is a definite refusal by the leader (for admin requests):
// nothing happened.
type RejectedError struct{ Reason string }

func (e *RejectedError) Error() string { return "raftkv: rejected: " + e.Reason }

// ClientConfig configures a client.
type ClientConfig struct {
	// Servers lists every server the client may contact, normally the
	// cluster's Peers and Spares.
	Servers []sim.NodeID
	// ClientID tells apart several clients hosted by one node. The
	// session id that deduplicates retried writes is derived from the
	// node's name, ClientID and the node's incarnation, so a restarted
	// client node never reuses a session.
	ClientID uint64
	// RequestTimeout bounds one attempt at one server (default 200ms);
	// then the client tries the next server, with the same session and
	// sequence number.
	RequestTimeout time.Duration
	// OpTimeout bounds an op across all its attempts (default 2s); then
	// it ends with ErrTimeout.
	OpTimeout time.Duration
	// RetryBackoff is the pause before retrying after a redirect without
	// a leader hint or a closed connection (default 20ms).
	RetryBackoff time.Duration
}

func (c *ClientConfig) defaults() {
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 200 * time.Millisecond
	}
	if c.OpTimeout <= 0 {
		c.OpTimeout = 2 * time.Second
	}
	if c.RetryBackoff <= 0 {
		c.RetryBackoff = 20 * time.Millisecond
	}
}

// Client is a sans-IO client library, driven by the node that hosts it: the
// node creates it in Start and forwards its Node events to the Handle
// methods, which report whether the event was the client's.
//
// A client runs one request at a time (like a Jepsen process); further
// requests queue. A request goes to the presumed leader; NotLeader answers
// redirect it (to the hinted leader at once, otherwise to the next server
// after a backoff); a timeout or a closed connection moves it to the next
// server. Every attempt of a request carries the same session and sequence
// number, so a write is applied at most once however often it is retried.
type Client struct {
	env     *sim.Env
	cfg     ClientConfig
	session uint64
	seq     uint64
	tag     *clientTimer

	conns       []sim.ConnID // per server
	target      int
	attemptConn sim.ConnID
	timer       sim.TimerID
	backingOff  bool

	cur   *call
	queue []*call
}

// clientTimer tags a client's timers; it has a field because pointers to a
// zero-size type may all be equal, and several clients can share a node.
type clientTimer struct{ _ byte }

type call struct {
	req      Request
	deadline time.Duration // on the monotonic clock
	done     func(resp []byte, err error)
}

// NewClient creates a client for the node whose environment env is. The
// first server it tries is drawn from the node's random stream.
func NewClient(env *sim.Env, cfg ClientConfig) *Client {
	cfg.defaults()
	if len(cfg.Servers) == 0 {
		panic("raftkv: client without servers")
	}
	h := uint64(fnvOffset)
	for _, b := range []byte(env.ID()) {
		h = (h ^ uint64(b)) * fnvPrime
	}
	h = mix(mix(h, cfg.ClientID), uint64(env.Incarnation()))
	if h == 0 {
		h = 1
	}
	return &Client{
		env:     env,
		cfg:     cfg,
		session: h,
		tag:     &clientTimer{},
		conns:   make([]sim.ConnID, len(cfg.Servers)),
		target:  env.Rand().IntN(len(cfg.Servers)),
	}
}

// Session returns the session id that deduplicates this client's writes.
func (c *Client) Session() uint64 { return c.session }

// Busy reports whether a request is outstanding.
func (c *Client) Busy() bool { return c.cur != nil }

// Target returns the server the client currently sends to: the leader, as
// far as it knows.
func (c *Client) Target() sim.NodeID { return c.cfg.Servers[c.target] }

// Do runs a key-value op (on a cluster whose state machine is the KV
// store). done gets its Result; see Result for what an error means.
func (c *Client) Do(op Op, done func(Result)) {
	cb := func(resp []byte, err error) {
		if err != nil {
			done(Result{Err: err})
			return
		}
		done(DecodeResult(resp))
	}
	if op.IsRead() {
		c.Read(EncodeOp(op), cb)
	} else {
		c.Write(EncodeOp(op), cb)
	}
}

// Write proposes a command to the state machine; done gets its response,
// or ErrTimeout (outcome unknown).
func (c *Client) Write(cmd []byte, done func(resp []byte, err error)) {
	c.submit(Request{Kind: ReqWrite, Data: cmd}, done)
}

// Read runs a linearizable query; done gets its response, or ErrTimeout
// (nothing read).
func (c *Client) Read(query []byte, done func(resp []byte, err error)) {
	c.submit(Request{Kind: ReqRead, Data: query}, done)
}

// TransferLeader asks the leader to hand leadership to the named member.
// done(nil) means the transfer was started.
func (c *Client) TransferLeader(to sim.NodeID, done func(error)) {
	c.adminOp(AdminOp{Kind: AdminTransferLeader, Target: to}, done)
}

// AddMember adds a spare server as a voting member; done(nil) once the
// change is applied on the leader.
func (c *Client) AddMember(id sim.NodeID, done func(error)) {
	c.adminOp(AdminOp{Kind: AdminAddMember, Target: id}, done)
}

// RemoveMember removes a member; done(nil) once the change is applied on
// the leader.
func (c *Client) RemoveMember(id sim.NodeID, done func(error)) {
	c.adminOp(AdminOp{Kind: AdminRemoveMember, Target: id}, done)
}

func (c *Client) adminOp(op AdminOp, done func(error)) {
	c.submit(Request{Kind: ReqAdmin, Admin: op}, func(_ []byte, err error) { done(err) })
}

func (c *Client) submit(req Request, done func([]byte, error)) {
	c.seq++
	req.Session, req.Seq = c.session, c.seq
	cl := &call{req: req, deadline: c.env.Monotonic() + c.cfg.OpTimeout, done: done}
	if c.cur != nil {
		c.queue = append(c.queue, cl)
		return
	}
	c.cur = cl
	c.attempt()
}

// attempt sends the current request to the target server.
func (c *Client) attempt() {
	cl := c.cur
	now := c.env.Monotonic()
	if now >= cl.deadline {
		c.finish(nil, ErrTimeout)
		return
	}
	conn := c.conn(c.target)
	if !c.env.Send(conn, &cl.req) {
		c.conns[c.target] = 0
		conn = c.conn(c.target)
		c.env.Send(conn, &cl.req)
	}
	c.attemptConn = conn
	c.arm(min(c.cfg.RequestTimeout, cl.deadline-now), false)
}

func (c *Client) conn(i int) sim.ConnID {
	if c.conns[i] == 0 {
		c.conns[i] = c.env.Dial(c.cfg.Servers[i])
	}
	return c.conns[i]
}

func (c *Client) arm(d time.Duration, backoff bool) {
	if c.timer != 0 {
		c.env.CancelTimer(c.timer)
	}
	c.timer = c.env.SetTimer(d, c.tag)
	c.backingOff = backoff
}

// retryLater moves to the next server after the backoff.
func (c *Client) retryLater() {
	c.target = (c.target + 1) % len(c.conns)
	c.attemptConn = 0
	left := c.cur.deadline - c.env.Monotonic()
	c.arm(max(min(c.cfg.RetryBackoff, left), 0), true)
}

func (c *Client) finish(resp []byte, err error) {
	cl := c.cur
	c.cur = nil
	c.attemptConn = 0
	if c.timer != 0 {
		c.env.CancelTimer(c.timer)
		c.timer = 0
	}
	if len(c.queue) > 0 {
		next := c.queue[0]
		c.queue[0] = nil
		c.queue = c.queue[1:]
		// Queued ops waited; their deadlines count from now.
		next.deadline = c.env.Monotonic() + c.cfg.OpTimeout
		c.cur = next
		c.attempt()
	}
	cl.done(resp, err)
}

func (c *Client) indexOf(id sim.NodeID) int {
	for i, s := range c.cfg.Servers {
		if s == id {
			return i
		}
	}
	return -1
}

// HandleMessage takes the client's responses; it returns false for
// messages that are not this client's.
func (c *Client) HandleMessage(conn sim.ConnID, from sim.NodeID, msg any) bool {
	r, ok := msg.(*Response)
	if !ok || r.Session != c.session {
		return false
	}
	if c.cur == nil || r.Seq != c.cur.req.Seq {
		return true // a late answer to an earlier attempt
	}
	switch r.Code {
	case CodeOK:
		if i := c.indexOf(from); i >= 0 {
			c.target = i
		}
		c.finish(r.Data, nil)
	case CodeRejected:
		c.finish(nil, &RejectedError{Reason: string(r.Data)})
	case CodeNotLeader:
		if conn != c.attemptConn {
			return true // a redirect from an attempt we already gave up on
		}
		if i := c.indexOf(r.Leader); i >= 0 && i != c.target {
			c.target = i
			c.attempt()
			return true
		}
		c.retryLater()
	default:
		c.finish(nil, fmt.Errorf("raftkv: unexpected response code %v", r.Code))
	}
	return true
}

// HandleConnected reports whether the connection is the client's.
func (c *Client) HandleConnected(conn sim.ConnID, _ sim.NodeID) bool {
	for _, x := range c.conns {
		if x == conn {
			return true
		}
	}
	return false
}

// HandleClosed forgets a closed connection (it is redialled when needed)
// and retries elsewhere if the current attempt was on it.
func (c *Client) HandleClosed(conn sim.ConnID, _ sim.NodeID) bool {
	for i, x := range c.conns {
		if x != conn {
			continue
		}
		c.conns[i] = 0
		if c.cur != nil && conn == c.attemptConn {
			c.target = i
			c.retryLater()
		}
		return true
	}
	return false
}

// HandleTimer runs the client's timers; it returns false for timers that
// are not the client's.
func (c *Client) HandleTimer(id sim.TimerID, tag any) bool {
	if t, ok := tag.(*clientTimer); !ok || t != c.tag {
		return false
	}
	if id != c.timer || c.cur == nil {
		return true // superseded
	}
	c.timer = 0
	if c.backingOff {
		c.attempt()
		return true
	}
	if c.env.Monotonic() >= c.cur.deadline {
		// The caller gave up, not the connection (as a context deadline in
		// etcd's client): an answer may still come on it, and must not be
		// taken for the next request's.
		c.finish(nil, ErrTimeout)
		return true
	}
	// The attempt timed out: the connection may be dead without our
	// knowing (the server crashed or restarted); drop it and try the next
	// server.
	if c.conns[c.target] == c.attemptConn && c.attemptConn != 0 {
		c.env.Close(c.attemptConn)
		c.conns[c.target] = 0
	}
	c.target = (c.target + 1) % len(c.conns)
	c.attempt()
	return true
}
