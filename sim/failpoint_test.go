package sim_test

import (
	"slices"
	"testing"
	"time"

	"github.com/pingcap/failpoint"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/sim"
)

// eval is one failpoint evaluation as a node saw it.
type eval struct {
	Fired bool
	Value failpoint.Value
}

// evaluator evaluates the named failpoint every millisecond until stop,
// alternately through Env.Failpoint and through failpoint.EvalContext with
// Env.Context (as library code that takes a context would).
func evaluator(name string, stop time.Duration) *hooks {
	return &hooks{
		start: func(p *probe) { p.env.SetTimer(ms(1), nil) },
		timer: func(p *probe, _ sim.TimerID, _ any) {
			var e eval
			if p.round%2 == 0 {
				e.Value, e.Fired = p.env.Failpoint(name)
			} else {
				v, err := failpoint.EvalContext(p.env.Context(), name)
				e.Value, e.Fired = v, err == nil
			}
			p.round++
			p.tp.add(p.env, "eval", "", 0, e)
			if p.tp.w.Now() < stop {
				p.env.SetTimer(ms(1), nil)
			}
		},
	}
}

// failpointRun runs nodes evaluating the failpoint under the plan.
func failpointRun(t require.TestingT, seed uint64, nodes []sim.NodeID, plan []sim.Fault, stop time.Duration) (*sim.World, []entry) {
	w, tp := newWorld(sim.Config{Seed: seed})
	for _, id := range nodes {
		addProbe(w, tp, id, evaluator("test/fp", stop))
	}
	require.NoError(t, w.Schedule(plan))
	w.Run(sim.Limits{})
	return w, tp.filter(entry{Kind: "eval"})
}

// A failpoint fires exactly when the plan says: from the arm to the disarm,
// at the nodes named, Count times at most, each evaluation with
// probability PPM; with the armed value; identically across runs; never
// otherwise.
func TestFailpointFiresExactlyAsPlanned(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		seed := rapid.Uint64().Draw(rt, "seed")
		nodes := genNodes(1, 3).Draw(rt, "nodes")
		armAt := ms(rapid.IntRange(0, 30).Draw(rt, "arm_ms"))
		disarmAt := armAt + ms(rapid.IntRange(0, 30).Draw(rt, "for_ms"))
		disarm := rapid.Bool().Draw(rt, "disarm")
		arm := sim.ArmFailpoint{Failpoint: "test/fp", Value: rapid.SampledFrom([]string{"", "true", "false", "7", `"x"`}).Draw(rt, "value"), Count: rapid.SampledFrom([]int{0, 0, 1, 3, 10}).Draw(rt, "count"), ProbabilityPPM: rapid.SampledFrom([]int64{0, 0, 1_000_000, 500_000, 1}).Draw(rt, "ppm")}
		if rapid.Bool().Draw(rt, "filter") {
			arm.Nodes = genSubset(nodes, "only").Draw(rt, "only")
		}
		plan := []sim.Fault{{At: at(armAt), Op: arm}}
		if disarm {
			plan = append(plan, sim.Fault{At: at(disarmAt), Op: sim.DisarmFailpoint{Failpoint: "test/fp"}})
		}
		w, evals := failpointRun(rt, seed, nodes, plan, ms(70))
		require.NotEmpty(rt, evals)

		want := map[string]failpoint.Value{"": true, "true": true, "false": false, "7": 7, `"x"`: "x"}[arm.Value]
		fired := 0
		for _, e := range evals {
			ev := e.Msg.(eval)
			eligible := e.At >= armAt && (!disarm || e.At < disarmAt) &&
				(len(arm.Nodes) == 0 || slices.Contains(arm.Nodes, e.Node)) &&
				(arm.Count == 0 || fired < arm.Count)
			if !eligible {
				require.False(rt, ev.Fired, "fired outside the plan: %s", e)
				continue
			}
			if arm.ProbabilityPPM == 0 || arm.ProbabilityPPM == 1_000_000 {
				require.True(rt, ev.Fired, "armed and did not fire: %s", e)
			}
			if ev.Fired {
				fired++
				require.Equal(rt, want, ev.Value, "%s", e)
			} else {
				require.Nil(rt, ev.Value)
			}
		}
		if !disarm {
			require.Equal(rt, uint64(fired), w.FailpointFired("test/fp"))
			require.Equal(rt, []string{"test/fp"}, w.Armed())
		} else {
			require.Empty(rt, w.Armed())
		}

		// Identically across runs.
		_, again := failpointRun(rt, seed, nodes, plan, ms(70))
		require.Equal(rt, evals, again)
	})
}

