package sim_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/sim"
)

// cutBy reports whether any cut blocks from -> to (an empty list of cuts
// means every link, as for clog and loss faults).
func cutBy(cuts []sim.Cut, from, to sim.NodeID, emptyIsAll bool) bool {
	if len(cuts) == 0 {
		return emptyIsAll
	}
	for _, c := range cuts {
		if slices.Contains(c.From, from) && slices.Contains(c.To, to) {
			return true
		}
	}
	return false
}

// blockedAt reports whether the plan (sorted by time, applied in order)
// keeps anything from crossing from -> to at virtual time t: a partition
// cut, or a clog that has not run out. Faults scheduled before Run apply
// before any delivery at the same instant (they were queued first), so a
// fault at t counts at t.
func blockedAt(plan []sim.Fault, from, to sim.NodeID, t time.Duration) bool {
	var cuts []sim.Cut
	type clog struct {
		cuts  []sim.Cut
		until time.Duration
	}
	var clogs []clog
	for _, f := range plan {
		if time.Duration(f.At) > t {
			break
		}
		switch op := f.Op.(type) {
		case sim.Partition:
			cuts = append(cuts, op.Cuts...)
		case sim.Heal:
			cuts, clogs = nil, nil
		case sim.Clog:
			clogs = append(clogs, clog{op.Cuts, time.Duration(f.At + op.For)})
		}
	}
	if cutBy(cuts, from, to, false) {
		return true
	}
	for _, c := range clogs {
		if c.until > t && cutBy(c.cuts, from, to, true) {
			return true
		}
	}
	return false
}

// checkNetwork checks the network's safety properties over a recorded run:
//   - every callback reached a running, unpaused node;
//   - each connection end belongs to one incarnation, hears Connected at
//     most once and before any message, and hears nothing after Closed;
//   - FIFO: on every connection, each end receives exactly a prefix of what
//     the other end sent, in order, without gaps or duplicates;
//   - nothing (message, datagram, connection set-up) crosses a partition or
//     a clog.
func checkNetwork(t require.TestingT, plan []sim.Fault, tp *tape) {
	type key struct {
		node sim.NodeID
		conn sim.ConnID
	}
	type end struct {
		inc               uint32
		connected, closed bool
		peer              sim.NodeID
		got               []int
	}
	ends := map[key]*end{}
	var order []key // first-seen order, so that failures read in time order
	sent := map[key][]int{}
	for _, e := range tp.entries {
		require.True(t, e.Live, "callback to a node that is down or paused: %s", e)
		switch e.Kind {
		case "connected", "message", "closed", "sent":
		default:
			if e.Kind == "datagram" {
				require.False(t, blockedAt(plan, e.Peer, e.Node, e.At), "datagram crossed a partition or clog: %s", e)
			}
			continue
		}
		k := key{e.Node, e.Conn}
		st := ends[k]
		if st == nil {
			st = &end{inc: e.Inc}
			ends[k] = st
			order = append(order, k)
		}
		require.Equal(t, st.inc, e.Inc, "a connection end outlived its incarnation: %s", e)
		require.False(t, st.closed, "event on a connection after Closed: %s", e)
		switch e.Kind {
		case "connected":
			require.False(t, st.connected, "Connected twice: %s", e)
			require.False(t, blockedAt(plan, e.Peer, e.Node, e.At), "connection set-up crossed a partition or clog: %s", e)
			st.connected, st.peer = true, e.Peer
		case "message":
			require.True(t, st.connected, "message before Connected: %s", e)
			require.False(t, blockedAt(plan, e.Peer, e.Node, e.At), "message crossed a partition or clog: %s", e)
			st.got = append(st.got, e.Msg.(int))
		case "closed":
			st.closed = true
		case "sent":
			sent[k] = append(sent[k], e.Msg.(int))
		}
	}
	for _, k := range order {
		st := ends[k]
		if len(st.got) == 0 {
			continue
		}
		require.Equal(t, upTo(len(st.got)), st.got, "%s on conn %d did not receive an in-order prefix", k.node, k.conn)
		require.LessOrEqual(t, len(st.got), len(sent[key{st.peer, k.conn}]), "%s on conn %d received more than %s sent", k.node, k.conn, st.peer)
	}
}

