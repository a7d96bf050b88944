package sim_test

import (
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/sim"
)

// timerRec is what the timer tests know about one timer.
type timerRec struct {
	id        sim.TimerID
	deadline  time.Duration // monotonic
	cancelled bool
	fired     int
}

// timerFire is one firing, as the node saw it.
type timerFire struct {
	id   sim.TimerID
	mono time.Duration // Env.Monotonic at firing
	virt time.Duration // World.Now at firing
}

// timerScript is a node that sets timers from a drawn script: some at
// start, more from each firing, and cancels some.
type timerScript struct {
	sim.BaseNode
	env    *sim.Env
	w      *sim.World
	plan   []timerStep
	step   int
	timers map[sim.TimerID]*timerRec
	order  []*timerRec // in the order set
	fires  []timerFire
}

// timerStep is done at start (step 0) and after each firing: set timers
// with the given durations, then cancel the k-th timer set so far (if any).
type timerStep struct {
	Set    []time.Duration
	Cancel int // index into the timers set so far, -1: none
}

func (s *timerScript) Start(env *sim.Env) {
	s.env = env
	s.timers = map[sim.TimerID]*timerRec{}
	s.do()
}

func (s *timerScript) do() {
	if s.step >= len(s.plan) {
		return
	}
	st := s.plan[s.step]
	s.step++
	for _, d := range st.Set {
		id := s.env.SetTimer(d, nil)
		r := &timerRec{id: id, deadline: s.env.Monotonic() + d}
		s.timers[id] = r
		s.order = append(s.order, r)
	}
	if st.Cancel >= 0 && st.Cancel < len(s.order) {
		r := s.order[st.Cancel]
		s.env.CancelTimer(r.id)
		if r.fired == 0 {
			r.cancelled = true
		}
	}
}

func (s *timerScript) Timer(id sim.TimerID, _ any) {
	s.fires = append(s.fires, timerFire{id: id, mono: s.env.Monotonic(), virt: s.w.Now()})
	if r := s.timers[id]; r != nil {
		r.fired++
	}
	s.do()
}

func genTimerSteps(t *rapid.T) []timerStep {
	// Durations from 0 to 50ms, with rapid's bias to small values, so
	// that deadlines a nanosecond apart are common.
	d := rapid.Custom(func(t *rapid.T) time.Duration {
		return time.Duration(rapid.Int64Range(0, int64(50*time.Millisecond)).Draw(t, "d"))
	})
	return rapid.SliceOfN(rapid.Custom(func(t *rapid.T) timerStep {
		return timerStep{
			Set:    rapid.SliceOfN(d, 0, 4).Draw(t, "set"),
			Cancel: rapid.IntRange(-1, 8).Draw(t, "cancel"),
		}
	}), 1, 12).Draw(t, "steps")
}

