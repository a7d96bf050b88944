package scenarios_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

func TestMain(m *testing.M) {
	flag.Parse()
	// Each rapid check is a whole simulated run: keep the default count
	// small unless the caller asked for more with -rapid.checks.
	if f := flag.Lookup("rapid.checks"); f != nil && f.Value.String() == "100" {
		_ = f.Value.Set("8")
	}
	os.Exit(m.Run())
}

// runTwice runs a plan twice and requires identical fingerprints and events.
func runTwice(t require.TestingT, plan *scenarios.Plan) *scenarios.Result {
	a, err := scenarios.Run(plan, scenarios.Options{})
	require.NoError(t, err)
	b, err := scenarios.Run(plan, scenarios.Options{})
	require.NoError(t, err)
	require.Equal(t, a.Fingerprint, b.Fingerprint, "same plan, different fingerprints")
	require.Equal(t, a.Events, b.Events)
	require.Equal(t, a.History, b.History)
	return a
}

// checkScenario is the standard test of a scenario: rapid draws plans
// (shrinking and failfiles come with it), each must pass, and one seed
// runs twice to the same fingerprint.
func checkScenario(t *testing.T, name string, params map[string]string) {
	sc, err := scenarios.Lookup(name)
	require.NoError(t, err)
	t.Run("rapid", func(t *testing.T) {
		gen := sc.Generator(params, nil)
		rapid.Check(t, func(rt *rapid.T) {
			plan := gen.Draw(rt, "plan")
			res, err := scenarios.Run(&plan, scenarios.Options{})
			require.NoError(rt, err)
			if !res.Passed() {
				path := filepath.Join(os.TempDir(), fmt.Sprintf("%s-%016x.plan.json", name, res.Fingerprint))
				require.NoError(rt, os.WriteFile(path, plan.Marshal(), 0o644))
				rt.Fatalf("%s\nreplay: sofasim run %s --plan %s", res.Explain(), name, path)
			}
		})
	})
	t.Run("deterministic", func(t *testing.T) {
		plan, err := scenarios.PlanForSeed(name, 42, params, nil)
		require.NoError(t, err)
		res := runTwice(t, plan)
		other, err := scenarios.PlanForSeed(name, 43, params, nil)
		require.NoError(t, err)
		res2, err := scenarios.Run(other, scenarios.Options{})
		require.NoError(t, err)
		require.NotEqual(t, res.Fingerprint, res2.Fingerprint, "different seeds, same fingerprint")
	})
}

// small keeps the rapid runs of go test quick; sweeps use the defaults.
var small = map[string]string{"members": "3", "clients": "4", "ops": "60", "duration": "20s", "liveness": "20s"}

func TestRaftkvBasic(t *testing.T)      { checkScenario(t, "raftkv-basic", small) }
func TestRaftkvPartitions(t *testing.T) { checkScenario(t, "raftkv-partitions", small) }
func TestRaftkvCrashes(t *testing.T)    { checkScenario(t, "raftkv-crashes", small) }
func TestRaftkvChaos(t *testing.T)      { checkScenario(t, "raftkv-chaos", small) }

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
	cases := map[string]func(p *scenarios.Plan){
		"version":   func(p *scenarios.Plan) { p.Version = 99 },
		"scenario":  func(p *scenarios.Plan) { p.Scenario = "nope" },
		"param":     func(p *scenarios.Plan) { p.Params = map[string]string{"bogus": "1"} },
		"param-val": func(p *scenarios.Plan) { p.Params = map[string]string{"members": "x"} },
		"bug":       func(p *scenarios.Plan) { p.Bugs = []string{"bug/raftkv/nope"} },
		"client":    func(p *scenarios.Plan) { p.Ops = append(p.Ops, scenarios.Op{Client: 999, Kind: "get"}) },
		"op-kind":   func(p *scenarios.Plan) { p.Ops = append(p.Ops, scenarios.Op{Kind: "explode"}) },
		"duration":  func(p *scenarios.Plan) { p.Duration = 0 },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			p := *good
			mutate(&p)
			_, err := scenarios.ParsePlan(p.Marshal())
			require.Error(t, err)
		})
	}
	for _, bad := range []string{"", "{", "[]", `{"version":1,"scenario":"raftkv-chaos","extra":1}`, "null"} {
		_, err := scenarios.ParsePlan([]byte(bad))
		require.Error(t, err, "input %q", bad)
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
	res := runTwice(t, plan)
	require.True(t, res.Passed(), res.Explain())
}
