package sim_test

import (
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/pingcap/failpoint"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/sim"
)

// This file holds the small test nodes and the recording tape that the
// black-box tests share. Test nodes write what they see into a tape owned by
// the test; the tests then check properties over the tape, the fault plan
// they scheduled and the world's public accessors.

// entry is one thing a test node saw.
type entry struct {
	At   time.Duration // virtual time (World.Now) when the node saw it
	Live bool          // World.Up and not World.Paused at that moment
	Node sim.NodeID
	Inc  uint32
	Kind string // start, connected, message, closed, datagram, timer, sent, note
	Peer sim.NodeID
	Conn sim.ConnID
	Msg  any
}

func (e entry) String() string {
	return fmt.Sprintf("%v %s#%d %s peer=%s conn=%d %v", e.At, e.Node, e.Inc, e.Kind, e.Peer, e.Conn, e.Msg)
}

// tape is the test's record of a run.
type tape struct {
	w       *sim.World
	entries []entry
}

func (tp *tape) add(env *sim.Env, kind string, peer sim.NodeID, c sim.ConnID, msg any) {
	live := tp.w.Up(env.ID()) && !tp.w.Paused(env.ID())
	tp.entries = append(tp.entries, entry{At: tp.w.Now(), Live: live, Node: env.ID(), Inc: env.Incarnation(),
		Kind: kind, Peer: peer, Conn: c, Msg: msg})
}

// filter returns the entries that match every non-zero field of want.
func (tp *tape) filter(want entry) []entry {
	var out []entry
	for _, e := range tp.entries {
		if want.Node != "" && e.Node != want.Node || want.Kind != "" && e.Kind != want.Kind ||
			want.Peer != "" && e.Peer != want.Peer || want.Conn != 0 && e.Conn != want.Conn ||
			want.Inc != 0 && e.Inc != want.Inc {
			continue
		}
		out = append(out, e)
	}
	return out
}

// hooks script a probe node. Every callback is recorded on the tape first,
// then handed to the hook when there is one.
type hooks struct {
	start     func(p *probe)
	connected func(p *probe, c sim.ConnID, peer sim.NodeID)
	message   func(p *probe, c sim.ConnID, from sim.NodeID, msg any)
	closed    func(p *probe, c sim.ConnID, peer sim.NodeID)
	datagram  func(p *probe, from sim.NodeID, msg any)
	timer     func(p *probe, id sim.TimerID, tag any)
}

// probe is a scriptable test node.
type probe struct {
	sim.BaseNode
	tp  *tape
	h   *hooks
	env *sim.Env
	// state a script may keep; it dies with the incarnation.
	conns map[sim.NodeID]sim.ConnID // dialed, by peer
	open  []sim.ConnID              // believed open, in the order opened
	next  map[sim.ConnID]int        // next sequence number to send
	round int
}

func (p *probe) Start(env *sim.Env) {
	p.env = env
	p.conns = map[sim.NodeID]sim.ConnID{}
	p.next = map[sim.ConnID]int{}
	p.tp.add(env, "start", "", 0, nil)
	if p.h.start != nil {
		p.h.start(p)
	}
}

func (p *probe) Connected(c sim.ConnID, peer sim.NodeID) {
	p.tp.add(p.env, "connected", peer, c, nil)
	if p.h.connected != nil {
		p.h.connected(p, c, peer)
	}
}

func (p *probe) Message(c sim.ConnID, from sim.NodeID, msg any) {
	p.tp.add(p.env, "message", from, c, msg)
	if p.h.message != nil {
		p.h.message(p, c, from, msg)
	}
}

func (p *probe) Closed(c sim.ConnID, peer sim.NodeID) {
	p.tp.add(p.env, "closed", peer, c, nil)
	if p.h.closed != nil {
		p.h.closed(p, c, peer)
	}
}

func (p *probe) Datagram(from sim.NodeID, msg any) {
	p.tp.add(p.env, "datagram", from, 0, msg)
	if p.h.datagram != nil {
		p.h.datagram(p, from, msg)
	}
}