// Random topologies and random fault plans (every kind): the network's
// safety properties hold whatever happens.
func TestNetworkSafetyUnderChaos(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		c := genChaos(4, 10).Draw(rt, "chaos")
		w, tp, err := c.run(nil)
		require.NoError(rt, err)
		checkNetwork(rt, c.Plan, tp)
		for _, f := range w.Findings() {
			require.Equal(rt, "panic", f.Kind, "%s", f)
			require.Contains(rt, f.Value, fpPanic, "%s", f)
		}
	})
}

// Without faults, the chaos workload delivers everything sent on every
// connection, in order (the check above is not vacuous).
func TestNetworkDeliversEverythingWithoutFaults(t *testing.T) {
	c := chaos{Seed: 7, Nodes: ids("a", "b", "c"), Out: [][]sim.NodeID{ids("b", "c"), ids("c"), nil}}
	w, tp, err := c.run(nil)
	require.NoError(t, err)
	checkNetwork(t, nil, tp)
	require.Empty(t, tp.filter(entry{Kind: "closed"}))
	for _, e := range tp.filter(entry{Kind: "connected"}) {
		got := seqs(tp.filter(entry{Node: e.Node, Kind: "message", Conn: e.Conn}))
		sent := seqs(tp.filter(entry{Node: e.Peer, Kind: "sent", Conn: e.Conn}))
		// What was sent in the last few milliseconds is still on the wire.
		require.Greater(t, len(got), len(sent)-5, "%s on %d", e.Node, e.Conn)
		require.Equal(t, sent[:len(got)], got)
	}
	var sent, received uint64
	for _, id := range w.NodeIDs() {
		sent += w.Stats(id).Sent
		received += w.Stats(id).Received
	}
	assert.Equal(t, uint64(len(tp.filter(entry{Kind: "sent"}))), sent)
	assert.Equal(t, uint64(len(tp.filter(entry{Kind: "message"}))), received)
}

func TestConnectionLifecycle(t *testing.T) {
	w, tp := newWorld(sim.Config{Seed: 11, Network: quietNet(), Clock: perfectClock})
	var c sim.ConnID
	addProbe(w, tp, "a", &hooks{start: func(p *probe) {
		c = p.dial("b")
		for i := 0; i < 3; i++ {
			require.True(t, p.send(c), "messages may be sent before Connected")
		}
	}})
	// b echoes every 10ms on what it accepted.
	addProbe(w, tp, "b", &hooks{
		start: func(p *probe) { p.env.SetTimer(ms(10), nil) },
		connected: func(p *probe, c sim.ConnID, _ sim.NodeID) {
			p.open = append(p.open, c)
		},
		closed: func(p *probe, c sim.ConnID, peer sim.NodeID) {
			p.drop(c, peer)
			assert.False(t, p.env.Send(c, 99), "Send on a connection known closed")
		},
		timer: func(p *probe, _ sim.TimerID, _ any) {
			for _, c := range p.open {
				p.send(c)
			}
			p.env.SetTimer(ms(10), nil)
		},
	})
	closeAt := ms(100)
	w.At(closeAt, func() {
		a := w.Node("a").(*probe)
		require.True(t, a.send(c))
		require.True(t, a.send(c))
		a.env.Close(c)
		assert.False(t, a.env.Send(c, 99), "Send after Close")
		a.env.Close(c) // closing twice is harmless
	})
	w.Run(sim.Limits{Until: time.Second})

	bConn := tp.filter(entry{Node: "b", Kind: "connected"})
	aConn := tp.filter(entry{Node: "a", Kind: "connected"})
	require.Len(t, bConn, 1)
	require.Len(t, aConn, 1)
	assert.Equal(t, c, bConn[0].Conn, "both ends name the connection alike")
	assert.Equal(t, sim.NodeID("a"), bConn[0].Peer)
	assert.Equal(t, sim.NodeID("b"), aConn[0].Peer)
	assert.Less(t, bConn[0].At, aConn[0].At, "the acceptor hears first, the dialer when the answer is back")

	// b received everything a sent, then Closed.
	assert.Equal(t, upTo(5), seqs(tp.filter(entry{Node: "b", Kind: "message"})))
	bClosed := tp.filter(entry{Node: "b", Kind: "closed"})
	require.Len(t, bClosed, 1)
	bEvents := tp.filter(entry{Node: "b", Conn: c})
	assert.Equal(t, "closed", bEvents[len(bEvents)-1].Kind, "Closed comes after everything a sent")
	assert.GreaterOrEqual(t, bClosed[0].At, closeAt)

	// a got b's echoes up to its Close and nothing after; no Closed for
	// the end that closed.
	aMsgs := tp.filter(entry{Node: "a", Kind: "message"})
	require.NotEmpty(t, aMsgs)
	for _, e := range aMsgs {
		assert.Less(t, e.At, closeAt, "delivered to a after it closed: %s", e)
	}
	assert.Equal(t, upTo(len(aMsgs)), seqs(aMsgs))
	assert.Empty(t, tp.filter(entry{Node: "a", Kind: "closed"}))
	assert.Greater(t, len(tp.filter(entry{Node: "b", Kind: "sent"})), len(aMsgs), "b sent more than a read before closing")
}

