package sim

// Internal test: the connection table is not observable through the public
// API, but a world that leaks connections runs out of memory in a long
// load rehearsal, so its draining is checked here.

import (
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// churner dials its peers, sends a little, and closes on a timer; it
// accepts whatever is dialed to it and closes some of those too, so that
// both ends often close the same connection.
type churner struct {
	BaseNode
	env   *Env
	peers []NodeID
	open  []ConnID
	round int
}

func (c *churner) Start(env *Env) {
	c.env = env
	env.SetTimer(time.Millisecond, nil)
}

func (c *churner) Connected(conn ConnID, _ NodeID) {
	if c.round >= 200 {
		c.env.Close(conn) // done: refuse
		c.forget(conn)
		return
	}
	for _, x := range c.open {
		if x == conn {
			return
		}
	}
	c.open = append(c.open, conn)
}

func (c *churner) Closed(conn ConnID, _ NodeID) { c.forget(conn) }

func (c *churner) forget(conn ConnID) {
	for i, x := range c.open {
		if x == conn {
			c.open = append(c.open[:i], c.open[i+1:]...)
			return
		}
	}
}

func (c *churner) Timer(TimerID, any) {
	c.round++
	r := c.env.Rand()
	if c.round < 200 {
		for _, p := range c.peers {
			if r.IntN(3) == 0 {
				c.open = append(c.open, c.env.Dial(p))
			}
		}
		c.env.SetTimer(time.Duration(1+r.IntN(5))*time.Millisecond, nil)
	}
	for _, conn := range append([]ConnID(nil), c.open...) {
		c.env.Send(conn, c.round)
		if c.round >= 200 || r.IntN(4) == 0 {
			c.env.Close(conn)
			c.forget(conn)
		}
	}
}

// Once every connection is closed or broken and every end that is still
// running has been told, the world holds no connection.
func TestConnectionTableDrains(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		cfg := Config{Seed: rapid.Uint64().Draw(rt, "seed"), Network: NetworkConfig{
			Latency: Latency{Min: time.Millisecond, Max: 5 * time.Millisecond}, KeepAlive: 50 * time.Millisecond,
			ConnectTimeout: 20 * time.Millisecond}}
		w := NewWorld(cfg)
		names := []NodeID{"a", "b", "c"}
		for _, id := range names {
			var peers []NodeID
			for _, p := range names {
				if p != id {
					peers = append(peers, p)
				}
			}
			w.AddNode(id, func() Node { return &churner{peers: peers} })
		}
		var plan []Fault
		for i, n := 0, rapid.IntRange(0, 8).Draw(rt, "faults"); i < n; i++ {
			f := Fault{At: Duration(time.Duration(rapid.IntRange(0, 400).Draw(rt, "at_ms")) * time.Millisecond)}
			switch rapid.IntRange(0, 4).Draw(rt, "kind") {
			case 0:
				f.Op = Crash{Nodes: []NodeID{rapid.SampledFrom(names).Draw(rt, "node")}}
			case 1:
				f.Op = Restart{Nodes: []NodeID{rapid.SampledFrom(names).Draw(rt, "node")}}
			case 2:
				f.Op = Partition{Cuts: Isolate(rapid.SampledFrom(names).Draw(rt, "node"), names)}
			case 3:
				f.Op = Heal{}
			default:
				f.Op = Pause{Nodes: []NodeID{rapid.SampledFrom(names).Draw(rt, "node")}}
			}
			plan = append(plan, f)
		}
		// In the end everything heals and runs, and every node closes what
		// it has (churner closes all at round 200).
		plan = append(plan, Fault{At: Duration(time.Second), Op: Heal{}},
			Fault{At: Duration(time.Second), Op: Resume{Nodes: names}},
			Fault{At: Duration(time.Second), Op: Restart{Nodes: names}})
		require.NoError(rt, w.Schedule(plan))
		w.Run(Limits{})

		var left []ConnID
		for _, c := range w.conns.tab {
			if c != nil {
				left = append(left, c.id)
			}
		}
		require.Empty(rt, left, "connections left in the table")
		require.Zero(rt, w.conns.len())
		// Every queued item went back to the item table's free chain.
		free := 0
		for i := w.items.free; i != 0; i = w.items.v[i-1].next {
			free++
		}
		require.Equal(rt, len(w.items.v), free, "queued items leaked")
		require.Empty(rt, w.stalled)
	})
}

// gossiper sends datagrams to its peers on a timer.
type gossiper struct {
	BaseNode
	env   *Env
	peers []NodeID
}

func (g *gossiper) Start(env *Env) {
	g.env = env
	env.SetTimer(time.Millisecond, nil)
}

func (g *gossiper) Timer(TimerID, any) {
	for _, p := range g.peers {
		g.env.SendDatagram(p, g.env.Rand().Uint64())
	}
	g.env.SetTimer(time.Duration(1+g.env.Rand().IntN(3))*time.Millisecond, nil)
}

