package registry

import (
	"fmt"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// ClientConfig configures the client library.
type ClientConfig struct {
	Sessions []sim.NodeID
	// ReconnectDelay before dialling the next session server (default 200ms).
	ReconnectDelay time.Duration
	// Liveness: how the client finds out that its session server stopped
	// answering (a long GC pause keeps TCP connections open) and moves to
	// another one: sofa-bolt's heartbeat by default (client_liveness.go).
	Liveness Liveness
	// Hooks, all optional, tell the host what happened: Hooks, else the
	// functions below.
	Hooks          ClientHooks
	OnConnected    func(session sim.NodeID)
	OnDisconnected func(session sim.NodeID)
	OnPublishAck   func(regID string, version uint64)
	// OnPush receives every push for a subscriber (the callback).
	OnPush func(regID string, d *Datum)
}

// ClientHooks is ClientConfig's hooks as one interface value: a host
// that implements it with its own methods costs no closure a hook (five
// 16-byte closures were 2% of the 10,000-client benchmark's heap).
type ClientHooks interface {
	OnConnected(session sim.NodeID)
	OnDisconnected(session sim.NodeID)
	OnPublishAck(regID string, version uint64)
	// OnPush receives every push for a subscriber (the callback).
	OnPush(regID string, d *Datum)
}

// hookFuncs is ClientHooks of ClientConfig's functions, each optional.
type hookFuncs struct {
	connected, disconnected func(sim.NodeID)
	ack                     func(string, uint64)
	push                    func(string, *Datum)
}

func (h *hookFuncs) OnConnected(s sim.NodeID) {
	if h.connected != nil {
		h.connected(s)
	}
}

func (h *hookFuncs) OnDisconnected(s sim.NodeID) {
	if h.disconnected != nil {
		h.disconnected(s)
	}
}

func (h *hookFuncs) OnPublishAck(reg string, v uint64) {
	if h.ack != nil {
		h.ack(reg, v)
	}
}

func (h *hookFuncs) OnPush(reg string, d *Datum) {
	if h.push != nil {
		h.push(reg, d)
	}
}

// hooks is the config's ClientHooks.
func (cfg *ClientConfig) hooks() ClientHooks {
	if cfg.Hooks != nil {
		return cfg.Hooks
	}
	return &hookFuncs{cfg.OnConnected, cfg.OnDisconnected, cfg.OnPublishAck, cfg.OnPush}
}

// Client is the sans-IO client library; its host node forwards Message,
// Connected, Closed and Timer to the Handle methods.
type Client struct {
	// ClientConfig's settings, its hooks as one value: 256 bytes a
	// client, not 288
	sessions  []sim.NodeID
	reconnect time.Duration
	liveness  Liveness
	hooks     ClientHooks
	env       *sim.Env
	conn      sim.ConnID
	pubs      []clientPub       // by registerId, kept after unpublish (client_regs.go)
	subs      []ClientSubscribe // by registerId
	heard     time.Duration     // monotonic time the session was last heard from (the last read)
	hb        boltConn          // LivenessBolt's heartbeat state of the connection
	// the small fields together: 288 bytes a client, not 320
	target  int32  // index in cfg.Sessions
	dials   uint32 // connections dialled: stamps registrations
	up      bool
	waiting bool

	// refusals counts each registration's refusals by the access limit
	// (access_limit.go) since it was last acknowledged; nil until the first.
	refusals map[string]int
}

type (
	// Timer tags name their client: a node may host two clients (a mesh
	// pod's discovery and its coordinator client), and each must get only
	// its own timers.
	reconnectTick struct{ c *Client }
	pingTick      struct{ c *Client }
)

// NewClient starts the library: it connects to a session server drawn
// from the node's random stream.
func NewClient(env *sim.Env, cfg ClientConfig) *Client {
	if cfg.ReconnectDelay <= 0 {
		cfg.ReconnectDelay = 200 * time.Millisecond
	}
	cfg.Liveness.defaults()
	c := &Client{sessions: cfg.Sessions, reconnect: cfg.ReconnectDelay, liveness: cfg.Liveness, hooks: cfg.hooks(), env: env}
	c.target = int32(env.Rand().IntN(len(cfg.Sessions)))
	c.dial()
	if cfg.Liveness.Mode == LivenessPing {
		env.SetTimer(cfg.Liveness.PingInterval, pingTick{c})
	} else {
		env.SetTimer(cfg.Liveness.Idle, connHeartbeatTick{c})
	}
	return c
}

// ping is LivenessPing's check: the session is stuck when nothing came
// back for PingTimeout.
func (c *Client) ping() {
	c.env.SetTimer(c.liveness.PingInterval, pingTick{c})
	if !c.up {
		return
	}
	if c.env.Monotonic()-c.heard > c.liveness.PingTimeout {
		c.giveUp()
		return
	}
	c.send(&ClientPing{})
}

// Session is the session server the client is connected to ("" if none).
func (c *Client) Session() sim.NodeID {
	if !c.up {
		return ""
	}
	return c.sessions[c.target]
}

func (c *Client) dial() {
	c.up = false
	c.dials++
	c.conn = c.env.Dial(c.sessions[c.target])
	c.send(&ClientHello{Client: c.name()})
}

// name is the client's name in its hello: its node and incarnation (made
// per dial, not kept: the session keeps it).
func (c *Client) name() string { return fmt.Sprintf("%s#%d", c.env.ID(), c.env.Incarnation()) }

// Publish registers (or updates) a publisher; it returns its version.
func (c *Client) Publish(dataID, regID, data string) uint64 {
	r := c.pubRec(regID)
	r.ver++
	r.dataID, r.data, r.live = dataID, data, true
	c.send(&ClientPublish{Pub: c.stamp(r.value())})
	return r.ver
}

// Unpublish removes a publisher.
func (c *Client) Unpublish(regID string) {
	i, ok := find(c.pubs, regID, pubKey)
	if !ok || !c.pubs[i].live {
		return
	}
	r := &c.pubs[i]
	r.live = false
	r.ver++
	c.send(&ClientPublish{Pub: c.stamp(r.value()), Unpub: true})
}

func (c *Client) sendSub(s *ClientSubscribe) {
	x := *s
	x.Conn = c.connStamp()
	c.send(&x)
}

// stamp marks a registration with the current connection.
func (c *Client) stamp(p Pub) Pub {
	p.Conn = c.connStamp()
	return p
}

// connStamp orders the client's connections across its restarts: the
// process incarnation in the high half, the dial number in the low half.
// A restarted process numbers its versions from 1 again, and its
// registrations must still win over its predecessor's.
func (c *Client) connStamp() uint64 { return uint64(c.env.Incarnation())<<32 | uint64(c.dials) }

// Subscribe registers a subscriber; pushes go to OnPush.
func (c *Client) Subscribe(dataID, regID string) {
	s := ClientSubscribe{DataID: dataID, RegID: regID}
	if cur := c.sub(regID); cur != nil && cur.DataID == dataID {
		s.Last = cur.Last // subscribing again must not let a stale session push an older version
	}
	c.setSub(s)
	c.sendSub(&s)
}

func (c *Client) HandleConnected(conn sim.ConnID, peer sim.NodeID) bool {
	if conn != c.conn {
		return false
	}
	c.up = true
	c.connUp()
	c.hooks.OnConnected(peer)
	return true
}

func (c *Client) HandleClosed(conn sim.ConnID, peer sim.NodeID) bool {
	if conn != c.conn {
		return false
	}
	if c.up {
		c.hooks.OnDisconnected(peer)
	}
	c.up = false
	c.conn = 0
	if !c.waiting {
		c.waiting = true
		c.env.SetTimer(c.reconnect, reconnectTick{c})
	}
	return true
}

func (c *Client) HandleTimer(_ sim.TimerID, tag any) bool {
	if t, ok := tag.(connHeartbeatTick); ok && t.c == c {
		c.heartbeat()
		return true
	}
	if t, ok := tag.(pingTick); ok && t.c == c {
		c.ping()
		return true
	}
	if t, ok := tag.(resendTick); ok && t.c == c {
		c.resend(t)
		return true
	}
	if t, ok := tag.(reconnectTick); !ok || t.c != c {
		return false
	}
	c.waiting = false
	c.target = int32((int(c.target) + 1 + c.env.Rand().IntN(len(c.sessions))) % len(c.sessions))
	c.dial()
	c.reregister()
	return true
}

func (c *Client) HandleMessage(conn sim.ConnID, _ sim.NodeID, msg any) bool {
	if conn != c.conn {
		return false
	}
	c.heard = c.env.Monotonic()
	switch x := msg.(type) {
	case *ClientPong:
	case *ConnHeartbeatAck:
		c.heartbeatAcked(x.ID)
	case *Push:
		if s := c.sub(x.RegID); s != nil {
			s.Last = maxU(s.Last, x.Datum.Version) // never sent itself: sendSub sends a copy
		}
		c.hooks.OnPush(x.RegID, x.Datum)
		c.send(&PushAck{RegID: x.RegID, Version: x.Datum.Version, Attempt: x.Attempt})
	case *ClientRefused:
		c.refused(x)
	case *ClientPublishAck:
		delete(c.refusals, x.RegID) // registered: a later refusal starts its wait afresh, as a new task
		c.hooks.OnPublishAck(x.RegID, x.Version)
	default:
		return false
	}
	return true
}