func TestDialFailures(t *testing.T) {
	net := quietNet()
	w, tp := newWorld(sim.Config{Seed: 12, Network: net, Clock: perfectClock})
	addProbe(w, tp, "a", &hooks{
		start: func(p *probe) {
			c := p.dial("ghost")
			assert.NotZero(t, c)
			assert.True(t, p.env.Send(c, 0), "Send before the dial fails is accepted (and lost)")
			p.env.SetTimer(ms(10), "dial b")
			p.env.SetTimer(ms(2000), "dial c")
		},
		timer: func(p *probe, _ sim.TimerID, tag any) {
			switch tag {
			case "dial b":
				p.dial("b")
			case "dial c":
				p.dial("c")
			}
		},
		closed: func(p *probe, c sim.ConnID, _ sim.NodeID) {
			assert.False(t, p.env.Send(c, 0))
		},
	})
	addProbe(w, tp, "b", &hooks{})
	addProbe(w, tp, "c", &hooks{})
	require.NoError(t, w.Schedule([]sim.Fault{
		{At: 0, Op: sim.Crash{Nodes: ids("b")}},
		{At: at(ms(1999)), Op: sim.Partition{Cuts: sim.Isolate("c", ids("a", "b", "c"))}},
	}))
	w.Run(sim.Limits{Until: 5 * time.Second})

	closed := tp.filter(entry{Node: "a", Kind: "closed"})
	require.Len(t, closed, 3)
	assert.Empty(t, tp.filter(entry{Kind: "connected"}))
	assert.Equal(t, []time.Duration{net.ConnectTimeout, ms(10) + net.ConnectTimeout, ms(2000) + net.ConnectTimeout},
		[]time.Duration{closed[0].At, closed[1].At, closed[2].At}, "a dial to a missing, down or cut-off node fails at the connect timeout")
	assert.Equal(t, []sim.NodeID{"ghost", "b", "c"}, []sim.NodeID{closed[0].Peer, closed[1].Peer, closed[2].Peer})
	assert.Empty(t, tp.filter(entry{Node: "c", Kind: "connected"}), "nothing crossed to c")
}

