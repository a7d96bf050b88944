package simbench

import (
	"fmt"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// token is the ring's message, passed on by pointer so that sending boxes
// nothing.
type token struct{ hops uint64 }

func (t *token) Digest() uint64 { return t.hops }

// ringNode dials its successor, sends one token, and forwards every token
// it receives: one message in flight per node, each on its own connection.
type ringNode struct {
	sim.BaseNode
	env  *sim.Env
	next sim.NodeID
	out  sim.ConnID
	tok  token
}

func (r *ringNode) Start(env *sim.Env) {
	r.env = env
	r.out = env.Dial(r.next)
	env.Send(r.out, &r.tok)
}

func (r *ringNode) Message(_ sim.ConnID, _ sim.NodeID, msg any) {
	msg.(*token).hops++
	r.env.Send(r.out, msg)
}

func ringIDs(n int) []sim.NodeID {
	ids := make([]sim.NodeID, n)
	for i := range ids {
		ids[i] = sim.NodeID(fmt.Sprintf("n%06d", i))
	}
	return ids
}

// Ring builds a world of nodes in a ring, each with one token in flight to
// its successor: the kernel's cost per event as the world grows.
func Ring(seed uint64, nodes int) *sim.World {
	w := sim.NewWorld(sim.Config{Seed: seed})
	ids := ringIDs(nodes)
	for i, id := range ids {
		next := ids[(i+1)%nodes]
		w.AddNode(id, func() sim.Node { return &ringNode{next: next} })
	}
	return w
}

// Idle timers are set this far ahead, one idleTimerStep apart: far beyond
// any benchmark's virtual time, so they only sit in the queues.
const (
	idleTimerAt   = 1000 * time.Hour
	idleTimerStep = time.Millisecond
)

// sleeper sets its timers at start and never sees them fire.
type sleeper struct {
	sim.BaseNode
	timers int
}

func (s *sleeper) Start(env *sim.Env) {
	for i := 0; i < s.timers; i++ {
		env.SetTimer(idleTimerAt+time.Duration(i)*idleTimerStep, nil)
	}
}

// IdleTimers is PingPong next to a node with timers pending far in the
// future: what idle timers cost the events that do happen.
func IdleTimers(seed uint64, timers int) *sim.World {
	w := PingPong(seed, 1)
	w.AddNode("sleeper", func() sim.Node { return &sleeper{timers: timers} })
	return w
}
