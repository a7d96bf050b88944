package simbench

import (
	"math/bits"
	"math/rand/v2"

	"github.com/sofasim/sofasim/sim"
)

// Reference is the bare simulator the kernel is measured against: a typed
// binary heap of value events ordered by (time, seq), the four words the
// kernel hashes for a message delivery (time, node, connection, the
// message's digest) folded with the fingerprint's step (sim.Mix),
// latencies drawn from per-link PCG streams exactly as the kernel's default
// network draws them, and no interfaces, pointers or allocation.
// It runs the same workloads (ping-pong, a ring of tokens, idle timers), so
// kernel/reference is what the kernel's features cost per event.
type Reference struct {
	q      []refEvent
	seq    uint64
	now    int64
	hash   uint64
	events uint64
	links  []refLink
	out    []int32 // the link node i forwards on
	lat    sim.Latency
}

// refEvent is a delivery to a node over a link, or an idle timer (link -1).
type refEvent struct {
	at   int64
	seq  uint64
	node int32
	link int32
}

type refLink struct {
	rng  rand.PCG
	last int64 // FIFO: no delivery before the previous one
	to   int32
}

func newReference(seed uint64, ids []sim.NodeID, tokens int) *Reference {
	n := len(ids)
	r := &Reference{links: make([]refLink, n), out: make([]int32, n)}
	r.lat = sim.DefaultNetwork().Latency
	for i := range ids {
		j := (i + 1) % n
		s1, s2 := sim.StreamSeed(seed, "net/"+string(ids[i])+"->"+string(ids[j]))
		r.links[i] = refLink{rng: *rand.NewPCG(s1, s2), to: int32(j)}
		r.out[i] = int32(i)
	}
	for i := 0; i < tokens; i++ {
		r.send(int32(i))
	}
	return r
}

// RefPingPong is PingPong's reference: one message bouncing between two nodes.
func RefPingPong(seed uint64) *Reference {
	return newReference(seed, []sim.NodeID{"ping", "pong"}, 1)
}

// RefRing is Ring's reference: one token in flight per node.
func RefRing(seed uint64, nodes int) *Reference {
	return newReference(seed, ringIDs(nodes), nodes)
}

// RefIdleTimers is IdleTimers' reference: ping-pong with timers idle far in
// the future sitting in the same heap.
func RefIdleTimers(seed uint64, timers int) *Reference {
	r := RefPingPong(seed)
	for i := 0; i < timers; i++ {
		r.push(refEvent{at: int64(idleTimerAt) + int64(i)*int64(idleTimerStep), node: 0, link: -1})
	}
	return r
}

// Run processes events.
func (r *Reference) Run(events uint64) {
	for i := uint64(0); i < events && len(r.q) > 0; i++ {
		ev := r.pop()
		r.now = ev.at
		r.events++
		h := sim.Mix(r.hash, uint64(ev.at))
		h = sim.Mix(h, uint64(ev.node))
		h = sim.Mix(h, uint64(ev.link))
		r.hash = sim.Mix(h, r.events)
		if ev.link >= 0 {
			r.send(r.out[ev.node])
		}
	}
}

// Events counts the events processed; Hash is the running hash.
func (r *Reference) Events() uint64 { return r.events }
func (r *Reference) Hash() uint64   { return r.hash }

func (r *Reference) send(li int32) {
	l := &r.links[li]
	at := max(r.now+r.draw(&l.rng), l.last)
	l.last = at
	r.push(refEvent{at: at, node: l.to, link: li})
}

// draw is sim.Latency's draw on a concrete PCG: a tail chance, then a
// uniform delay, with math/rand/v2's bounded-integer algorithm.
func (r *Reference) draw(g *rand.PCG) int64 {
	lo, hi := int64(r.lat.Min), int64(r.lat.Max)
	if r.lat.TailPPM > 0 && r.lat.TailMax > r.lat.Max && int64(uint64n(g, 1_000_000)) < r.lat.TailPPM {
		lo, hi = hi, int64(r.lat.TailMax)
	}
	if hi <= lo {
		return lo
	}
	return lo + int64(uint64n(g, uint64(hi-lo+1)))
}

func uint64n(g *rand.PCG, n uint64) uint64 {
	if n&(n-1) == 0 {
		return g.Uint64() & (n - 1)
	}
	hi, lo := bits.Mul64(g.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(g.Uint64(), n)
		}
	}
	return hi
}

func (a *refEvent) less(b *refEvent) bool {
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

func (r *Reference) push(e refEvent) {
	r.seq++
	e.seq = r.seq
	r.q = append(r.q, e)
	q := r.q
	for i := len(q) - 1; i > 0; {
		p := (i - 1) / 2
		if !q[i].less(&q[p]) {
			break
		}
		q[i], q[p] = q[p], q[i]
		i = p
	}
}

func (r *Reference) pop() refEvent {
	q := r.q
	top := q[0]
	n := len(q) - 1
	q[0] = q[n]
	q = q[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if l+1 < n && q[l+1].less(&q[l]) {
			m = l + 1
		}
		if !q[m].less(&q[i]) {
			break
		}
		q[i], q[m] = q[m], q[i]
		i = m
	}
	r.q = q
	return top
}
