// Package scenariotest is the standard test of a scenario for go test:
// rapid draws plans and every one must pass; a seed runs twice to the same
// fingerprint; and a failure is shrunk, saved as a plan file and reported
// with a replay command that works as printed.
package scenariotest

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/internal/procstat"
	"github.com/sofasim/sofasim/reports"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

// TB is what the helpers need of *testing.T and *rapid.T.
type TB interface {
	require.TestingT
	Helper()
	Name() string
}

// Prog is how the printed replay commands run sofasim: it works from
// anywhere inside the module without installing anything.
const Prog = "go run github.com/sofasim/sofasim/cmd/sofasim"

// CPUTime is the process's CPU time, which the benchmarks divide virtual
// time by (procstat.CPUTime).
var CPUTime = procstat.CPUTime

// ShrinkBudget bounds the runs spent shrinking a failure found by a test.
var ShrinkBudget = 60

// RunTwice runs a plan twice and requires identical fingerprints, events
// and histories.
func RunTwice(t require.TestingT, plan *scenarios.Plan) *reports.Result {
	a, err := scenarios.Run(plan, scenarios.Options{})
	require.NoError(t, err)
	b, err := scenarios.Run(plan, scenarios.Options{})
	require.NoError(t, err)
	require.Equal(t, a.Fingerprint, b.Fingerprint, "same plan, different fingerprints")
	require.Equal(t, a.Events, b.Events)
	require.Equal(t, a.History, b.History)
	return a
}

// RequirePass fails t unless res passed. On failure it shrinks the plan,
// writes the shrunk plan to a file in the temporary directory and prints
// the command that replays it.
func RequirePass(t TB, plan *scenarios.Plan, res *reports.Result) {
	t.Helper()
	if res.Passed() {
		return
	}
	path, replay := SaveFailure(plan)
	require.Failf(t, "scenario failed", "%s\nplan:   %s\nreplay: %s", res.Explain(), path, replay)
}

// SaveFailure shrinks a failing plan (within ShrinkBudget runs; the
// original plan if it cannot) and writes it to
// $TMPDIR/sofasim-failures/<scenario>-seed<N>.json. It returns the path
// and the replay command.
func SaveFailure(plan *scenarios.Plan) (path, replay string) {
	small := plan
	if s, err := scenarios.Shrink(plan, scenarios.ShrinkOptions{Budget: ShrinkBudget}); err == nil {
		small = s.Plan
	}
	dir := filepath.Join(os.TempDir(), "sofasim-failures")
	path = filepath.Join(dir, fmt.Sprintf("%s-seed%d.json", plan.Scenario, plan.Seed))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "(could not save the plan: " + err.Error() + ")"
	}
	if err := os.WriteFile(path, small.Marshal(), 0o644); err != nil {
		return "", "(could not save the plan: " + err.Error() + ")"
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return path, Prog + " replay " + scenarios.ShellQuote(path)
}

// Check is the standard test of a scenario: rapid draws plans with the
// given parameters (shrinking and failfiles come with it) and each must
// pass; seed 42 runs twice to the same fingerprint and seed 43 differs.
func Check(t *testing.T, name string, params map[string]string) {
	sc, err := scenarios.Lookup(name)
	require.NoError(t, err)
	t.Run("rapid", func(t *testing.T) {
		gen := sc.Generator(params, nil)
		rapid.Check(t, func(rt *rapid.T) {
			plan := gen.Draw(rt, "plan")
			res, err := scenarios.Run(&plan, scenarios.Options{})
			require.NoError(rt, err)
			RequirePass(rt, &plan, res)
		})
	})
	t.Run("deterministic", func(t *testing.T) {
		plan, err := scenarios.PlanForSeed(name, 42, params, nil)
		require.NoError(t, err)
		res := RunTwice(t, plan)
		other, err := scenarios.PlanForSeed(name, 43, params, nil)
		require.NoError(t, err)
		res2, err := scenarios.Run(other, scenarios.Options{})
		require.NoError(t, err)
		require.NotEqual(t, res.Fingerprint, res2.Fingerprint, "different seeds, same fingerprint")
	})
}

// RapidSeed is the seed rapid starts from when neither -rapid.seed nor
// RAPID_SEED names one: go test draws the same plans on every run, so a
// red CI is a finding about the change, not a lottery ticket. Set
// SOFASIM_RAPID=explore to let rapid draw a fresh seed each run.
const RapidSeed = 20261201