// Timers fire in the order of their monotonic deadlines (ties in the order
// set), never before the node's monotonic clock reaches the deadline, once
// each, and never when cancelled; whatever the drift, clock skews and
// jumps.
func TestTimersFireInMonotonicDeadlineOrder(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		cfg := sim.Config{
			Seed:  rapid.Uint64().Draw(rt, "seed"),
			Clock: sim.ClockConfig{MaxOffset: time.Second, MaxDriftPPM: rapid.Int64Range(1, 500_000).Draw(rt, "max_drift")},
		}
		w := sim.NewWorld(cfg)
		s := &timerScript{w: w, plan: genTimerSteps(rt)}
		w.AddNode("n", func() sim.Node { return s })
		var plan []sim.Fault
		for i, n := 0, rapid.IntRange(0, 4).Draw(rt, "faults"); i < n; i++ {
			f := sim.Fault{At: sim.Duration(rapid.Int64Range(0, int64(100*time.Millisecond)).Draw(rt, "at"))}
			if rapid.Bool().Draw(rt, "skew") {
				f.Op = sim.ClockSkew{Nodes: ids("n"), DriftPPM: rapid.Int64Range(-999_999, 999_999).Draw(rt, "ppm")}
			} else {
				f.Op = sim.ClockJump{Nodes: ids("n"), Jump: sim.Duration(rapid.Int64Range(-int64(time.Hour), int64(time.Hour)).Draw(rt, "jump"))}
			}
			plan = append(plan, f)
		}
		sort.SliceStable(plan, func(i, j int) bool { return plan[i].At < plan[j].At })
		require.NoError(rt, w.Schedule(plan))
		out := w.Run(sim.Limits{})
		require.Equal(rt, sim.StopQuiescent, out.Reason)

		for _, r := range s.order {
			if r.cancelled {
				require.Zero(rt, r.fired, "cancelled timer %d fired", r.id)
			} else {
				require.Equal(rt, 1, r.fired, "timer %d (deadline %v) fired %d times", r.id, r.deadline, r.fired)
			}
		}
		for i, f := range s.fires {
			r := s.timers[f.id]
			require.NotNil(rt, r, "fired a timer never set")
			require.GreaterOrEqual(rt, f.mono, r.deadline, "timer %d fired early", f.id)
			if i > 0 {
				p := s.timers[s.fires[i-1].id]
				require.True(rt, p.deadline < r.deadline || p.deadline == r.deadline && p.id < r.id,
					"timer %d (deadline %v) fired before timer %d (deadline %v)", p.id, p.deadline, r.id, r.deadline)
				require.GreaterOrEqual(rt, f.virt, s.fires[i-1].virt)
			}
		}
	})
}

// A timer cancelled by a timer due at the same instant does not fire.
func TestCancelledTimerNeverFires(t *testing.T) {
	w, tp := newWorld(sim.Config{Seed: 1, Clock: perfectClock})
	var victim sim.TimerID
	addProbe(w, tp, "n", &hooks{
		start: func(p *probe) {
			p.env.SetTimer(ms(10), "killer")
			victim = p.env.SetTimer(ms(10), "victim")
			gone := p.env.SetTimer(ms(20), "cancelled at once")
			p.env.CancelTimer(gone)
			p.env.CancelTimer(gone)  // twice is harmless
			p.env.CancelTimer(12345) // so is an unknown id
			p.env.SetTimer(ms(30), "survivor")
		},
		timer: func(p *probe, _ sim.TimerID, tag any) {
			if tag == "killer" {
				p.env.CancelTimer(victim)
			}
		},
	})
	w.Run(sim.Limits{})
	var tags []any
	for _, e := range tp.filter(entry{Kind: "timer"}) {
		tags = append(tags, e.Msg)
	}
	assert.Equal(t, []any{"killer", "survivor"}, tags)
	assert.Equal(t, uint64(2), w.Stats("n").Timers)
}

// A timer of d fires exactly d after it was set on a perfect clock, and a
// timer of zero or less fires at once.
func TestTimerExactOnPerfectClock(t *testing.T) {
	w, tp := newWorld(sim.Config{Seed: 1, Clock: perfectClock})
	addProbe(w, tp, "n", &hooks{
		start: func(p *probe) {
			p.env.SetTimer(ms(7), 7)
			p.env.SetTimer(0, 0)
			p.env.SetTimer(-time.Second, -1)
			p.env.SetTimer(time.Nanosecond, 1)
		},
	})
	w.Run(sim.Limits{})
	got := tp.filter(entry{Kind: "timer"})
	require.Len(t, got, 4)
	assert.Equal(t, []any{0, -1, 1, 7}, []any{got[0].Msg, got[1].Msg, got[2].Msg, got[3].Msg})
	assert.Equal(t, []time.Duration{0, 0, 1, ms(7)}, []time.Duration{got[0].At, got[1].At, got[2].At, got[3].At})
}

