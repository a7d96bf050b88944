package sim_test

import (
	crand "crypto/rand" //detlint:allow the test checks that the world swaps crypto/rand.Reader for its seeded stream
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// A paused node gets nothing until it resumes, then gets what waited, in
// order; its connections survive a pause longer than the keepalive.
func TestPausedNodeGetsWhatWaitedInOrder(t *testing.T) {
	net := quietNet()
	pauseAt, resumeAt := ms(100), ms(100)+3*net.KeepAlive
	w, tp := newWorld(sim.Config{Seed: 2, Network: net, Clock: perfectClock})
	addProbe(w, tp, "a", &hooks{
		start: func(p *probe) { p.dial("b"); p.env.SetTimer(ms(10), nil) },
		timer: func(p *probe, _ sim.TimerID, _ any) {
			if w.Now() < resumeAt+ms(100) {
				p.send(p.conns["b"])
				p.env.SendDatagram("b", p.round)
				p.round++
				p.env.SetTimer(ms(10), nil)
			}
		},
	})
	addProbe(w, tp, "b", &hooks{
		start: func(p *probe) {
			for _, d := range []time.Duration{ms(50), ms(150), ms(120), resumeAt + ms(50)} {
				p.env.SetTimer(d, d)
			}
		},
	})
	require.NoError(t, w.Schedule([]sim.Fault{
		{At: at(pauseAt), Op: sim.Pause{Nodes: ids("b")}},
		{At: at(pauseAt + ms(1)), Op: sim.Pause{Nodes: ids("b")}}, // pausing twice is one pause
		{At: at(resumeAt), Op: sim.Resume{Nodes: ids("b")}},
		{At: at(resumeAt + ms(1)), Op: sim.Resume{Nodes: ids("b")}}, // resuming a running node: nothing
	}))
	w.Run(sim.Limits{Until: ms(500)})
	assert.True(t, w.Paused("b"))
	assert.True(t, w.Up("b"), "a paused node is up")
	w.Run(sim.Limits{Until: resumeAt + time.Second})
	assert.False(t, w.Paused("b"))
	assert.Equal(t, uint64(1), w.Stats("b").Pauses)

	b := tp.filter(entry{Node: "b"})
	var atResume []entry
	for _, e := range b {
		require.False(t, e.At >= pauseAt && e.At < resumeAt, "paused node got %s", e)
		if e.At == resumeAt {
			atResume = append(atResume, e)
		}
	}
	require.NotEmpty(t, atResume, "what waited is delivered at the resume")
	var timers []any
	for _, e := range atResume {
		if e.Kind == "timer" {
			timers = append(timers, e.Msg)
		}
	}
	assert.Equal(t, []any{ms(120), ms(150)}, timers, "timers that fell due while paused fire at the resume, in deadline order")
	assert.Empty(t, tp.filter(entry{Kind: "closed"}), "a pause does not break connections")
	msgs := tp.filter(entry{Node: "b", Kind: "message"})
	assert.Equal(t, seqs(tp.filter(entry{Node: "a", Kind: "sent"}))[:len(msgs)], seqs(msgs))
	assert.Greater(t, len(msgs), int(resumeAt/ms(10)), "nothing lost")
	dgrams := 0
	for _, e := range atResume {
		if e.Kind == "datagram" {
			dgrams++
		}
	}
	assert.Greater(t, dgrams, 100, "datagrams waited too")
}

// A crash drops what a paused node was waiting for; a restart brings up a
// running (not paused) process.
func TestCrashOfPausedNode(t *testing.T) {
	w, tp := newWorld(sim.Config{Seed: 2, Network: quietNet(), Clock: perfectClock})
	addProbe(w, tp, "n", &hooks{start: func(p *probe) {
		p.env.SetTimer(ms(20), p.env.Incarnation())
	}})
	require.NoError(t, w.Schedule([]sim.Fault{
		{At: at(ms(10)), Op: sim.Pause{Nodes: ids("n")}},
		{At: at(ms(30)), Op: sim.Restart{Nodes: ids("n")}},
		{At: at(ms(40)), Op: sim.Resume{Nodes: ids("n")}},
	}))
	w.Run(sim.Limits{})
	timers := tp.filter(entry{Kind: "timer"})
	require.Len(t, timers, 1)
	assert.Equal(t, uint32(2), timers[0].Msg)
	assert.Equal(t, ms(50), timers[0].At, "the restarted node runs at once")
	assert.False(t, w.Paused("n"))
}

// A panic inside a node becomes a finding with the node, time, seed and
// stack; the node is crashed and the rest of the world goes on.
func TestPanicBecomesFinding(t *testing.T) {
	net := quietNet()
	const seed = 77
	w, tp := newWorld(sim.Config{Seed: seed, Network: net, Clock: perfectClock})
	addProbe(w, tp, "a", &hooks{
		start: func(p *probe) { p.dial("bad"); p.env.SetTimer(ms(10), nil) },
		closed: func(p *probe, c sim.ConnID, peer sim.NodeID) {
			p.drop(c, peer)
		},
		timer: func(p *probe, _ sim.TimerID, _ any) {
			if c, ok := p.conns["bad"]; ok {
				p.send(c)
			}
			p.env.SetTimer(ms(10), nil)
		},
	})
	addProbe(w, tp, "bad", &hooks{
		message: func(p *probe, _ sim.ConnID, _ sim.NodeID, msg any) {
			if msg == 3 {
				var m map[string]int
				m["boom"]++ // a real bug: assignment to a nil map
			}
		},
	})
	out := w.Run(sim.Limits{Until: 2 * time.Second})
	assert.Equal(t, sim.StopUntil, out.Reason, "Run returns normally")

	fs := w.Findings()
	require.Len(t, fs, 1)
	f := fs[0]
	fatal := tp.filter(entry{Node: "bad", Kind: "message"})
	require.Len(t, fatal, 4)
	assert.Equal(t, "panic", f.Kind)
	assert.Equal(t, sim.NodeID("bad"), f.Node)
	assert.Equal(t, fatal[3].At, f.At)
	assert.Equal(t, uint64(seed), f.Seed)
	assert.Contains(t, f.Value, "nil map")
	assert.Contains(t, f.Stack, "sim_test.TestPanicBecomesFinding", "the stack shows the node code that panicked")
	assert.Contains(t, f.String(), "bad")
	assert.Contains(t, f.String(), "77")

	assert.False(t, w.Up("bad"))
	assert.Equal(t, uint64(1), w.Stats("bad").Panics)
	assert.Equal(t, uint64(1), w.Stats("bad").Crashes)
	closed := tp.filter(entry{Node: "a", Kind: "closed"})
	require.Len(t, closed, 1, "the survivor learns its peer died")
	assert.LessOrEqual(t, closed[0].At, f.At+net.KeepAlive)
	last := tp.filter(entry{Node: "a", Kind: "timer"})
	assert.Greater(t, last[len(last)-1].At, ms(1900), "the world went on")

	// The node can be restarted.
	require.NoError(t, w.Inject(sim.Restart{Nodes: ids("bad")}))
	assert.True(t, w.Up("bad"))
	assert.Len(t, tp.filter(entry{Node: "bad", Kind: "start"}), 2)
}

// Panics in Start and in every other callback are caught alike.
func TestPanicInAnyCallback(t *testing.T) {
	for _, where := range []string{"start", "connected", "datagram", "timer", "closed"} {
		w, tp := newWorld(sim.Config{Seed: 1, Network: quietNet()})
		boom := func() { panic("boom in " + where) }
		h := &hooks{}
		switch where {
		case "start":
			h.start = func(*probe) { boom() }
		case "connected":
			h.connected = func(*probe, sim.ConnID, sim.NodeID) { boom() }
		case "datagram":
			h.datagram = func(*probe, sim.NodeID, any) { boom() }
		case "timer":
			h.start = func(p *probe) { p.env.SetTimer(ms(5), nil) }
			h.timer = func(*probe, sim.TimerID, any) { boom() }
		case "closed":
			h.closed = func(*probe, sim.ConnID, sim.NodeID) { boom() }
		}
		addProbe(w, tp, "n", h)
		addProbe(w, tp, "m", &hooks{start: func(p *probe) {
			c := p.dial("n")
			p.env.SendDatagram("n", "hi")
			p.env.SetTimer(ms(50), c)
		}, timer: func(p *probe, _ sim.TimerID, tag any) { p.env.Close(tag.(sim.ConnID)) }})
		w.Run(sim.Limits{Until: time.Second})
		require.Len(t, w.Findings(), 1, where)
		assert.Equal(t, "boom in "+where, w.Findings()[0].Value)
		assert.False(t, w.Up("n"), where)
		assert.True(t, w.Up("m"), where)
	}
}

// Exit ends the process once the current call returns, as a crash does:
// unsynced writes are lost; it is not a finding.
func TestExit(t *testing.T) {
	w, tp := newWorld(sim.Config{Seed: 1, Clock: perfectClock})
	var after []string
	addProbe(w, tp, "n", &hooks{
		start: func(p *probe) {
			if p.env.Incarnation() > 1 {
				return
			}
			require.NoError(t, p.env.Disk().WriteAt("f", 0, []byte("unsynced")))
			p.env.SetTimer(ms(10), "exit")
			p.env.SetTimer(ms(20), "never")
		},
		timer: func(p *probe, _ sim.TimerID, tag any) {
			p.env.Exit("giving up")
			after = append(after, "still running the call")
			p.env.SetTimer(ms(1), "also never") // the process is still alive until the call returns
		},
	})
	w.Run(sim.Limits{Until: ms(100)})
	assert.Equal(t, []string{"still running the call"}, after)
	assert.False(t, w.Up("n"))
	assert.Empty(t, w.Findings())
	assert.Len(t, tp.filter(entry{Kind: "timer"}), 1)
	b, _ := w.Disk("n").ReadFile("f")
	assert.Empty(t, b)
	require.NoError(t, w.Inject(sim.Restart{Nodes: ids("n")}))
	assert.True(t, w.Up("n"))
}

// While a world runs, crypto/rand.Reader is the world's seeded stream, so
// code such as etcd raft that draws from it is deterministic; the process's
// reader is restored when Run returns, also when it returns by a panic.
func TestCryptoRandIsSwappedDuringRun(t *testing.T) {
	saved := crand.Reader
	draw := func(seed uint64, split bool) [][]byte {
		w, tp := newWorld(sim.Config{Seed: seed})
		var got [][]byte
		addProbe(w, tp, "n", &hooks{
			start: func(p *probe) { p.env.SetTimer(ms(1), nil) },
			timer: func(p *probe, _ sim.TimerID, _ any) {
				b := make([]byte, 13)
				_, err := crand.Read(b)
				require.NoError(t, err)
				i, err := crand.Int(crand.Reader, big.NewInt(1_000_000_007))
				require.NoError(t, err)
				got = append(got, append(b, i.Bytes()...))
				if len(got) < 4 {
					p.env.SetTimer(ms(1), nil)
				}
			},
		})
		w.At(0, func() { assert.NotEqual(t, saved, crand.Reader, "the world's reader is installed") })
		if split {
			w.Run(sim.Limits{Until: ms(2)})
			assert.Equal(t, saved, crand.Reader)
		}
		w.Run(sim.Limits{})
		assert.Equal(t, saved, crand.Reader, "restored after Run")
		return got
	}
	a := draw(1, false)
	require.Len(t, a, 4)
	assert.Equal(t, a, draw(1, false), "same seed, same bytes")
	assert.Equal(t, a, draw(1, true), "the world's stream continues across Run calls")
	assert.NotEqual(t, a, draw(2, false), "another seed, other bytes")
	assert.NotEqual(t, a[0], a[1])

	// A panic in a harness callback leaves Run, which still restores the
	// process (and releases it: the next world can run).
	w := sim.NewWorld(sim.Config{Seed: 1})
	w.At(ms(1), func() { panic("harness bug") })
	require.PanicsWithValue(t, "harness bug", func() { w.Run(sim.Limits{}) })
	assert.Equal(t, saved, crand.Reader)
	draw(3, false)
}

// Each consumer draws from its own stream: adding a node does not change
// what the others draw, and streams are stable functions of seed and name.
func TestStreamsAreIndependent(t *testing.T) {
	draws := func(extra bool) map[sim.NodeID][]uint64 {
		w, tp := newWorld(sim.Config{Seed: 9})
		got := map[sim.NodeID][]uint64{}
		names := []sim.NodeID{"a", "b"}
		if extra {
			names = []sim.NodeID{"0-first", "a", "b", "c"}
		}
		for _, id := range names {
			addProbe(w, tp, id, &hooks{start: func(p *probe) {
				for i := 0; i < 5; i++ {
					got[p.env.ID()] = append(got[p.env.ID()], p.env.Rand().Uint64())
				}
			}})
		}
		w.Run(sim.Limits{})
		return got
	}
	base, more := draws(false), draws(true)
	assert.Equal(t, base["a"], more["a"])
	assert.Equal(t, base["b"], more["b"])
	assert.NotEqual(t, base["a"], base["b"])

	w1, w2 := sim.NewWorld(sim.Config{Seed: 4}), sim.NewWorld(sim.Config{Seed: 4})
	assert.Equal(t, w1.Stream("load").Uint64(), w2.Stream("load").Uint64())
	assert.NotEqual(t, w1.Stream("load").Uint64(), w1.Stream("nemesis").Uint64())
	assert.NotEqual(t, sim.NewStream(4, "x").Uint64(), sim.NewStream(5, "x").Uint64())
	s1, s2 := sim.StreamSeed(4, "x")
	t1, t2 := sim.StreamSeed(4, "x")
	assert.Equal(t, [2]uint64{s1, s2}, [2]uint64{t1, t2})

	// Each incarnation has its own stream.
	w, tp := newWorld(sim.Config{Seed: 9})
	var perInc []uint64
	addProbe(w, tp, "a", &hooks{start: func(p *probe) { perInc = append(perInc, p.env.Rand().Uint64()) }})
	require.NoError(t, w.Schedule([]sim.Fault{{At: at(ms(1)), Op: sim.Restart{Nodes: ids("a")}}}))
	w.Run(sim.Limits{})
	require.Len(t, perInc, 2)
	assert.Equal(t, base["a"][0], perInc[0])
	assert.NotEqual(t, perInc[0], perInc[1])
}

func TestRunLimitsAndHarnessCallbacks(t *testing.T) {
	w, tp := newWorld(sim.Config{Seed: 1, Clock: perfectClock})
	addProbe(w, tp, "n", &hooks{
		start: func(p *probe) { p.env.SetTimer(ms(10), nil) },
		timer: func(p *probe, _ sim.TimerID, _ any) {
			if w.Now() < ms(100) {
				p.env.SetTimer(ms(10), nil)
			}
		},
	})
	assert.Equal(t, []sim.NodeID{"n"}, w.NodeIDs())
	assert.Panics(t, func() { w.AddNode("n", nil) }, "a name is used once")

	out := w.Run(sim.Limits{Until: ms(35)})
	assert.Equal(t, sim.StopUntil, out.Reason)
	assert.Equal(t, ms(35), out.Now, "the clock stops at the limit")
	assert.Equal(t, ms(35), w.Now())
	assert.Len(t, tp.filter(entry{Kind: "timer"}), 3)

	out = w.Run(sim.Limits{MaxEvents: 2})
	assert.Equal(t, sim.StopEvents, out.Reason)
	assert.Equal(t, uint64(2), out.Events)
	assert.Equal(t, ms(50), w.Now())

	var calls []time.Duration
	w.At(ms(10), func() { calls = append(calls, w.Now()) }) // in the past: now
	w.After(ms(5), func() { calls = append(calls, w.Now()) })
	w.At(ms(77), func() {
		calls = append(calls, w.Now())
		w.Stop()
	})
	out = w.Run(sim.Limits{})
	assert.Equal(t, sim.StopCalled, out.Reason)
	assert.Equal(t, []time.Duration{ms(50), ms(55), ms(77)}, calls)

	out = w.Run(sim.Limits{})
	assert.Equal(t, sim.StopQuiescent, out.Reason)
	assert.Equal(t, ms(100), w.Now())
	out = w.Run(sim.Limits{Until: time.Second})
	assert.Equal(t, sim.StopQuiescent, out.Reason)
	assert.Equal(t, time.Second, w.Now(), "an idle world's clock still runs to the limit")
	assert.Positive(t, w.Events())
	assert.Equal(t, uint64(1), w.Stats("n").Starts)
	assert.Equal(t, sim.NodeStats{}, w.Stats("ghost"))
	assert.False(t, w.Up("ghost"))
	assert.Nil(t, w.Node("ghost"))
}

// Trace events count in the fingerprint, with their fields.
func TestTraceCountsInFingerprint(t *testing.T) {
	run := func(field any) uint64 {
		w, tp := newWorld(sim.Config{Seed: 1})
		addProbe(w, tp, "n", &hooks{start: func(p *probe) { p.env.Trace("event", field) }})
		w.Run(sim.Limits{})
		return w.Fingerprint()
	}
	fps := map[uint64]bool{}
	for _, f := range []any{5, 2, "x", "y", true, ms(1), sim.NodeID("x2"), nil, []int{1}} {
		fps[run(f)] = true
	}
	assert.Len(t, fps, 9)
	assert.Equal(t, run(1), run(1))
}

func TestNodeTraceInFullTrace(t *testing.T) {
	var buf strings.Builder
	w, tp := newWorld(sim.Config{Seed: 1, Trace: &buf})
	addProbe(w, tp, "n", &hooks{start: func(p *probe) { p.env.Trace("hello", "k", 3) }})
	w.Run(sim.Limits{})
	assert.Contains(t, buf.String(), `"kind":"trace","node":"n","event":"hello","fields":["k","3"]`)
}

// Exit followed by a panic in the same call is one crash; the next
// incarnation is not affected.
func TestExitThenPanic(t *testing.T) {
	w, tp := newWorld(sim.Config{Seed: 1, Clock: perfectClock})
	addProbe(w, tp, "n", &hooks{
		start: func(p *probe) {
			if p.env.Incarnation() == 1 {
				p.env.Exit("cannot go on")
				panic("and then a bug")
			}
			p.env.SetTimer(ms(10), nil)
		},
	})
	require.NoError(t, w.Schedule([]sim.Fault{{At: at(ms(5)), Op: sim.Restart{Nodes: ids("n")}}}))
	w.Run(sim.Limits{})
	assert.Len(t, w.Findings(), 1)
	assert.True(t, w.Up("n"), "the second incarnation was killed by the first one's exit")
	assert.Len(t, tp.filter(entry{Kind: "timer", Inc: 2}), 1)
	assert.Equal(t, uint64(1), w.Stats("n").Crashes)
}

// Running a world from inside its own Run is a programming error that
// panics, rather than deadlocking the process.
func TestRunInsideRunPanics(t *testing.T) {
	w := sim.NewWorld(sim.Config{Seed: 1})
	w.At(ms(1), func() {
		assert.Panics(t, func() { w.Run(sim.Limits{}) })
	})
	w.Run(sim.Limits{})
	assert.Equal(t, ms(1), w.Now())
}

// cryptoStarter reads crypto/rand in Start, as etcd raft does when it
// draws an election timeout.
type cryptoStarter struct {
	sim.BaseNode
	seen *[][]byte
}

func (c cryptoStarter) Start(*sim.Env) {
	b := make([]byte, 8)
	_, _ = io.ReadFull(crand.Reader, b)
	*c.seen = append(*c.seen, b)
}

// A restart injected between Run calls runs node code too: it must see the
// world's seeded crypto/rand, not the process's.
func TestInjectBetweenRunsIsDeterministic(t *testing.T) {
	draw := func() [][]byte {
		var seen [][]byte
		w := sim.NewWorld(sim.Config{Seed: 3})
		w.AddNode("n", func() sim.Node { return cryptoStarter{seen: &seen} })
		w.Run(sim.Limits{Until: time.Second})
		require.NoError(t, w.Inject(sim.Restart{Nodes: []sim.NodeID{"n"}}))
		return seen
	}
	a, b := draw(), draw()
	require.Len(t, a, 2)
	require.Equal(t, a, b)
}
