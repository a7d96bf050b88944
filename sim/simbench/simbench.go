// Package simbench holds the kernel's throughput workloads, shared by
// `go test -bench` and `sofasim bench` so that both measure the same thing:
// ping-pong, a fan-out under faults, a ring of N nodes with a token in
// flight each, and ping-pong next to idle timers. Reference runs the same
// ping-pong, ring and timers on a bare simulator, and Compare measures
// both in interleaved rounds, so the kernel's cost is a ratio measured in
// one run rather than a figure remembered from another machine.
package simbench

import (
	"fmt"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// ping is the ping-pong message. A pointer to one preallocated value is
// sent back and forth, so sending boxes nothing.
type ping struct{ n uint64 }

func (p *ping) Digest() uint64 { return p.n }

// pinger dials its peer and keeps Window messages in flight; ponger
// echoes. Every delivery is one event.
type pinger struct {
	sim.BaseNode
	env    *sim.Env
	peer   sim.NodeID
	conn   sim.ConnID
	window int
	msgs   []ping
}

func (p *pinger) Start(env *sim.Env) {
	p.env = env
	p.conn = env.Dial(p.peer)
	p.msgs = make([]ping, p.window)
	for i := range p.msgs {
		env.Send(p.conn, &p.msgs[i])
	}
}

func (p *pinger) Message(c sim.ConnID, _ sim.NodeID, msg any) {
	m := msg.(*ping)
	m.n++
	p.env.Send(c, m)
}

type ponger struct {
	sim.BaseNode
	env *sim.Env
}

func (p *ponger) Start(env *sim.Env) { p.env = env }

func (p *ponger) Message(c sim.ConnID, _ sim.NodeID, msg any) { p.env.Send(c, msg) }

// PingPong builds a two-node world with window messages bouncing over one
// connection.
func PingPong(seed uint64, window int) *sim.World {
	w := sim.NewWorld(sim.Config{Seed: seed})
	w.AddNode("pong", func() sim.Node { return &ponger{} })
	w.AddNode("ping", func() sim.Node { return &pinger{peer: "pong", window: window} })
	return w
}

// hub fans a message out to every leaf over connections and gossips
// datagrams; leaves answer; a timer drives rounds and redials lost leaves.
type hub struct {
	sim.BaseNode
	env    *sim.Env
	leaves []sim.NodeID
	conns  map[sim.NodeID]sim.ConnID
	round  uint64
	slab   []round // rounds are carved from here, 256 at a time
}

type tick struct{}

// round is the hub's message. One per round is shared by every leaf,
// which echoes it back, and rounds are carved from slabs: the nodes box
// and allocate (nearly) nothing per message, so the benchmark's
// allocations are the kernel's (and node restarts').
type round struct{ n uint64 }

func (r *round) Digest() uint64 { return r.n }

func (h *hub) Start(env *sim.Env) {
	h.env = env
	h.conns = map[sim.NodeID]sim.ConnID{}
	for _, l := range h.leaves {
		h.conns[l] = env.Dial(l)
	}
	env.SetTimer(10*time.Millisecond, tick{})
}

func (h *hub) Timer(_ sim.TimerID, _ any) {
	h.round++
	if len(h.slab) == 0 {
		h.slab = make([]round, 256)
	}
	msg := &h.slab[0]
	h.slab = h.slab[1:]
	msg.n = h.round
	for _, l := range h.leaves {
		c, ok := h.conns[l]
		if !ok {
			c = h.env.Dial(l)
			h.conns[l] = c
		}
		h.env.Send(c, msg)
		h.env.SendDatagram(l, msg)
	}
	h.env.SetTimer(10*time.Millisecond, tick{})
}

func (h *hub) Closed(c sim.ConnID, peer sim.NodeID) {
	if h.conns[peer] == c {
		delete(h.conns, peer)
	}
}

type leaf struct {
	sim.BaseNode
	env  *sim.Env
	seen uint64
}

func (l *leaf) Start(env *sim.Env) {
	l.env = env
	if b, err := env.Disk().ReadFile("seen"); err == nil && len(b) == 8 {
		for i := 0; i < 8; i++ {
			l.seen |= uint64(b[i]) << (8 * i)
		}
	}
}

func (l *leaf) Message(c sim.ConnID, _ sim.NodeID, msg any) {
	r := msg.(*round).n
	if r > l.seen {
		l.seen = r
		var b [8]byte
		for i := 0; i < 8; i++ {
			b[i] = byte(r >> (8 * i))
		}
		_ = l.env.Disk().WriteAt("seen", 0, b[:])
		if r%8 == 0 {
			_ = l.env.Disk().Sync("seen")
		}
	}
	l.env.Send(c, msg)
}

func (l *leaf) Datagram(_ sim.NodeID, msg any) { l.env.Trace("gossip", msg) }

// FanOutWarm is the warm-up of a fan-out run of the given duration: its
// first second (a tenth of shorter runs), where nodes start, dial and
// grow their buffers. What follows is the steady state, faults included.
func FanOutWarm(duration time.Duration) sim.Limits {
	return sim.Limits{Until: min(time.Second, duration/10)}
}

// FanOut builds a world of one hub and leaves leaf nodes, and schedules a
// fault plan over duration of virtual time: partitions, crashes and
// restarts, pauses, clogs, loss and clock faults, drawn from the seed.
func FanOut(seed uint64, leaves int, duration time.Duration) *sim.World {
	w := sim.NewWorld(sim.Config{Seed: seed})
	ids := make([]sim.NodeID, leaves)
	for i := range ids {
		ids[i] = sim.NodeID(fmt.Sprintf("leaf-%03d", i))
		w.AddNode(ids[i], func() sim.Node { return &leaf{} })
	}
	w.AddNode("hub", func() sim.Node { return &hub{leaves: ids} })
	all := append(append([]sim.NodeID(nil), ids...), "hub")
	r := w.Stream("fanout-plan")
	var plan []sim.Fault
	for t := time.Second; t < duration; t += time.Second {
		at := sim.Duration(t)
		victim := ids[r.IntN(len(ids))]
		switch r.IntN(6) {
		case 0:
			plan = append(plan, sim.Fault{At: at, Op: sim.Partition{Cuts: sim.MajorityMinority(all, r)}},
				sim.Fault{At: at + sim.Duration(500*time.Millisecond), Op: sim.Heal{}})
		case 1:
			plan = append(plan, sim.Fault{At: at, Op: sim.Crash{Nodes: []sim.NodeID{victim}, Torn: true}},
				sim.Fault{At: at + sim.Duration(300*time.Millisecond), Op: sim.Restart{Nodes: []sim.NodeID{victim}}})
		case 2:
			plan = append(plan, sim.Fault{At: at, Op: sim.Pause{Nodes: []sim.NodeID{victim}}},
				sim.Fault{At: at + sim.Duration(200*time.Millisecond), Op: sim.Resume{Nodes: []sim.NodeID{victim}}})
		case 3:
			plan = append(plan, sim.Fault{At: at, Op: sim.Clog{For: sim.Duration(100 * time.Millisecond), Cuts: sim.OneWay([]sim.NodeID{"hub"}, []sim.NodeID{victim})}})
		case 4:
			plan = append(plan, sim.Fault{At: at, Op: sim.Loss{LossPPM: 100_000, DupPPM: 50_000, For: sim.Duration(400 * time.Millisecond)}})
		case 5:
			plan = append(plan, sim.Fault{At: at, Op: sim.ClockSkew{Nodes: []sim.NodeID{victim}, DriftPPM: r.Int64N(2001) - 1000}},
				sim.Fault{At: at, Op: sim.ClockJump{Nodes: []sim.NodeID{victim}, Jump: sim.Duration(r.Int64N(int64(2*time.Second)) - int64(time.Second))}})
		}
	}
	if err := w.Schedule(plan); err != nil {
		panic(err) // the plan above is built from known nodes
	}
	return w
}