// twoWay builds a and b, a dialing b, both sending their next sequence
// number every 5ms on the connection and a datagram, until stopAt.
func twoWay(seed uint64, net sim.NetworkConfig, stopAt time.Duration) (*sim.World, *tape) {
	w, tp := newWorld(sim.Config{Seed: seed, Network: net, Clock: perfectClock})
	tick := func(p *probe, _ sim.TimerID, _ any) {
		if p.tp.w.Now() >= stopAt {
			return
		}
		for _, c := range p.open {
			p.send(c)
		}
		p.env.SendDatagram(other(p.env.ID()), p.round)
		p.round++
		p.env.SetTimer(ms(5), nil)
	}
	h := func(dialer bool) *hooks {
		return &hooks{
			start: func(p *probe) {
				if dialer {
					p.dial("b")
				}
				p.env.SetTimer(ms(5), nil)
			},
			connected: func(p *probe, c sim.ConnID, _ sim.NodeID) {
				if !dialer {
					p.open = append(p.open, c)
				}
			},
			closed: func(p *probe, c sim.ConnID, peer sim.NodeID) { p.drop(c, peer) },
			timer:  tick,
		}
	}
	addProbe(w, tp, "a", h(true))
	addProbe(w, tp, "b", h(false))
	return w, tp
}

func other(id sim.NodeID) sim.NodeID {
	if id == "a" {
		return "b"
	}
	return "a"
}

// genCutShape draws a partition between a and b: both ways, or one way.
func genCutShape(t *rapid.T) (cuts []sim.Cut, aToB, bToA bool) {
	switch rapid.IntRange(0, 2).Draw(t, "shape") {
	case 0:
		return sim.Split(ids("a"), ids("b")), true, true
	case 1:
		return sim.OneWay(ids("a"), ids("b")), true, false
	default:
		return sim.OneWay(ids("b"), ids("a")), false, true
	}
}

// A partition shorter than the keepalive delays traffic but loses nothing
// on the connection; the direction it does not cut keeps flowing.
func TestShortPartitionDelaysButLosesNothing(t *testing.T) {
	net := quietNet()
	rapid.Check(t, func(rt *rapid.T) {
		seed := rapid.Uint64().Draw(rt, "seed")
		start := ms(rapid.IntRange(50, 300).Draw(rt, "start_ms"))
		length := time.Duration(rapid.Int64Range(int64(ms(10)), int64(net.KeepAlive)-1).Draw(rt, "length"))
		cuts, aToB, bToA := genCutShape(rt)
		stop := start + length + ms(100)
		w, tp := twoWay(seed, net, stop)
		require.NoError(rt, w.Schedule([]sim.Fault{
			{At: at(start), Op: sim.Partition{Cuts: cuts}},
			{At: at(start + length), Op: sim.Heal{}},
		}))
		w.Run(sim.Limits{Until: stop + time.Second})

		require.Empty(rt, tp.filter(entry{Kind: "closed"}), "a partition shorter than the keepalive broke the connection")
		for _, dst := range ids("a", "b") {
			src := other(dst)
			cut := (dst == "b" && aToB) || (dst == "a" && bToA)
			msgs := tp.filter(entry{Node: dst, Kind: "message"})
			require.Equal(rt, seqs(tp.filter(entry{Node: src, Kind: "sent"})), seqs(msgs), "%s lost or reordered messages", dst)
			during := 0
			for _, e := range msgs {
				if e.At >= start && e.At < start+length {
					during++
				}
			}
			if cut {
				require.Zero(rt, during, "a message crossed the cut %s->%s", src, dst)
			} else if length > ms(20) {
				require.NotZero(rt, during, "the uncut direction %s->%s stopped", src, dst)
			}
			for _, e := range tp.filter(entry{Node: dst, Kind: "datagram"}) {
				if cut {
					require.False(rt, e.At >= start && e.At < start+length, "a datagram crossed the cut: %s", e)
				}
			}
		}
	})
}