// A clock jump moves Env.Now, by exactly the jump, and nothing else: the
// monotonic clock and the timers do not move.
func TestClockJumpMovesNowNotTimers(t *testing.T) {
	type reading struct {
		virt, mono time.Duration
		wall       time.Time
	}
	run := func(plan []sim.Fault) ([]reading, []time.Duration) {
		w, tp := newWorld(sim.Config{Seed: 99}) // default clocks: offset and drift
		var rs []reading
		addProbe(w, tp, "n", &hooks{
			start: func(p *probe) {
				p.env.SetTimer(ms(100), "long")
				p.env.SetTimer(ms(10), "tick")
			},
			timer: func(p *probe, _ sim.TimerID, tag any) {
				rs = append(rs, reading{w.Now(), p.env.Monotonic(), p.env.Now()})
				if tag == "tick" && w.Now() < ms(200) {
					p.env.SetTimer(ms(10), "tick")
				}
			},
		})
		require.NoError(t, w.Schedule(plan))
		w.Run(sim.Limits{})
		var fired []time.Duration
		for _, e := range tp.filter(entry{Kind: "timer"}) {
			fired = append(fired, e.At)
		}
		return rs, fired
	}
	base, baseFired := run(nil)
	jumped, jumpedFired := run([]sim.Fault{
		{At: at(ms(45)), Op: sim.ClockJump{Nodes: ids("n"), Jump: at(time.Hour)}},
		{At: at(ms(75)), Op: sim.ClockJump{Nodes: ids("n"), Jump: at(-90 * time.Minute)}},
	})
	require.Equal(t, baseFired, jumpedFired, "jumps moved timers")
	require.Equal(t, len(base), len(jumped))
	for i := range base {
		require.Equal(t, base[i].virt, jumped[i].virt)
		require.Equal(t, base[i].mono, jumped[i].mono, "jumps moved the monotonic clock")
		var shift time.Duration
		switch {
		case base[i].virt >= ms(75):
			shift = -30 * time.Minute
		case base[i].virt >= ms(45):
			shift = time.Hour
		}
		require.Equal(t, shift, jumped[i].wall.Sub(base[i].wall), "at %v", base[i].virt)
	}
	// Without jumps, the wall clock is the monotonic clock plus an offset.
	off := base[0].wall.Sub(sim.Epoch) - base[0].mono
	for _, r := range base {
		assert.Equal(t, off, r.wall.Sub(sim.Epoch)-r.mono)
	}
}

// A clock skew changes the rate of the node's clock from then on: timers
// stretch on a slow clock and shrink on a fast one, from the reading at
// the time of the skew.
func TestClockSkewStretchesTimers(t *testing.T) {
	cases := []struct {
		ppm      int64
		skewAt   time.Duration
		wantFire time.Duration // virtual time at which a 100ms timer set at 0 fires
		wantMono time.Duration // monotonic reading then
	}{
		{ppm: -500_000, skewAt: 0, wantFire: ms(200), wantMono: ms(100)},
		{ppm: -500_000, skewAt: ms(50), wantFire: ms(150), wantMono: ms(100)},
		{ppm: 500_000, skewAt: ms(50), wantFire: ms(50) + 33_333_334, wantMono: ms(100) + 1}, // rounded up to a whole ns
		{ppm: 0, skewAt: ms(50), wantFire: ms(100), wantMono: ms(100)},
		{ppm: -999_999, skewAt: ms(99), wantFire: ms(99) + time.Millisecond*1_000_000, wantMono: ms(100)},
	}
	for _, c := range cases {
		w, tp := newWorld(sim.Config{Seed: 1, Clock: perfectClock})
		var mono []time.Duration
		addProbe(w, tp, "n", &hooks{
			start: func(p *probe) { p.env.SetTimer(ms(100), nil) },
			timer: func(p *probe, _ sim.TimerID, _ any) { mono = append(mono, p.env.Monotonic()) },
		})
		require.NoError(t, w.Schedule([]sim.Fault{{At: at(c.skewAt), Op: sim.ClockSkew{Nodes: ids("n"), DriftPPM: c.ppm}}}))
		w.Run(sim.Limits{})
		fired := tp.filter(entry{Kind: "timer"})
		require.Len(t, fired, 1, "ppm %d", c.ppm)
		assert.Equal(t, c.wantFire, fired[0].At, "ppm %d at %v", c.ppm, c.skewAt)
		assert.Equal(t, c.wantMono, mono[0], "ppm %d at %v", c.ppm, c.skewAt)
	}
}

