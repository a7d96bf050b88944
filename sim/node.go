package sim

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/pingcap/failpoint"
)

// Node is a system under test: a sans-IO state machine driven by the world.
// Methods must not block, start goroutines or touch anything but the Env.
type Node interface {
	// Start runs when the node boots and on every restart, on a fresh object
	// that recovers its state from env.Disk().
	Start(env *Env)
	// Connected tells both ends that a connection is established: the
	// acceptor when the dial arrives, the dialer when the answer comes back.
	Connected(conn ConnID, peer NodeID)
	// Message delivers a message that arrived on a connection.
	Message(conn ConnID, from NodeID, msg any)
	// Closed tells the node its connection is gone. Messages still in
	// flight on it are lost.
	Closed(conn ConnID, peer NodeID)
	// Datagram delivers an unreliable message.
	Datagram(from NodeID, msg any)
	// Timer fires a timer the node set, with the tag it gave.
	Timer(id TimerID, tag any)
}

// BaseNode implements every Node method but Start as a no-op, for embedding.
type BaseNode struct{}

func (BaseNode) Connected(ConnID, NodeID)    {}
func (BaseNode) Message(ConnID, NodeID, any) {}
func (BaseNode) Closed(ConnID, NodeID)       {}
func (BaseNode) Datagram(NodeID, any)        {}
func (BaseNode) Timer(TimerID, any)          {}

// TimerID names a timer; ids are never reused within a world.
type TimerID uint64

// Env is everything a node may touch. It belongs to one incarnation: after
// a crash, its methods do nothing.
type Env struct {
	w   *World
	n   *slot
	inc uint32
	// The incarnation's random stream, held by value: a restart allocates
	// the Env and nothing more for it (the first incarnation's lives in
	// its slot). With sentOn, the Env is one 64-byte line.
	src rand.PCG
	rng rand.Rand
	// sentOn is the connection (id<<1 | end) the node last sent on, where
	// it likely sends again: the event loop prefetches it (World.prefetch).
	sentOn uint64
}

func (e *Env) live() bool { return e.n.up && e.n.inc == e.inc }

// ID returns the node's name.
func (e *Env) ID() NodeID { return e.n.id }

// Incarnation counts the node's starts, from 1.
func (e *Env) Incarnation() uint32 { return e.inc }

// Now reads the node's wall clock: offset, drift and jumps included.
func (e *Env) Now() time.Time { return Epoch.Add(time.Duration(e.n.clock.wall(e.w.now))) }

// Monotonic reads the node's monotonic clock (drift, no jumps), the clock
// its timers run on.
func (e *Env) Monotonic() time.Duration { return time.Duration(e.n.clock.mono(e.w.now)) }

// Rand returns the incarnation's own random stream.
func (e *Env) Rand() *rand.Rand { return &e.rng }

// Disk returns the machine's disk, which outlives the process.
func (e *Env) Disk() *Disk { return e.w.diskOf(e.n) }

// Dial opens a connection to the named node. Messages may be sent at once;
// Connected follows when the connection is established, Closed if it fails.
func (e *Env) Dial(to NodeID) ConnID {
	if !e.live() {
		return 0
	}
	return e.w.dial(e.n, to)
}

// Send queues msg on the connection. It returns false when the node already
// knows the connection is closed; a message on a connection that broke
// without the node knowing yet is silently lost, as with TCP.
func (e *Env) Send(c ConnID, msg any) bool {
	var cn *conn
	var end int
	if r := &e.w.reply; e == r.env && c == r.id {
		cn, end = r.c, r.end // an answer on the connection of the call
	} else {
		if !e.live() {
			return false
		}
		if cn = e.w.conns.get(c); cn == nil {
			return false
		}
		if end = cn.endOf(e.n); end < 0 {
			return false
		}
	}
	if cn.told[end&1] {
		return false
	}
	e.n.sent++
	e.sentOn = uint64(c)<<1 | uint64(end)
	if !cn.broken && !cn.synLost {
		e.w.enqueue(cn, end, msg, ctlData)
	}
	return true
}

// Close closes the connection. The peer is told once what was sent before
// has arrived; nothing more is delivered to this end.
func (e *Env) Close(c ConnID) {
	if !e.live() {
		return
	}
	cn := e.w.conns.get(c)
	if cn == nil {
		return
	}
	end := cn.endOf(e.n)
	if end < 0 || cn.told[end] {
		return
	}
	cn.told[end] = true
	e.n.dropConn(c)
	if cn.broken {
		e.w.maybeForget(cn)
		return
	}
	if !cn.opened {
		e.w.breakConn(cn, end, -1)
		e.w.maybeForget(cn)
		return
	}
	e.w.items.reset(&cn.dir[1-end].fifo)
	e.w.enqueue(cn, end, nil, ctlFin)
}

// SendDatagram sends an unreliable message: it may be lost, duplicated or
// reordered, and partitions drop it.
func (e *Env) SendDatagram(to NodeID, msg any) {
	if e.live() {
		e.w.sendDatagram(e.n, to, msg)
	}
}

// SetTimer arms a timer that fires after d on the node's monotonic clock
// and hands tag back to Timer.
func (e *Env) SetTimer(d time.Duration, tag any) TimerID {
	if !e.live() {
		return 0
	}
	return e.w.setTimer(e.n, d, tag)
}

// CancelTimer cancels a timer; a cancelled timer never fires.
func (e *Env) CancelTimer(id TimerID) {
	if t, ok := e.w.liveTimers.get(id); ok && t.node == e.n.idx && e.live() {
		e.w.dropTimer(id)
	}
}

// Trace records a node event. It always counts in the run's fingerprint and
// appears in the full trace when one is written.
func (e *Env) Trace(event string, fields ...any) {
	if !e.live() {
		return
	}
	w := e.w
	w.fp.str(event)
	for _, f := range fields {
		w.fp.value(f)
	}
	if w.trace != nil {
		w.trace.write(&TraceRecord{T: w.now, Kind: "trace", Node: e.n.id, Event: event, Fields: fieldStrings(fields)})
	}
}

// Context returns a context that carries the world's failpoint hook, for
// code that calls failpoint.EvalContext itself.
func (e *Env) Context() context.Context { return e.w.failpointContext(e.n) }

// Failpoint evaluates the named failpoint through pingcap/failpoint. It
// fires only when the world has armed it and the world's seeded stream says
// so; the value is the armed return value.
func (e *Env) Failpoint(name string) (failpoint.Value, bool) {
	if !e.live() || len(e.w.armed) == 0 {
		return nil, false
	}
	v, err := failpoint.EvalContext(e.w.failpointContext(e.n), name)
	if err != nil {
		return nil, false
	}
	return v, true
}

// Exit ends the process as a crash would, once the current call returns;
// code does this on errors it cannot survive, such as a failed sync.
func (e *Env) Exit(reason string) {
	if e.live() {
		e.n.rarePart().exit = reason
		e.n.attention = true
	}
}