// Every payload in the table belongs to an event still queued or held:
// datagrams delivered, dropped by partitions, clogged and re-queued, held
// by a paused node or lost with a crashed one give theirs back.
func TestPayloadsBelongToQueuedEvents(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		w := NewWorld(Config{Seed: rapid.Uint64().Draw(rt, "seed"),
			Network: NetworkConfig{DatagramLossPPM: 100_000, DatagramDupPPM: 100_000}})
		names := []NodeID{"a", "b", "c"}
		for _, id := range names {
			w.AddNode(id, func() Node { return &gossiper{peers: names} })
		}
		var plan []Fault
		for i, n := 0, rapid.IntRange(0, 10).Draw(rt, "faults"); i < n; i++ {
			f := Fault{At: Duration(time.Duration(rapid.IntRange(0, 300).Draw(rt, "at_ms")) * time.Millisecond)}
			node := []NodeID{rapid.SampledFrom(names).Draw(rt, "node")}
			switch rapid.IntRange(0, 5).Draw(rt, "kind") {
			case 0:
				f.Op = Crash{Nodes: node}
			case 1:
				f.Op = Restart{Nodes: node}
			case 2:
				f.Op = Partition{Cuts: Isolate(node[0], names)}
			case 3:
				f.Op = Clog{For: Duration(50 * time.Millisecond)}
			case 4:
				f.Op = Pause{Nodes: node}
			default:
				f.Op = Resume{Nodes: node}
			}
			plan = append(plan, f)
		}
		require.NoError(rt, w.Schedule(plan))
		stop := time.Duration(rapid.IntRange(1, 400).Draw(rt, "stop_ms")) * time.Millisecond
		w.Run(Limits{Until: stop})

		want := 0
		count := func(e *entry) {
			if hasPayload(e.kind()) {
				want++
			}
		}
		w.q.each(count)
		for i := range w.timers.h {
			count(&w.timers.h[i])
		}
		for _, n := range w.nodes {
			if n.rare == nil {
				continue
			}
			for _, e := range n.rare.held {
				if hasPayload(e.kind()) {
					want++
				}
			}
		}
		require.Equal(rt, want, len(w.payloads.v)-len(w.payloads.free), "payloads in the table")
	})
}

// The structures every event touches in a large world are laid out in
// cache lines: a connection's header, each direction and its own link 64
// bytes, the whole in the 320-byte size class; a slot's fields in its first
// line and the first Env in its second, the whole 128 bytes (a size class
// that starts its objects on lines); an Env alone in the 64-byte class. The
// cold part of a slot stays in the 176-byte class: one per node. A queued
// item takes four words.
func TestHotLayouts(t *testing.T) {
	var c conn
	require.Equal(t, uintptr(320), unsafe.Sizeof(c))
	require.Equal(t, uintptr(64), unsafe.Offsetof(c.dir))
	require.Equal(t, uintptr(128), unsafe.Sizeof(c.dir[0]))
	require.Equal(t, uintptr(64), unsafe.Offsetof(c.dir[0].own))
	require.Equal(t, uintptr(64), unsafe.Sizeof(link{}))

	var s slot
	require.Equal(t, uintptr(128), unsafe.Sizeof(s))
	require.LessOrEqual(t, unsafe.Offsetof(s.slotCold)+8, uintptr(64))
	require.Equal(t, uintptr(64), unsafe.Offsetof(s.env0))
	require.LessOrEqual(t, unsafe.Sizeof(slotCold{}), uintptr(176), "the 176-byte size class")
	require.Equal(t, uintptr(64), unsafe.Sizeof(Env{}))
	require.Equal(t, uintptr(32), unsafe.Sizeof(queued{}), "an item of the world's item table")
}

type dialer struct {
	BaseNode
	peers []NodeID
}

func (d *dialer) Start(env *Env) {
	for _, p := range d.peers {
		env.Dial(p)
	}
}

// A change of the network's rules reaches every connection after one it
// forgets, even when forgetting trims the table's front past the next id
// (walking by id - base, that wrapped and ended the walk).
func TestNetworkChangedWalksPastATrimmedFront(t *testing.T) {
	require.Equal(t, trimmedFrontRun(t), trimmedFrontRun(t))
}

func trimmedFrontRun(t *testing.T) uint64 {
	w := NewWorld(Config{Seed: 1})
	w.AddNode("a", func() Node { return &dialer{peers: []NodeID{"b", "b", "b"}} })
	w.AddNode("b", func() Node { return &dialer{} })
	w.Run(Limits{Until: 50 * time.Millisecond})
	base := w.conns.base
	c1, c2, c3 := w.conns.get(base), w.conns.get(base+1), w.conns.get(base+2)
	require.True(t, c1.opened && c2.opened && c3.opened)
	c2.broken, c2.told = true, [2]bool{true, true}
	w.conns.forget(c2)
	c1.broken, c1.told = true, [2]bool{true, true} // forgettable, not yet forgotten
	require.NoError(t, w.Inject(Partition{Cuts: []Cut{{From: []NodeID{"a"}, To: []NodeID{"b"}}}}))
	require.Nil(t, w.conns.get(base))
	require.True(t, c3.blocked, "c3 crosses the partition: its keepalive clock starts")
	w.Run(Limits{Until: time.Second}) // the cut connections close on their keepalive
	return w.Fingerprint()
}
