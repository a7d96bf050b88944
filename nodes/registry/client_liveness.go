package registry

// Connection liveness between a client and its session server: how either
// end finds out that the other stopped answering while the connection stays
// open (a long GC pause, a clogged link). A crash needs none of it: the
// kernel tells the peer, as a real host's RST does.

import (
	"time"

	"github.com/sofasim/sofasim/sim"
)

// Client liveness modes.
const (
	// LivenessBolt is sofa-bolt's heartbeat, which the SOFARegistry client
	// uses at bolt's defaults (the default).
	LivenessBolt = "bolt"
	// LivenessPing is the model before: an application ping every second.
	LivenessPing = "ping"
)

// Liveness configures client connection liveness (Config.ClientLiveness,
// ClientConfig.Liveness).
//
// Under LivenessBolt the client acts as bolt's IdleStateHandler(Idle, Idle,
// 0) and RpcHeartbeatTrigger: once nothing was read, or nothing written, for
// Idle (bolt.tcp.heartbeat.interval, 15 s) it sends a heartbeat, and at most
// every Idle while that lasts; a heartbeat not acknowledged within Timeout
// (RpcHeartbeatTrigger's fixed 1 s) is missed, an acknowledged one resets
// the count, and the idle event that finds MaxMissed
// (bolt.tcp.heartbeat.maxtimes, 3) missed closes the connection. A session
// silent from t is thus left between t+45 s and t+60 s. The session closes
// a connection with nothing read or written for ServerIdle (bolt's
// IdleStateHandler(0, 0, bolt.tcp.server.idle.interval) and
// ServerIdleHandler; SOFARegistry's BoltExchange sets 45 s): a client
// paused that long is dropped, and its publishers with it.
//
// Under LivenessPing the client pings every PingInterval (1 s) and closes
// the connection when it heard nothing for PingTimeout (3 s); the session
// never closes an idle connection.
type Liveness struct {
	Mode       string
	Idle       time.Duration
	Timeout    time.Duration
	MaxMissed  int
	ServerIdle time.Duration
	// PingInterval and PingTimeout are LivenessPing's.
	PingInterval, PingTimeout time.Duration
}

func (l *Liveness) defaults() {
	if l.Mode == "" {
		l.Mode = LivenessBolt
	}
	defaultDur(&l.Idle, 15*time.Second)
	defaultDur(&l.Timeout, time.Second)
	if l.MaxMissed <= 0 {
		l.MaxMissed = 3
	}
	defaultDur(&l.ServerIdle, 45*time.Second)
	defaultDur(&l.PingInterval, time.Second)
	defaultDur(&l.PingTimeout, 3*time.Second)
}

// serverIdle is how long a session keeps a silent client connection (0:
// for ever).
func (l Liveness) serverIdle() time.Duration {
	if l.Mode == LivenessPing {
		return 0
	}
	return l.ServerIdle
}

type (
	// ConnHeartbeat and ConnHeartbeatAck are bolt's HeartbeatCommand and
	// HeartbeatAckCommand; the ack carries the heartbeat's id.
	ConnHeartbeat    struct{ ID uint64 }
	ConnHeartbeatAck struct{ ID uint64 }
	// connHeartbeatTick is the client's idle check (its own, like pingTick).
	connHeartbeatTick struct{ c *Client }
	// serverIdleTick is the session's idle check of one client connection.
	serverIdleTick struct{ conn sim.ConnID }
)

// Digest lets the fingerprint tell heartbeats apart.
func (h *ConnHeartbeat) Digest() uint64 { return h.ID }

// Digest lets the fingerprint tell heartbeat acks apart.
func (h *ConnHeartbeatAck) Digest() uint64 { return h.ID }

// boltConn is the client's per-connection heartbeat state (bolt keeps it
// in channel attributes). The last read is Client.heard.
type boltConn struct {
	wrote  time.Duration // last write
	fired  time.Duration // last idle event
	sentAt time.Duration // the outstanding heartbeat's send time
	id     uint64        // the outstanding heartbeat's id
	wait   bool          // a heartbeat awaits its ack
	missed int32         // heartbeats missed in a row
}