func (p *probe) Timer(id sim.TimerID, tag any) {
	p.tp.add(p.env, "timer", "", 0, tag)
	if p.h.timer != nil {
		p.h.timer(p, id, tag)
	}
}

// send sends the connection's next sequence number and records it.
func (p *probe) send(c sim.ConnID) bool {
	seq := p.next[c]
	if !p.env.Send(c, seq) {
		return false
	}
	p.next[c] = seq + 1
	p.tp.add(p.env, "sent", "", c, seq)
	return true
}

// dial dials peer and remembers the connection as open.
func (p *probe) dial(peer sim.NodeID) sim.ConnID {
	c := p.env.Dial(peer)
	p.conns[peer] = c
	p.open = append(p.open, c)
	return c
}

// drop forgets a connection.
func (p *probe) drop(c sim.ConnID, peer sim.NodeID) {
	for i, x := range p.open {
		if x == c {
			p.open = append(p.open[:i], p.open[i+1:]...)
			break
		}
	}
	if p.conns[peer] == c {
		delete(p.conns, peer)
	}
}

// dgram is the chaos workload's datagram.
type dgram struct {
	From sim.NodeID
	N    int
}

// chatter is the chaos workload: the node dials every node of out and
// redials lost connections; every tick it sends the next sequence number on
// every open connection (dialed or accepted) and a datagram to each of out,
// appends to its log file and syncs it (exiting if the sync fails, as real
// code must), and evaluates the test failpoints, by both routes.
func chatter(out []sim.NodeID, tick time.Duration) *hooks {
	return &hooks{
		start: func(p *probe) {
			if b, err := p.env.Disk().ReadFile("log"); err == nil {
				p.round = len(b) / 8
			}
			for _, peer := range out {
				p.dial(peer)
			}
			p.env.SetTimer(tick, "tick")
		},
		connected: func(p *probe, c sim.ConnID, peer sim.NodeID) {
			for _, x := range p.open {
				if x == c {
					return
				}
			}
			p.open = append(p.open, c) // accepted
		},
		closed: func(p *probe, c sim.ConnID, peer sim.NodeID) { p.drop(c, peer) },
		timer: func(p *probe, _ sim.TimerID, _ any) {
			env := p.env
			p.round++
			if _, ok := env.Failpoint(fpPanic); ok {
				panic("failpoint " + fpPanic)
			}
			if v, ok := env.Failpoint(fpValue); ok {
				p.tp.add(env, "note", "", 0, fmt.Sprint("value ", v))
			}
			if _, err := failpoint.EvalContext(env.Context(), fpSkip); err == nil {
				p.tp.add(env, "note", "", 0, "skip")
			} else {
				for _, c := range append([]sim.ConnID(nil), p.open...) {
					p.send(c)
				}
				for _, peer := range out {
					env.SendDatagram(peer, dgram{From: env.ID(), N: p.round})
				}
			}
			for _, peer := range out {
				if _, ok := p.conns[peer]; !ok {
					p.dial(peer)
				}
			}
			var rec [8]byte
			rec[0] = byte(p.round)
			if _, err := env.Disk().Append("log", rec[:]); err != nil {
				panic(err)
			}
			if err := env.Disk().Sync("log"); err != nil {
				p.tp.add(env, "note", "", 0, "exit")
				env.Exit(err.Error())
			}
			env.Trace("tick", p.round, env.Now().UnixNano(), env.Rand().Uint64())
			env.SetTimer(tick, "tick")
		},
	}
}

// newWorld builds a world and its tape.
func newWorld(cfg sim.Config) (*sim.World, *tape) {
	w := sim.NewWorld(cfg)
	return w, &tape{w: w}
}

// addProbe adds a probe node scripted by h.
func addProbe(w *sim.World, tp *tape, id sim.NodeID, h *hooks) {
	w.AddNode(id, func() sim.Node { return &probe{tp: tp, h: h} })
}