// A partition that outlasts the keepalive breaks the connection: each end
// is told separately, and what each received is a prefix of what the other
// sent (the lost suffix is exactly what was in flight or sent later).
func TestLongPartitionBreaksConnection(t *testing.T) {
	net := quietNet()
	maxLat := net.Latency.Max
	rapid.Check(t, func(rt *rapid.T) {
		seed := rapid.Uint64().Draw(rt, "seed")
		start := ms(rapid.IntRange(50, 300).Draw(rt, "start_ms"))
		length := time.Duration(rapid.Int64Range(int64(2*net.KeepAlive), int64(4*net.KeepAlive)).Draw(rt, "length"))
		cuts, aToB, bToA := genCutShape(rt)
		w, tp := twoWay(seed, net, start+length+time.Second)
		require.NoError(rt, w.Schedule([]sim.Fault{
			{At: at(start), Op: sim.Partition{Cuts: cuts}},
			{At: at(start + length), Op: sim.Heal{}},
		}))
		w.Run(sim.Limits{Until: start + length + 2*time.Second})

		for _, n := range ids("a", "b") {
			closed := tp.filter(entry{Node: n, Kind: "closed"})
			require.Len(rt, closed, 1, "%s must be told once that its connection broke", n)
			require.GreaterOrEqual(rt, closed[0].At, start+net.KeepAlive, "%s told before the keepalive ran out", n)
			require.Less(rt, closed[0].At, start+length, "%s told only after the heal", n)

			src := other(n)
			sent := seqs(tp.filter(entry{Node: src, Kind: "sent"}))
			got := seqs(tp.filter(entry{Node: n, Kind: "message"}))
			require.Equal(rt, sent[:len(got)], got, "%s: delivered is not a prefix of sent", n)
			if (n == "b" && aToB) || (n == "a" && bToA) {
				require.NotEmpty(rt, sent[len(got):], "%s kept sending into the cut, so something was lost", src)
			}
			srcClosed := tp.filter(entry{Node: src, Kind: "closed"})[0].At
			for _, e := range tp.filter(entry{Node: src, Kind: "sent"}) {
				// Whatever was sent well before the partition arrived
				// (got is 0, 1, ..., len(got)-1).
				if e.At+maxLat < start {
					require.Less(rt, e.Msg.(int), len(got), "sent before the partition and lost: %s", e)
				}
				// The sender cannot send once told.
				require.LessOrEqual(rt, e.At, srcClosed)
			}
		}
	})
}

// An asymmetric partition blocks one direction only: datagrams keep
// flowing the other way for as long as it lasts.
func TestOneWayPartitionBlocksOneDirection(t *testing.T) {
	net := quietNet()
	start, length := ms(100), 5*net.KeepAlive
	w, tp := twoWay(21, net, start+length+ms(500))
	require.NoError(t, w.Schedule([]sim.Fault{
		{At: at(start), Op: sim.Partition{Cuts: sim.OneWay(ids("a"), ids("b"))}},
		{At: at(start + length), Op: sim.Heal{}},
	}))
	w.Run(sim.Limits{Until: start + length + time.Second})

	in := func(e entry) bool { return e.At >= start && e.At < start+length }
	var aGot, bGot int
	for _, e := range tp.filter(entry{Node: "a", Kind: "datagram"}) {
		if in(e) {
			aGot++
		}
	}
	for _, e := range tp.filter(entry{Node: "b", Kind: "datagram"}) {
		require.False(t, in(e), "a datagram crossed a -/-> b: %s", e)
		if e.At >= start+length {
			bGot++
		}
	}
	// b sends every 5ms for the whole partition.
	assert.Greater(t, aGot, int(length/ms(5))*9/10, "b -> a should flow during a -/-> b")
	assert.NotZero(t, bGot, "a -> b flows again after the heal")
	// a connection needs both directions: it broke (keepalive) after
	// carrying b -> a messages during the partition.
	bToADuring := 0
	for _, e := range tp.filter(entry{Node: "a", Kind: "message"}) {
		if in(e) {
			bToADuring++
		}
	}
	assert.NotZero(t, bToADuring)
	assert.Len(t, tp.filter(entry{Kind: "closed"}), 2)
}