// Each machine's clock starts within the configured offset and drifts
// within the configured rate error; machines differ; runs agree.
func TestClockOffsetAndDrift(t *testing.T) {
	read := func() map[sim.NodeID][2]time.Duration {
		cfg := sim.Config{Seed: 5, Clock: sim.ClockConfig{MaxOffset: ms(50), MaxDriftPPM: 1000}}
		w, tp := newWorld(cfg)
		got := map[sim.NodeID][2]time.Duration{}
		for _, id := range ids("a", "b", "c", "d") {
			addProbe(w, tp, id, &hooks{
				start: func(p *probe) { p.env.SetTimer(100*time.Second, nil) },
				timer: func(p *probe, _ sim.TimerID, _ any) {
					got[p.env.ID()] = [2]time.Duration{p.env.Now().Sub(sim.Epoch), w.Now()}
				},
			})
		}
		w.Run(sim.Limits{})
		return got
	}
	first := read()
	require.Equal(t, first, read())
	offsets := map[time.Duration]bool{}
	for _, id := range ids("a", "b", "c", "d") {
		wall, virt := first[id][0], first[id][1]
		// The timer fires after 100s of local monotonic time.
		assert.InDelta(t, float64(100*time.Second), float64(virt), float64(100*time.Second)/1000*1.001, "%s drift", id)
		assert.InDelta(t, float64(100*time.Second), float64(wall), float64(ms(50)+time.Microsecond), "%s offset", id)
		offsets[wall] = true
	}
	assert.Len(t, offsets, 4, "machines have their own clocks")
}

// Timers belong to the incarnation that set them: a crash discards them.
func TestTimersDieWithTheProcess(t *testing.T) {
	w, tp := newWorld(sim.Config{Seed: 1, Clock: perfectClock})
	addProbe(w, tp, "n", &hooks{
		start: func(p *probe) { p.env.SetTimer(ms(100), p.env.Incarnation()) },
	})
	require.NoError(t, w.Schedule([]sim.Fault{{At: at(ms(50)), Op: sim.Restart{Nodes: ids("n")}}}))
	w.Run(sim.Limits{})
	fired := tp.filter(entry{Kind: "timer"})
	require.Len(t, fired, 1)
	assert.Equal(t, uint32(2), fired[0].Inc)
	assert.Equal(t, uint32(2), fired[0].Msg)
	assert.Equal(t, ms(150), fired[0].At)
}

// Timers that waited (the node was paused, or busy after a slow sync) fire
// in deadline order when the node can run again, also when another timer
// falls due at exactly that instant.
func TestWaitingTimersKeepDeadlineOrder(t *testing.T) {
	for _, kind := range []string{"pause", "disk-slow"} {
		w, tp := newWorld(sim.Config{Seed: 1, Clock: perfectClock})
		addProbe(w, tp, "n", &hooks{
			start: func(p *probe) {
				p.env.SetTimer(ms(100), 100) // due exactly when the node can run again
				p.env.SetTimer(ms(30), 30)
				p.env.SetTimer(ms(60), 60)
				p.env.SetTimer(ms(20), "sync")
			},
			timer: func(p *probe, _ sim.TimerID, tag any) {
				if tag == "sync" && kind == "disk-slow" {
					require.NoError(t, p.env.Disk().WriteAt("f", 0, []byte("x")))
					require.NoError(t, p.env.Disk().Sync("f")) // busy until 20ms + 80ms
				}
			},
		})
		plan := []sim.Fault{{At: at(ms(20)), Op: sim.Pause{Nodes: ids("n")}}, {At: at(ms(100)), Op: sim.Resume{Nodes: ids("n")}}}
		if kind == "disk-slow" {
			plan = []sim.Fault{{At: at(ms(10)), Op: sim.DiskSlow{Nodes: ids("n"), Delay: at(ms(80)), For: at(time.Second)}}}
		}
		require.NoError(t, w.Schedule(plan))
		w.Run(sim.Limits{})
		var tags []any
		for _, e := range tp.filter(entry{Kind: "timer"}) {
			if e.Msg != "sync" {
				tags = append(tags, e.Msg)
				assert.Equal(t, ms(100), e.At, "%s: %v", kind, e)
			}
		}
		assert.Equal(t, []any{30, 60, 100}, tags, kind)
	}
}