// quietNet is a network with a fixed, known latency range and no tail, so
// that tests can reason about delivery times.
func quietNet() sim.NetworkConfig {
	return sim.NetworkConfig{
		Latency:        sim.Latency{Min: time.Millisecond, Max: 5 * time.Millisecond},
		KeepAlive:      time.Second,
		ConnectTimeout: 500 * time.Millisecond,
		RTO:            50 * time.Millisecond,
	}
}

// perfectClock asks for clocks without offset or drift. A zero ClockConfig
// means "defaults", so negative bounds are the way to say "none".
var perfectClock = sim.ClockConfig{MaxOffset: -1, MaxDriftPPM: -1}

func ids(names ...string) []sim.NodeID {
	out := make([]sim.NodeID, len(names))
	for i, n := range names {
		out[i] = sim.NodeID(n)
	}
	return out
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func at(d time.Duration) sim.Duration { return sim.Duration(d) }

// seqs returns the integer messages of entries, in order.
func seqs(es []entry) []int {
	out := make([]int, 0, len(es))
	for _, e := range es {
		out = append(out, e.Msg.(int))
	}
	return out
}

// upTo returns 0, 1, ..., n-1.
func upTo(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// connsOf lists the distinct connections in entries, sorted.
func connsOf(es []entry) []sim.ConnID {
	seen := map[sim.ConnID]bool{}
	var out []sim.ConnID
	for _, e := range es {
		if e.Conn != 0 && !seen[e.Conn] {
			seen[e.Conn] = true
			out = append(out, e.Conn)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// chaos is a random world: a topology (who dials whom), a fault plan over
// it drawn with every fault kind, and a seed.
type chaos struct {
	Seed  uint64
	Nodes []sim.NodeID
	Out   [][]sim.NodeID // Out[i]: whom Nodes[i] dials
	Plan  []sim.Fault
	Torn  bool
}

const (
	chaosHorizon = 2 * time.Second // faults happen in [0, chaosHorizon]
	chaosEnd     = 3 * time.Second // the run stops here
	chaosTick    = 20 * time.Millisecond
)

// chaosNet has a latency tail (so messages overtake each other on the
// wire), some datagram loss and duplication, and a short keepalive so that
// partitions in the plan break connections.
func chaosNet() sim.NetworkConfig {
	return sim.NetworkConfig{
		Latency:         sim.Latency{Min: time.Millisecond, Max: 5 * time.Millisecond, TailPPM: 50_000, TailMax: 60 * time.Millisecond},
		KeepAlive:       300 * time.Millisecond,
		ConnectTimeout:  200 * time.Millisecond,
		RTO:             20 * time.Millisecond,
		DatagramLossPPM: 10_000,
		DatagramDupPPM:  10_000,
	}
}

func genChaos(maxNodes, maxFaults int) *rapid.Generator[chaos] {
	return rapid.Custom(func(t *rapid.T) chaos {
		c := chaos{Seed: rapid.Uint64().Draw(t, "seed"), Nodes: genNodes(2, maxNodes).Draw(t, "nodes")}
		for i, a := range c.Nodes {
			var out []sim.NodeID
			for j, b := range c.Nodes {
				if i != j && rapid.Bool().Draw(t, "edge "+string(a)+"->"+string(b)) {
					out = append(out, b)
				}
			}
			c.Out = append(c.Out, out)
		}
		c.Plan = genPlan(c.Nodes, chaosHorizon, maxFaults).Draw(t, "plan")
		c.Torn = rapid.Bool().Draw(t, "torn")
		return c
	})
}

// run builds the chaos world and runs it to chaosEnd.
func (c chaos) run(trace io.Writer) (*sim.World, *tape, error) {
	w, tp := newWorld(sim.Config{Seed: c.Seed, Network: chaosNet(), TornWrites: c.Torn, Trace: trace})
	for i, id := range c.Nodes {
		addProbe(w, tp, id, chatter(c.Out[i], chaosTick))
	}
	if err := w.Schedule(c.Plan); err != nil {
		return nil, nil, err
	}
	w.Run(sim.Limits{Until: chaosEnd})
	return w, tp, nil
}