// A connection opened while an asymmetric partition is in place (the dial
// gets through, the answer does not) is held to the same keepalive as any
// other: it breaks, and both ends are told, long before the heal.
func TestConnectionOpenedAcrossOneWayPartitionBreaks(t *testing.T) {
	net := quietNet()
	dialAt, healAt := ms(100), ms(100)+20*net.KeepAlive
	w, tp := newWorld(sim.Config{Seed: 5, Network: net, Clock: perfectClock})
	addProbe(w, tp, "a", &hooks{
		connected: func(p *probe, c sim.ConnID, _ sim.NodeID) {
			p.open = append(p.open, c)
			p.send(c)
		},
	})
	addProbe(w, tp, "b", &hooks{
		start: func(p *probe) { p.env.SetTimer(dialAt, nil) },
		timer: func(p *probe, _ sim.TimerID, _ any) { p.dial("a") },
	})
	require.NoError(t, w.Schedule([]sim.Fault{
		{At: 0, Op: sim.Partition{Cuts: sim.OneWay(ids("a"), ids("b"))}},
		{At: at(healAt), Op: sim.Heal{}},
	}))
	w.Run(sim.Limits{Until: healAt + time.Second})

	require.Len(t, tp.filter(entry{Node: "a", Kind: "connected"}), 1, "the dial b -> a crosses")
	assert.Empty(t, tp.filter(entry{Node: "b", Kind: "connected"}), "the answer a -> b is cut")
	assert.Empty(t, tp.filter(entry{Node: "b", Kind: "message"}))
	for _, n := range ids("a", "b") {
		closed := tp.filter(entry{Node: n, Kind: "closed"})
		require.Len(t, closed, 1, "%s never learned that its connection is dead", n)
		assert.Less(t, closed[0].At, dialAt+2*net.KeepAlive, "%s", n)
	}
}

// A crashed peer's connections are reported Closed to the survivor within
// the keepalive timeout, whichever end crashed.
func TestCrashedPeerReportedWithinKeepAlive(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		net := quietNet()
		net.KeepAlive = time.Duration(rapid.Int64Range(int64(10*time.Millisecond), int64(10*time.Second)).Draw(rt, "keepalive"))
		seed := rapid.Uint64().Draw(rt, "seed")
		crashAt := ms(rapid.IntRange(50, 500).Draw(rt, "crash_ms"))
		victim := rapid.SampledFrom(ids("a", "b")).Draw(rt, "victim")
		restart := rapid.Bool().Draw(rt, "restart")
		w, tp := twoWay(seed, net, crashAt+net.KeepAlive+time.Second)
		var op sim.FaultOp = sim.Crash{Nodes: []sim.NodeID{victim}}
		if restart {
			op = sim.Restart{Nodes: []sim.NodeID{victim}}
		}
		require.NoError(rt, w.Schedule([]sim.Fault{{At: at(crashAt), Op: op}}))
		w.Run(sim.Limits{Until: crashAt + 2*net.KeepAlive + time.Second})

		survivor := other(victim)
		closed := tp.filter(entry{Node: survivor, Kind: "closed"})
		require.Len(rt, closed, 1)
		require.GreaterOrEqual(rt, closed[0].At, crashAt+net.Latency.Min)
		require.LessOrEqual(rt, closed[0].At, crashAt+net.KeepAlive)
		// The dead incarnation is never told anything.
		for _, e := range tp.filter(entry{Node: victim, Inc: 1}) {
			require.Less(rt, e.At, crashAt+time.Nanosecond, "%s", e)
		}
		// Nothing on the old incarnation's connections reaches the new one.
		for _, c := range connsOf(tp.filter(entry{Node: victim, Inc: 1})) {
			for _, e := range tp.filter(entry{Node: victim, Conn: c}) {
				require.Equal(rt, uint32(1), e.Inc, "%s", e)
			}
		}
	})
}

