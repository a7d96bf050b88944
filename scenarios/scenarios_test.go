package scenarios_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/scenarios"
	_ "github.com/sofasim/sofasim/scenarios/all"
	"github.com/sofasim/sofasim/scenarios/scenariotest"
	"github.com/sofasim/sofasim/sim"
)

func TestMain(m *testing.M) {
	flag.Parse()
	scenariotest.RapidDefaults(8)
	os.Exit(m.Run())
}

var small = map[string]string{"members": "3", "clients": "4", "ops": "60", "duration": "20s", "liveness": "20s"}

// tiny makes runs of a few tens of milliseconds, for the shrinker's tests
// (seed 15 fails with ack-before-sync armed).
var tiny = map[string]string{"members": "3", "clients": "4", "ops": "40", "duration": "10s", "liveness": "10s"}

func TestPlanRoundTrip(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		name := rapid.SampledFrom(scenarios.Names()).Draw(rt, "scenario")
		sc, err := scenarios.Lookup(name)
		require.NoError(rt, err)
		plan := sc.Generator(nil, nil).Draw(rt, "plan")
		back, err := scenarios.ParsePlan(plan.Marshal())
		require.NoError(rt, err)
		require.Equal(rt, plan.Marshal(), back.Marshal())
	})
}

func TestPlanRejectsBadInput(t *testing.T) {
	good, err := scenarios.PlanForSeed("raftkv-chaos", 1, nil, nil)
	require.NoError(t, err)
	op := func(s string) json.RawMessage { return json.RawMessage(s) }
	cases := map[string]func(p *scenarios.Plan){
		"version":   func(p *scenarios.Plan) { p.Version = 1 },
		"scenario":  func(p *scenarios.Plan) { p.Scenario = "nope" },
		"param":     func(p *scenarios.Plan) { p.Params = map[string]string{"bogus": "1"} },
		"param-val": func(p *scenarios.Plan) { p.Params = map[string]string{"members": "x"} },
		"param-4":   func(p *scenarios.Plan) { p.Params = map[string]string{"members": "4"} },
		"bug":       func(p *scenarios.Plan) { p.Bugs = []string{"bug/raftkv/nope"} },
		"client":    func(p *scenarios.Plan) { p.Ops = append(p.Ops, op(`{"client":999,"at":"1s","kind":"get","key":"k1"}`)) },
		"op-kind": func(p *scenarios.Plan) {
			p.Ops = append(p.Ops, op(`{"client":0,"at":"1s","kind":"explode","key":"k1"}`))
		},
		"op-field": func(p *scenarios.Plan) {
			p.Ops = append(p.Ops, op(`{"client":0,"at":"1s","kind":"get","key":"k1","service":"x"}`))
		},
		"op-time":  func(p *scenarios.Plan) { p.Ops = append(p.Ops, op(`{"client":0,"at":"-1s","kind":"get","key":"k1"}`)) },
		"duration": func(p *scenarios.Plan) { p.Duration = 0 },
		"fault-node": func(p *scenarios.Plan) {
			p.Faults = append(p.Faults, scenarios.Step{Fault: sim.Fault{Op: sim.Crash{Nodes: []sim.NodeID{"nope"}}}})
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			p := *good
			mutate(&p)
			_, err := scenarios.ParsePlan(p.Marshal())
			require.Error(t, err)
		})
	}
	for _, bad := range []string{"", "{", "[]", `{"version":2,"scenario":"raftkv-chaos","extra":1}`, "null"} {
		_, err := scenarios.ParsePlan([]byte(bad))
		require.Error(t, err, "input %q", bad)
	}
	_, err = scenarios.ParsePlan([]byte(`{"version":1,"scenario":"raftkv-chaos","seed":1,"duration":"1s","liveness":"1s","ops":[],"faults":[]}`))
	require.ErrorContains(t, err, "plan format version 1")
}