// send writes msg on the client's connection: a write for the idle check.
func (c *Client) send(msg any) {
	c.hb.wrote = c.env.Monotonic()
	c.env.Send(c.conn, msg)
}

// connUp starts a connection's idle clocks, as IdleStateHandler does when
// the channel becomes active, and its heartbeat count at zero.
func (c *Client) connUp() {
	now := c.env.Monotonic()
	c.heard = now
	c.hb = boltConn{wrote: now, fired: now, id: c.hb.id}
}

// heartbeat is the client's idle check under LivenessBolt. One timer
// stands for bolt's reader and writer idle tasks: it fires when either
// direction was idle for Idle since the last idle event, and is otherwise
// moved to that time, so a busy connection costs one timer event per Idle.
func (c *Client) heartbeat() {
	l, now := c.liveness, c.env.Monotonic()
	due := max(min(c.heard, c.hb.wrote), c.hb.fired) + l.Idle
	if c.up && now < due {
		c.env.SetTimer(due-now, connHeartbeatTick{c})
		return
	}
	c.env.SetTimer(l.Idle, connHeartbeatTick{c})
	if !c.up {
		return
	}
	c.hb.fired = now
	if c.hb.wait && now-c.hb.sentAt >= l.Timeout {
		c.hb.wait = false
		c.hb.missed++ // bolt counts it when the 1 s timeout fires
	}
	if int(c.hb.missed) >= l.MaxMissed {
		c.env.Reached("registry/heartbeat-closed-connection")
		c.giveUp()
		return
	}
	c.hb.id++
	c.hb.wait, c.hb.sentAt = true, now
	c.send(&ConnHeartbeat{ID: c.hb.id})
}

// heartbeatAcked: an ack within Timeout resets the missed count; a late
// one was already counted as missed (bolt has dropped its future).
func (c *Client) heartbeatAcked(id uint64) {
	if c.hb.wait && id == c.hb.id && c.env.Monotonic()-c.hb.sentAt < c.liveness.Timeout {
		c.hb.wait, c.hb.missed = false, 0
	}
}

// giveUp closes a connection whose session stopped answering; the client
// moves to another session.
func (c *Client) giveUp() {
	conn, peer := c.conn, c.sessions[c.target]
	c.env.Close(conn)
	c.HandleClosed(conn, peer)
}

// idleWatch starts the session's idle check of a new client connection.
func (s *SessionServer) idleWatch(c sim.ConnID) {
	if d := s.cfg.ClientLiveness.serverIdle(); d > 0 {
		s.clients[c].io = s.env.Monotonic()
		s.env.SetTimer(d, serverIdleTick{c})
	}
}

// clientIO notes a read or write on client connection c.
func (s *SessionServer) clientIO(c sim.ConnID) {
	if s.cfg.ClientLiveness.serverIdle() > 0 {
		if cc := s.clients[c]; cc != nil {
			cc.io = s.env.Monotonic()
		}
	}
}

// toClient writes msg to a client connection.
func (s *SessionServer) toClient(c sim.ConnID, msg any) {
	s.clientIO(c)
	s.env.Send(c, msg)
}

// serverIdle closes connection c if nothing was read or written on it for
// ServerIdle (bolt's ServerIdleHandler), cleaning what it registered as a
// close does; otherwise it looks again when that could first be true. A
// connection closed meanwhile is forgotten; one whose record client-off
// replaced (io 0) starts its idle clock again.
func (s *SessionServer) serverIdle(c sim.ConnID) {
	cc := s.clients[c]
	if cc == nil {
		return
	}
	now, d := s.env.Monotonic(), s.cfg.ClientLiveness.serverIdle()
	if cc.io == 0 {
		cc.io = now
	}
	if idle := now - cc.io; idle < d {
		s.env.SetTimer(d-idle, serverIdleTick{c})
		return
	}
	s.env.Reached("registry/idle-connection-closed")
	s.env.Close(c)
	s.Closed(c, "")
}