// RapidDefaults lowers rapid's default number of checks to n (each check is
// a whole simulated run) unless -rapid.checks asked for a number, and fixes
// its starting seed as RapidSeed says. Call it from TestMain after
// flag.Parse.
func RapidDefaults(n int) {
	if f := flag.Lookup("rapid.checks"); f != nil && f.Value.String() == "100" {
		_ = f.Value.Set(fmt.Sprint(n))
	}
	if os.Getenv("SOFASIM_RAPID") == "explore" || os.Getenv("RAPID_SEED") != "" {
		return
	}
	if f := flag.Lookup("rapid.seed"); f != nil && f.Value.String() == "0" {
		_ = f.Value.Set(fmt.Sprint(RapidSeed))
	}
}

// Totals are what Speedup measured over its runs: virtual time, the
// simulation's wall time, the process's CPU time and allocations while
// scenarios.Run ran (plan drawing and each left out), and events.
type Totals struct {
	Virtual, Wall, CPU time.Duration
	Events, Mallocs    uint64
}

// Speedup runs seeds 1..b.N of a scenario and reports the simulation's
// virtual/wall speed-up, its virtual time per CPU second of the process
// (speedup-cpu), its events per wall second and the wall time per run;
// each, when set, sees every result (to time a checker, say).
func Speedup(b *testing.B, name string, params map[string]string, each func(*reports.Result)) Totals {
	var t Totals
	var ms runtime.MemStats
	for i := 0; i < b.N; i++ {
		plan, err := scenarios.PlanForSeed(name, uint64(i+1), params, nil)
		if err != nil {
			b.Fatal(err)
		}
		runtime.ReadMemStats(&ms)
		m0, c0 := ms.Mallocs, CPUTime()
		res, err := scenarios.Run(plan, scenarios.Options{})
		if err != nil {
			b.Fatal(err)
		}
		t.CPU += CPUTime() - c0
		runtime.ReadMemStats(&ms)
		t.Mallocs += ms.Mallocs - m0
		t.Virtual += time.Duration(res.Virtual)
		t.Wall += time.Duration(res.SimWallSeconds * float64(time.Second))
		t.Events += res.Events
		if each != nil {
			each(res)
		}
	}
	b.ReportMetric(float64(t.Virtual)/float64(t.Wall), "speedup")
	if t.CPU > 0 {
		b.ReportMetric(float64(t.Virtual)/float64(t.CPU), "speedup-cpu")
	}
	b.ReportMetric(float64(t.Events)/t.Wall.Seconds(), "events/s")
	b.ReportMetric(float64(t.Wall.Microseconds())/float64(b.N)/1000, "sim-ms/op")
	return t
}

// Pin says where a planted bug is found: its scenario, the first failing
// seed of a sweep and, when set, a checker that must fail there.
type Pin struct {
	Scenario string
	Seed     uint64
	Checker  string
}

// PlantedBugs checks that every bug of a system is pinned and found at its
// pin, twice alike, by the pinned checker, and that the same seed passes
// with the bug disarmed. Generator or node changes move the seeds: measure
// again with `sofasim sweep SCENARIO --seeds 1..200 --bug NAME`.
func PlantedBugs(t *testing.T, bugs []sim.Bug, pins map[string]Pin) {
	for _, b := range bugs {
		t.Run(b.Name, func(t *testing.T) {
			at, ok := pins[b.Name]
			require.Truef(t, ok, "no detection seed recorded for %s", b.Name)
			plan, err := scenarios.PlanForSeed(at.Scenario, at.Seed, nil, []string{b.Name})
			require.NoError(t, err)
			res := RunTwice(t, plan)
			require.Falsef(t, res.Passed(), "%s is no longer found by %s at seed %d: measure again with sofasim sweep", b.Name, at.Scenario, at.Seed)
			if at.Checker != "" {
				require.Truef(t, slices.ContainsFunc(res.Checks, func(c checkers.Result) bool {
					return c.Checker == at.Checker && c.Verdict == checkers.Fail
				}), "%s at seed %d: %s did not fail (failures: %v)", b.Name, at.Seed, at.Checker, res.Failures)
			}
			t.Logf("%s found by %s at seed %d: %s", b.Name, at.Scenario, at.Seed, res.Failures[0])
			clean, err := scenarios.PlanForSeed(at.Scenario, at.Seed, nil, nil)
			require.NoError(t, err)
			res, err = scenarios.Run(clean, scenarios.Options{})
			require.NoError(t, err)
			require.Truef(t, res.Passed(), "without the bug: %s", res.Explain())
		})
	}
}

// Regressions replays every plan in dir (plans that once failed, fixed
// since) and requires each to say why it exists and to pass, twice alike.
func Regressions(t *testing.T, dir string) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			plan, err := scenarios.LoadPlan(f)
			require.NoError(t, err)
			require.NotEmpty(t, plan.Note, "a regression plan says why it exists")
			res := RunTwice(t, plan)
			require.Truef(t, res.Passed(), "%s\n(%s)", res.Explain(), plan.Note)
		})
	}
}