// Every scenario's parameters are checked in one place: a value outside
// the declared range or choices, of the wrong type or unknown, is an
// error that names the parameter and what it accepts.
func TestParamsAreValidated(t *testing.T) {
	for _, sc := range scenarios.All() {
		for _, p := range sc.Params {
			bad := []string{"x", "", "1.5"}
			switch {
			case p.Kind == scenarios.ParamDuration:
				bad = append(bad, "0s", "-1s", "10")
			case len(p.Choices) > 0:
				bad = append(bad, fmt.Sprint(p.Choices[len(p.Choices)-1]+1))
			default:
				bad = append(bad, fmt.Sprint(p.Min-1), fmt.Sprint(p.Max+1))
			}
			for _, v := range bad {
				_, err := scenarios.PlanForSeed(sc.Name, 1, map[string]string{p.Name: v}, nil)
				require.Errorf(t, err, "%s --param %s=%q", sc.Name, p.Name, v)
				require.Contains(t, err.Error(), p.Name)
				require.Contains(t, err.Error(), p.Allowed())
			}
			_, err := scenarios.PlanForSeed(sc.Name, 1, map[string]string{p.Name: p.Default}, nil)
			require.NoError(t, err)
		}
		_, err := scenarios.PlanForSeed(sc.Name, 1, map[string]string{"no-such": "1"}, nil)
		require.ErrorContains(t, err, "no parameter")
	}
}

func ExamplePlanForSeed() {
	plan, err := scenarios.PlanForSeed("raftkv-basic", 7, map[string]string{"ops": "5"}, nil)
	if err != nil {
		panic(err)
	}
	res, err := scenarios.Run(plan, scenarios.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Verdict)
	// Output: pass
}

// Members still down when the faults heal are restarted by the runner
// between Run calls: their recovery (raft draws its election timeout from
// crypto/rand) must come from the world's streams too.
func TestHealRestartIsDeterministic(t *testing.T) {
	plan, err := scenarios.PlanForSeed("raftkv-chaos", 5, small, nil)
	require.NoError(t, err)
	members := []sim.NodeID{"kv-1", "kv-2", "kv-3"}
	plan.Faults = append(plan.Faults, scenarios.Step{Fault: sim.Fault{At: plan.Duration - sim.Duration(time.Millisecond), Op: sim.Crash{Nodes: members, Torn: true}}})
	res := scenariotest.RunTwice(t, plan)
	require.True(t, res.Passed(), res.Explain())
}

// The shrinker is deterministic and keeps the failure: a planted bug's
// failing seed shrinks to a smaller plan that fails the same checker, the
// same way twice.
func TestShrinkKeepsTheFailure(t *testing.T) {
	plan, err := scenarios.PlanForSeed("raftkv-chaos", 14, tiny, []string{"bug/raftkv/ack-before-sync"})
	require.NoError(t, err)
	a, err := scenarios.Shrink(plan, scenarios.ShrinkOptions{Budget: 40})
	require.NoError(t, err)
	require.False(t, a.Result.Passed())
	require.True(t, a.Kept.Holds(a.Result))
	require.LessOrEqual(t, len(a.Plan.Faults)+len(a.Plan.Ops), len(plan.Faults)+len(plan.Ops))
	require.NotEmpty(t, a.Plan.Note)
	b, err := scenarios.Shrink(plan, scenarios.ShrinkOptions{Budget: 40})
	require.NoError(t, err)
	require.Equal(t, a.Plan.Marshal(), b.Plan.Marshal())

	_, err = scenarios.Shrink(plan, scenarios.ShrinkOptions{Budget: 1, Keep: "no-such-checker"})
	require.ErrorContains(t, err, "no-such-checker")
	clean, err := scenarios.PlanForSeed("raftkv-basic", 1, small, nil)
	require.NoError(t, err)
	_, err = scenarios.Shrink(clean, scenarios.ShrinkOptions{Budget: 1})
	require.ErrorContains(t, err, "does not fail")
}

// A failure found in go test is saved as a plan file and reported with a
// replay command that names that file.
func TestSaveFailureWritesAReplayablePlan(t *testing.T) {
	plan, err := scenarios.PlanForSeed("raftkv-chaos", 14, tiny, []string{"bug/raftkv/ack-before-sync"})
	require.NoError(t, err)
	old := scenariotest.ShrinkBudget
	scenariotest.ShrinkBudget = 5
	defer func() { scenariotest.ShrinkBudget = old }()
	path, replay := scenariotest.SaveFailure(plan)
	require.FileExists(t, path)
	require.True(t, strings.HasSuffix(replay, " replay "+path), replay)
	saved, err := scenarios.LoadPlan(path)
	require.NoError(t, err)
	res, err := scenarios.Run(saved, scenarios.Options{})
	require.NoError(t, err)
	require.False(t, res.Passed())
}