func TestDatagramLossAndDuplication(t *testing.T) {
	net := quietNet()
	run := func(plan []sim.Fault) (*sim.World, *tape) {
		w, tp := newWorld(sim.Config{Seed: 31, Network: net, Clock: perfectClock})
		addProbe(w, tp, "a", &hooks{
			start: func(p *probe) { p.env.SetTimer(ms(1), nil) },
			timer: func(p *probe, _ sim.TimerID, _ any) {
				if p.round < 1000 {
					p.env.SendDatagram("b", p.round)
					p.env.SendDatagram("ghost", p.round) // nobody there: lost, no harm
					p.round++
					p.env.SetTimer(100*time.Microsecond, nil)
				}
			},
		})
		addProbe(w, tp, "b", &hooks{})
		require.NoError(t, w.Schedule(plan))
		w.Run(sim.Limits{Until: time.Second})
		return w, tp
	}

	w, tp := run(nil)
	got := seqs(tp.filter(entry{Node: "b", Kind: "datagram"}))
	require.Len(t, got, 1000, "no baseline loss configured")
	assert.False(t, slices.IsSorted(got), "datagrams 100µs apart with 1-5ms latency arrive reordered")
	sorted := slices.Clone(got)
	slices.Sort(sorted)
	assert.Equal(t, upTo(1000), sorted)
	assert.Equal(t, uint64(2000), w.Stats("a").DatagramsSent)
	assert.Equal(t, uint64(1000), w.Stats("b").DatagramsReceived)

	_, tp = run([]sim.Fault{{At: 0, Op: sim.Loss{LossPPM: 1_000_000}}})
	assert.Empty(t, tp.filter(entry{Node: "b", Kind: "datagram"}), "loss 100% drops everything")

	_, tp = run([]sim.Fault{{At: 0, Op: sim.Loss{DupPPM: 1_000_000}}})
	got = seqs(tp.filter(entry{Node: "b", Kind: "datagram"}))
	slices.Sort(got)
	want := make([]int, 0, 2000)
	for i := 0; i < 1000; i++ {
		want = append(want, i, i)
	}
	assert.Equal(t, want, got, "duplication 100% delivers each datagram twice")

	// A timed loss fault ends by itself; only that link is affected.
	_, tp = run([]sim.Fault{{At: 0, Op: sim.Loss{LossPPM: 1_000_000, For: at(ms(50)), Cuts: sim.OneWay(ids("a"), ids("b"))}}})
	for _, e := range tp.filter(entry{Node: "b", Kind: "datagram"}) {
		assert.GreaterOrEqual(t, e.At, ms(50))
	}
	assert.NotEmpty(t, tp.filter(entry{Node: "b", Kind: "datagram"}))

	// A down node receives nothing; what was sent to it is lost.
	w, tp = run([]sim.Fault{{At: at(ms(20)), Op: sim.Crash{Nodes: ids("b")}}})
	for _, e := range tp.filter(entry{Node: "b", Kind: "datagram"}) {
		assert.Less(t, e.At, ms(20))
	}
	assert.NotZero(t, w.Stats("b").DatagramsLost)
}

// Packet loss on a connection delays messages by retransmissions but loses
// and reorders nothing.
func TestConnectionReliableUnderPacketLoss(t *testing.T) {
	net := quietNet()
	stop := ms(300)
	w, tp := twoWay(41, net, stop)
	require.NoError(t, w.Schedule([]sim.Fault{{At: 0, Op: sim.Loss{LossPPM: 300_000}}}))
	w.Run(sim.Limits{Until: stop + 100*net.RTO})
	assert.Empty(t, tp.filter(entry{Kind: "closed"}))
	slow := 0
	for _, n := range ids("a", "b") {
		sent := tp.filter(entry{Node: other(n), Kind: "sent"})
		got := tp.filter(entry{Node: n, Kind: "message"})
		require.Equal(t, seqs(sent), seqs(got))
		for i := range got {
			if got[i].At-sent[i].At >= net.RTO {
				slow++
			}
		}
	}
	assert.NotZero(t, slow, "lost packets are retransmitted after an RTO")
}