// A probabilistic failpoint fires about as often as its PPM says.
func TestFailpointPPM(t *testing.T) {
	plan := []sim.Fault{{At: 0, Op: sim.ArmFailpoint{Failpoint: "test/fp", ProbabilityPPM: 250_000}}}
	_, evals := failpointRun(t, 3, ids("a", "b"), plan, time.Second)
	fired := 0
	for _, e := range evals {
		if e.Msg.(eval).Fired {
			fired++
		}
	}
	assert.InDelta(t, len(evals)/4, fired, float64(len(evals))/20, "%d of %d", fired, len(evals))
	_, other := failpointRun(t, 4, ids("a", "b"), plan, time.Second)
	assert.NotEqual(t, evals, other, "another seed, other draws")
}

// The world alone decides: a failpoint enabled in the process registry by
// someone else never fires in a world that did not arm it, and what the
// world armed is disabled in the registry when Run returns.
func TestFailpointNeverFiresUnarmed(t *testing.T) {
	require.NoError(t, failpoint.Enable("test/foreign", "return(true)"))
	defer func() { _ = failpoint.Disable("test/foreign") }()

	w, tp := newWorld(sim.Config{Seed: 1})
	addProbe(w, tp, "a", evaluator("test/foreign", ms(20)))
	addProbe(w, tp, "b", evaluator("test/fp", ms(20)))
	// Something else is armed, so the world's hook is consulted.
	require.NoError(t, w.Schedule([]sim.Fault{{At: 0, Op: sim.ArmFailpoint{Failpoint: "test/fp", Nodes: ids("b")}}}))
	w.Run(sim.Limits{})
	for _, e := range tp.filter(entry{Node: "a", Kind: "eval"}) {
		require.False(t, e.Msg.(eval).Fired, "%s", e)
	}
	for _, e := range tp.filter(entry{Node: "b", Kind: "eval"}) {
		require.True(t, e.Msg.(eval).Fired, "%s", e)
	}
	_, err := failpoint.Eval("test/fp")
	assert.Error(t, err, "the world's failpoint stays enabled after Run")
	v, err := failpoint.Eval("test/foreign")
	assert.NoError(t, err, "the world disabled a failpoint it did not own")
	assert.Equal(t, true, v)

	// A world with nothing armed: nothing fires.
	_, evals := failpointRun(t, 1, ids("a"), nil, ms(20))
	for _, e := range evals {
		require.False(t, e.Msg.(eval).Fired)
	}
}

// A failpoint armed before Run (Inject) is enabled when Run starts; one
// armed with a value the failpoint library cannot parse is a finding.
func TestFailpointArmedBeforeRunAndBadValue(t *testing.T) {
	w, tp := newWorld(sim.Config{Seed: 1})
	addProbe(w, tp, "a", evaluator("test/fp", ms(5)))
	require.NoError(t, w.Inject(sim.ArmFailpoint{Failpoint: "test/fp", Value: "42", Count: 2}))
	assert.Equal(t, []string{"test/fp"}, w.Armed())
	w.Run(sim.Limits{})
	var fired []failpoint.Value
	for _, e := range tp.filter(entry{Kind: "eval"}) {
		if ev := e.Msg.(eval); ev.Fired {
			fired = append(fired, ev.Value)
		}
	}
	assert.Equal(t, []failpoint.Value{42, 42}, fired)
	assert.Equal(t, uint64(2), w.FailpointFired("test/fp"))

	w, tp = newWorld(sim.Config{Seed: 1})
	addProbe(w, tp, "a", evaluator("test/fp", ms(5)))
	require.NoError(t, w.Schedule([]sim.Fault{{At: 0, Op: sim.ArmFailpoint{Failpoint: "test/fp", Value: "not a value"}}}))
	w.Run(sim.Limits{})
	require.Len(t, w.Findings(), 1)
	assert.Equal(t, "bad-failpoint", w.Findings()[0].Kind)
	for _, e := range tp.filter(entry{Kind: "eval"}) {
		assert.False(t, e.Msg.(eval).Fired)
	}
}