// A clog delays a link for a while; the connection delivers everything, in
// order, once it clears, and does not break.
func TestClogDelaysInOrder(t *testing.T) {
	net := quietNet()
	start, length := ms(100), net.KeepAlive/2
	w, tp := twoWay(51, net, start+length+ms(100))
	require.NoError(t, w.Schedule([]sim.Fault{
		{At: at(start), Op: sim.Clog{For: at(length), Cuts: sim.OneWay(ids("a"), ids("b"))}},
	}))
	w.Run(sim.Limits{Until: start + length + time.Second})
	assert.Empty(t, tp.filter(entry{Kind: "closed"}))
	got := tp.filter(entry{Node: "b", Kind: "message"})
	require.Equal(t, seqs(tp.filter(entry{Node: "a", Kind: "sent"})), seqs(got))
	atEnd := 0
	for _, e := range got {
		require.False(t, e.At >= start && e.At < start+length, "delivered through the clog: %s", e)
		if e.At == start+length {
			atEnd++
		}
	}
	assert.Greater(t, atEnd, 1, "what waited is delivered when the clog clears")
	for _, e := range tp.filter(entry{Node: "b", Kind: "datagram"}) {
		require.False(t, e.At >= start && e.At < start+length, "datagram delivered through the clog: %s", e)
	}
	during := 0
	for _, e := range tp.filter(entry{Node: "a", Kind: "message"}) {
		if e.At >= start && e.At < start+length {
			during++
		}
	}
	assert.NotZero(t, during, "the other direction is not clogged")
}

// A heal lifts a clog's rule but does not release what it holds: that is
// delivered at the clog's end, so the clog's period runs to its end too.
func TestHealDoesNotReleaseAClog(t *testing.T) {
	net := quietNet()
	start, length, heal := ms(100), net.KeepAlive/2, ms(200)
	run := func() (*sim.World, *tape) {
		w, tp := twoWay(52, net, start+length+ms(100))
		require.NoError(t, w.Schedule([]sim.Fault{
			{At: at(start), Op: sim.Clog{For: at(length), Cuts: sim.OneWay(ids("a"), ids("b"))}},
			{At: at(heal), Op: sim.Heal{}},
		}))
		w.Run(sim.Limits{Until: start + length + time.Second})
		return w, tp
	}
	w, tp := run()
	again, _ := run()
	require.Equal(t, w.Fingerprint(), again.Fingerprint())
	atEnd := 0
	for _, e := range tp.filter(entry{Node: "b", Kind: "message"}) {
		require.False(t, e.At >= start && e.At < start+length, "delivered before the clog's end: %s", e)
		if e.At == start+length {
			atEnd++
		}
	}
	assert.Greater(t, atEnd, 1, "what the clog held is delivered at its end")
	for _, p := range sim.Periods(w.Faults(), w.NodeIDs(), w.Now()) {
		if p.Kind == sim.PeriodClogged {
			assert.Equal(t, start+length, p.End, "the clog's period runs to its end: %v", p)
		}
	}
}

// Each end of a connection broken by a partition runs its own keepalive,
// so the two ends learn at different times.
func TestBrokenConnectionEndsToldSeparately(t *testing.T) {
	net := quietNet()
	differ := 0
	for seed := uint64(1); seed <= 10; seed++ {
		w, tp := twoWay(seed, net, 5*net.KeepAlive)
		require.NoError(t, w.Schedule([]sim.Fault{{At: at(ms(100)), Op: sim.Partition{Cuts: sim.Split(ids("a"), ids("b"))}}}))
		w.Run(sim.Limits{Until: 5 * net.KeepAlive})
		a, b := tp.filter(entry{Node: "a", Kind: "closed"}), tp.filter(entry{Node: "b", Kind: "closed"})
		require.Len(t, a, 1)
		require.Len(t, b, 1)
		if a[0].At != b[0].At {
			differ++
		}
	}
	assert.Greater(t, differ, 5)
}
