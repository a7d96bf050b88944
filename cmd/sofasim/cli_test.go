package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/reports"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

// Seeds of testonly-kv with the outcomes the tests need, found by running
// the scenario (so that a change to the shared plan generators does not
// silently turn a test into a no-op).
var (
	seedsOnce sync.Once
	staleSeed string   // fails with the stale-read bug, default parameters
	panicSeed string   // panics with the panic bug and ops=100
	richArgs  []string // a seed with crashes and pauses that fails with the stale-read bug
)

func findSeeds(t testing.TB) {
	t.Helper()
	seedsOnce.Do(func() {
		find := func(params map[string]string, bug string, ok func(*scenarios.Plan, *reports.Result) bool) string {
			for seed := uint64(1); seed <= 200; seed++ {
				p, err := scenarios.PlanForSeed(testScenario, seed, params, []string{bug})
				require.NoError(t, err)
				res, err := scenarios.Run(p, scenarios.Options{})
				require.NoError(t, err)
				if ok(p, res) {
					return fmt.Sprint(seed)
				}
			}
			t.Fatalf("no seed of %s with %v and %s does what the tests need", testScenario, params, bug)
			return ""
		}
		fails := func(_ *scenarios.Plan, r *reports.Result) bool { return r.Verdict == checkers.Fail }
		staleSeed = find(nil, bugStaleRead, fails)
		panicSeed = find(map[string]string{"ops": "100"}, bugPanic, func(_ *scenarios.Plan, r *reports.Result) bool {
			return len(r.Findings) > 0 && r.Findings[0].Kind == "panic"
		})
		rich := find(map[string]string{"faults": "8"}, bugStaleRead, func(p *scenarios.Plan, r *reports.Result) bool {
			kinds := map[sim.FaultKind]int{}
			for _, f := range p.Faults {
				kinds[f.Kind()]++
			}
			return r.Verdict == checkers.Fail && kinds[sim.FaultCrash] > 0 && kinds[sim.FaultPause] > 0 && len(p.Faults) > 4
		})
		richArgs = []string{"--seed", rich, "--param", "faults=8", "--bug", bugStaleRead}
	})
}

func readJSON(t testing.TB, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m), path)
	return m
}

func parseJSON(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m), s)
	return m
}

func TestEveryCommandHasExamples(t *testing.T) {
	root := newRoot(io.Discard, io.Discard)
	var names []string
	for _, c := range root.Commands() {
		if c.Hidden {
			continue
		}
		names = append(names, c.Name())
		assert.NotEmpty(t, c.Example, "%s has no examples", c.Name())
		assert.NotEmpty(t, c.Short, c.Name())
	}
	for _, want := range []string{"list", "run", "sweep", "replay", "shrink", "check", "merge", "bench", "version"} {
		assert.Contains(t, names, want)
	}
	code, out, _ := cli(t, "sweep", "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "Examples:")
}

func TestList(t *testing.T) {
	code, out, _ := cli(t, "list")
	require.Equal(t, 0, code)
	assert.Regexp(t, `testonly-kv\s+test only: one durable key-value server`, out)
	assert.Regexp(t, `clients\s+an integer in 1..8, default 3\s+workload clients`, out)
	assert.Equal(t, 1, strings.Count(out, "bug/raftkv/stale-read"), "one block per system, not per scenario")
	assert.Contains(t, out, bugStaleRead)

	code, out, _ = cli(t, "list", "--json")
	require.Equal(t, 0, code)
	var got listOutput
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	var sc *listedScenario
	for i := range got.Scenarios {
		if got.Scenarios[i].Name == testScenario {
			sc = &got.Scenarios[i]
		}
	}
	require.NotNil(t, sc)
	assert.Equal(t, "clients", sc.Params[0].Name)
	assert.Equal(t, "3", sc.Params[0].Default)
	assert.Len(t, sc.Bugs, 2)
}

func TestRunPassFailAndFinding(t *testing.T) {
	findSeeds(t)
	dir := t.TempDir()

	pass := filepath.Join(dir, "pass")
	code, out, errOut := cli(t, "run", testScenario, "--seed", "3", "--out", pass)
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "testonly-kv seed 3: PASS")
	assert.Contains(t, out, "replay  sofasim run testonly-kv --seed 3")
	for _, f := range []string{fileResult, fileHTML, fileHistory} {
		assert.FileExists(t, filepath.Join(pass, f))
	}
	assert.NoFileExists(t, filepath.Join(pass, fileFailure))

	fail := filepath.Join(dir, "fail")
	code, out, _ = cli(t, "run", testScenario, "--seed", staleSeed, "--bug", bugStaleRead, "--out", fail, "--json")
	require.Equal(t, 1, code, out)
	res := parseJSON(t, out)
	assert.Equal(t, testScenario, res["scenario"])
	assert.Equal(t, staleSeed, fmt.Sprint(res["seed"]))
	assert.Equal(t, "fail", res["verdict"])
	assert.Regexp(t, `^[0-9a-f]{16}$`, res["fingerprint"])
	assert.Greater(t, res["events"], 0.0)
	assert.Greater(t, res["virtual_seconds"], 0.0)
	assert.Contains(t, res, "wall_seconds")
	require.Contains(t, res, "build", "every result records the build that made it")
	assert.Equal(t, runtime.Version(), res["build"].(map[string]any)["go"])
	require.NotEmpty(t, res["failures"])
	assert.True(t, strings.HasPrefix(res["failures"].([]any)[0].(string), "linearizable: not linearizable"))
	assert.Equal(t, "sofasim replay "+filepath.Join(fail, fileFailure), res["replay"])
	assert.Equal(t, "sofasim run testonly-kv --seed "+staleSeed+" --bug "+bugStaleRead, res["run_command"])
	failure, err := os.ReadFile(filepath.Join(fail, fileFailure))
	require.NoError(t, err)
	result, err := os.ReadFile(filepath.Join(fail, fileResult))
	require.NoError(t, err)
	assert.Equal(t, string(result), string(failure))
	assert.Equal(t, out, string(result), "--json prints the result file")

	// The exit code reaches the shell the same way from a process.
	code, out, _ = cliProc(t, "run", testScenario, "--seed", staleSeed, "--bug", bugStaleRead, "--out", filepath.Join(dir, "proc"))
	assert.Equal(t, 1, code, out)
	code, _, errOut = cliProc(t, "run", testScenario, "--bug", "bug/nope", "--out", filepath.Join(dir, "proc"))
	assert.Equal(t, 2, code)
	assert.True(t, oneLine(errOut), errOut)

	panicked := filepath.Join(dir, "panic")
	code, out, _ = cli(t, "run", testScenario, "--seed", panicSeed, "--param", "ops=100", "--bug", bugPanic, "--out", panicked)
	require.Equal(t, 1, code, out)
	assert.Contains(t, out, "FAIL panic in server")
	rep, err := reports.ReadResult(filepath.Join(panicked, fileFailure))
	require.NoError(t, err)
	require.NotEmpty(t, rep.Findings)
	assert.Contains(t, rep.Findings[0].Value, "planted bug")
	assert.Contains(t, rep.Findings[0].Stack, "(*kvServer).Message(...)")
}

// TestRunDefaultOutputFolder: every run without --out gets a new folder
// under out/SCENARIO, and out/SCENARIO/latest points at the newest.
func TestRunDefaultOutputFolder(t *testing.T) {
	t.Chdir(t.TempDir())
	code, out, _ := cli(t, "run", testScenario, "--seed", "5")
	require.Equal(t, 0, code)
	assert.FileExists(t, filepath.Join("out", testScenario, "latest", fileResult))
	first, err := os.Readlink(filepath.Join("out", testScenario, "latest"))
	require.NoError(t, err)
	assert.Regexp(t, `^\d{8}T\d{6}Z-seed5$`, first)
	assert.Contains(t, out, filepath.Join("out", testScenario, first, fileHTML))

	code, _, _ = cli(t, "run", testScenario, "--seed", "5")
	require.Equal(t, 0, code)
	second, err := os.Readlink(filepath.Join("out", testScenario, "latest"))
	require.NoError(t, err)
	assert.NotEqual(t, first, second, "a second run does not overwrite the first")
	assert.FileExists(t, filepath.Join("out", testScenario, first, fileResult))
	assert.FileExists(t, filepath.Join("out", testScenario, second, fileResult))
}

// TestExplicitOutFolder: --out takes a new or empty folder, or replaces an
// earlier sofasim output; a folder with other files is refused.
func TestExplicitOutFolder(t *testing.T) {
	findSeeds(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "r")
	code, _, _ := cli(t, "run", testScenario, "--seed", staleSeed, "--bug", bugStaleRead, "--out", out)
	require.Equal(t, 1, code)
	assert.DirExists(t, filepath.Join(out, "logs"), "a failing run keeps its node logs")
	code, _, errOut := cli(t, "run", testScenario, "--seed", "3", "--out", out)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "held an earlier output; it was replaced")
	assert.NoFileExists(t, filepath.Join(out, fileFailure), "nothing of the earlier run is left")
	assert.NoDirExists(t, filepath.Join(out, "logs"))

	mine := filepath.Join(dir, "mine")
	require.NoError(t, os.MkdirAll(mine, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(mine, "notes.txt"), []byte("x"), 0o644))
	code, _, errOut = cli(t, "run", testScenario, "--seed", "3", "--out", mine)
	assert.Equal(t, 2, code)
	assert.True(t, oneLine(errOut), errOut)
	assert.Contains(t, errOut, "holds notes.txt, which sofasim did not write")
	assert.FileExists(t, filepath.Join(mine, "notes.txt"))
}

var wallFields = regexp.MustCompile(`"(wall_seconds|sim_wall_seconds|speedup)": [0-9.e+-]+`)
var wallHTML = regexp.MustCompile(`(<[a-z]+ data-wall>)[^<]*`)

// TestRunIsDeterministic: the reports of a run are byte-identical but for
// the wall-time fields.
func TestRunIsDeterministic(t *testing.T) {
	findSeeds(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "run")
	read := func() map[string]string {
		m := map[string]string{}
		for _, f := range []string{fileResult, fileFailure, fileHTML, fileHistory} {
			data, err := os.ReadFile(filepath.Join(out, f))
			require.NoError(t, err)
			s := wallFields.ReplaceAllString(string(data), `"$1": 0`)
			m[f] = wallHTML.ReplaceAllString(s, "$1")
		}
		return m
	}
	code, _, _ := cli(t, append([]string{"run", testScenario, "--out", out}, richArgs...)...)
	require.Equal(t, 1, code)
	first := read()
	code, _, _ = cli(t, append([]string{"run", testScenario, "--out", out}, richArgs...)...)
	require.Equal(t, 1, code)
	assert.Equal(t, first, read())
	assert.Contains(t, first[fileResult], `"kind": "crash"`)
	assert.Contains(t, first[fileResult], `"kind": "pause"`)
}

func TestRunTrace(t *testing.T) {
	out := t.TempDir()
	code, _, _ := cli(t, "run", testScenario, "--seed", "2", "--out", out, "--trace")
	require.Equal(t, 0, code)
	f, err := os.Open(filepath.Join(out, fileTrace))
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		var rec map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec))
		n++
	}
	assert.Greater(t, n, 10)
}

func TestRunPlanFile(t *testing.T) {
	findSeeds(t)
	dir := t.TempDir()
	code, _, _ := cli(t, append([]string{"run", testScenario, "--out", filepath.Join(dir, "a")}, richArgs...)...)
	require.Equal(t, 1, code)
	rep, err := reports.ReadResult(filepath.Join(dir, "a", fileFailure))
	require.NoError(t, err)
	plan := filepath.Join(dir, "plan.json")
	require.NoError(t, os.WriteFile(plan, rep.Plan, 0o644))

	code, out, _ := cli(t, "run", "--plan", plan, "--out", filepath.Join(dir, "b"), "--json")
	require.Equal(t, 1, code)
	assert.Equal(t, rep.Fingerprint, parseJSON(t, out)["fingerprint"])
	code, _, _ = cli(t, "run", testScenario, "--plan", plan, "--out", filepath.Join(dir, "c"))
	require.Equal(t, 1, code)
}

// TestMessagesNameWhatIsWrong: the messages of the bad inputs a newcomer
// meets name the argument or flag and what it takes, not Go's parse errors.
func TestMessagesNameWhatIsWrong(t *testing.T) {
	t.Chdir(t.TempDir()) // nothing here is written anyway
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", testScenario, "--seed", "-1"}, "sofasim: run: --seed -1: a seed is a whole number from 0 to 18446744073709551615\n"},
		{[]string{"sweep", testScenario, "--seeds", "1..2", "--check-timeout", "-1s"}, "sofasim: sweep: --check-timeout must not be negative (0: no limit), not -1s\n"},
		{[]string{"sweep", testScenario, "--seeds", "1..2", "--seed-timeout", "0s"}, "sofasim: sweep: --seed-timeout must be positive, not 0s\n"},
		{[]string{"sweep", testScenario, "--seeds", "1..2", "--workers", "many"}, "sofasim: sweep: --workers many: want a whole number\n"},
		{[]string{"sweep", testScenario, "--seeds", "1..2", "--seed-timeout", "soon"}, "sofasim: sweep: --seed-timeout soon: want a duration such as 500ms, 30s or 2m\n"},
		{[]string{"sweep", "--seeds", "1..2"}, "sofasim: sweep: name the SCENARIO to sweep (sofasim list shows them)\n"},
		{[]string{"sweep", "a", "b"}, "sofasim: sweep takes one SCENARIO, not 2 (a b)\n"},
		{[]string{"run", "a", "b"}, "sofasim: run takes one SCENARIO, not 2 (a b)\n"},
		{[]string{"run"}, "sofasim: run: name the SCENARIO to run (sofasim list shows them), or give --plan FILE\n"},
		{[]string{"replay"}, "sofasim: replay: name the FILE to replay: a failure.json, result.json or plan file\n"},
		{[]string{"shrink"}, "sofasim: shrink: name the failure FILE to shrink, such as out/raftkv-chaos/latest/12/failure.json\n"},
		{[]string{"shrink", "x.json", "--out", "min.json"}, "sofasim: shrink: --out names a folder (the shrunk failure.json, index.html and logs go in it), not min.json\n"},
		{[]string{"merge"}, "sofasim: merge: name the folders (DIR...) that hold the shards' summaries\n"},
		{[]string{"list", "x"}, "sofasim: list takes no arguments, not x\n"},
	} {
		code, _, stderr := cli(t, c.args...)
		assert.Equal(t, 2, code, "%v", c.args)
		assert.Equal(t, c.want, stderr, "%v", c.args)
	}
}

func TestBadInputIsExit2WithOneLine(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	malformed := filepath.Join(dir, "malformed.json")
	require.NoError(t, os.WriteFile(malformed, []byte(`{"version": 1, "scenario": `), 0o644))
	plan, err := scenarios.PlanForSeed(testScenario, 1, nil, nil)
	require.NoError(t, err)
	planFile := filepath.Join(dir, "plan.json")
	require.NoError(t, os.WriteFile(planFile, plan.Marshal(), 0o644))
	badPlan := filepath.Join(dir, "bad-plan.json")
	require.NoError(t, os.WriteFile(badPlan, bytes.Replace(plan.Marshal(), []byte(`"version": 2`), []byte(`"version": 9`), 1), 0o644))
	out := filepath.Join(dir, "out")

	for _, args := range [][]string{
		{"frobnicate"},
		{"run"},
		{"run", "a", "b"},
		{"run", "no-such-scenario"},
		{"run", testScenario, "--bug", "bug/testonly/nope", "--out", out},
		{"run", testScenario, "--param", "nope=1", "--out", out},
		{"run", testScenario, "--param", "clients=99", "--out", out},
		{"run", testScenario, "--param", "clients", "--out", out},
		{"run", testScenario, "--seed", "minus-one"},
		{"run", testScenario, "--frobnicate"},
		{"run", "--plan", filepath.Join(dir, "missing.json")},
		{"run", "--plan", malformed},
		{"run", "--plan", badPlan},
		{"run", "--plan", planFile, "--seed", "3"},
		{"run", "other-scenario", "--plan", planFile},
		{"run", testScenario, "--out", filepath.Join(file, "sub")},
		{"run", testScenario, "--out", file},
		{"replay"},
		{"replay", filepath.Join(dir, "missing.json")},
		{"replay", malformed},
		{"replay", file},
		{"replay", planFile, "--trace"},
		{"shrink", malformed},
		{"shrink", planFile, "--budget", "0"},
		{"sweep", testScenario},
		{"sweep", testScenario, "--seeds", "9..3", "--out", out},
		{"sweep", testScenario, "--seeds", "1..x", "--out", out},
		{"sweep", testScenario, "--seeds", "1..4", "--shard", "3/2", "--out", out},
		{"sweep", testScenario, "--seeds", "1..4", "--shard", "0/2", "--out", out},
		{"sweep", "no-such-scenario", "--seeds", "1..4", "--out", out},
		{"sweep", testScenario, "--seeds", "1..4", "--bug", "bug/nope", "--out", out},
		{"sweep", testScenario, "--seeds", "1..4", "--workers", "0", "--out", out},
		{"sweep", testScenario, "--seeds", "1..4", "--out", filepath.Join(file, "sub")},
		{"sweep", testScenario, "--seeds", "1..4", "--out", out, "--junit", filepath.Join(file, "j.xml")},
		{"check"},
		{"check", "--history", filepath.Join(dir, "missing")},
		{"check", "--history", "testdata/histories/kv-ok.edn", "--model", "nope"},
		{"check", "--history", "testdata/histories/kv-ok.edn", "--format", "yaml"},
		{"check", "--history", "testdata/histories/malformed.edn", "--model", "kv"},
		{"check", "--history", "testdata/histories/garbage.txt", "--model", "kv"},
		{"check", "--history", "testdata/histories/register-ok.log", "--model", "kv"},
		{"merge"},
		{"merge", filepath.Join(dir, "missing")},
		{"merge", dir},
		{"run", testScenario, "--seed", "-1"},
		{"sweep", testScenario, "--seeds", "1..4", "--check-timeout", "-1s", "--out", out},
		{"sweep", testScenario, "--seeds", "1..4", "--seed-timeout", "0s", "--out", out},
		{"sweep", testScenario, "--seeds", "1..4", "--logs", "all", "--out", out},
		{"sweep", testScenario, "--seeds", "1..4", "--workers", "many", "--out", out},
		{"sweep", testScenario, "--seeds", "1..4", "--seed-timeout", "soon", "--out", out},
		{"sweep"},
		{"sweep", "a", "b", "--seeds", "1..4"},
		{"shrink"},
		{"shrink", planFile, "--out", filepath.Join(dir, "min.json")},
		{"shrink", planFile, "--check-timeout", "-1s"},
		{"replay", "a", "b"},
		{"list", "extra"},
		{"version", "extra"},
		{"run", testScenario, "--out", dir}, // holds files sofasim did not write
	} {
		code, stdout, stderr := cli(t, args...)
		assert.Equal(t, 2, code, "%v: %s%s", args, stdout, stderr)
		assert.True(t, oneLine(stderr), "%v: not one line: %q", args, stderr)
		assert.True(t, strings.HasPrefix(stderr, "sofasim: "), "%v: %q", args, stderr)
	}
}

// makeFailure runs the rich failing seed into dir and returns its failure file.
func makeFailure(t *testing.T, dir string) string {
	t.Helper()
	findSeeds(t)
	code, out, errOut := cli(t, append([]string{"run", testScenario, "--out", dir}, richArgs...)...)
	require.Equal(t, 1, code, out+errOut)
	return filepath.Join(dir, fileFailure)
}

func TestReplay(t *testing.T) {
	dir := t.TempDir()
	failure := makeFailure(t, filepath.Join(dir, "run"))
	rec, err := reports.ReadResult(failure)
	require.NoError(t, err)

	code, out, _ := cli(t, "replay", failure)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "reproduced: fingerprint "+rec.Fingerprint)

	code, out, _ = cli(t, "replay", failure, "--json")
	assert.Equal(t, 1, code)
	res := parseJSON(t, out)
	assert.Equal(t, true, res["reproduced"])
	assert.Equal(t, rec.Fingerprint, res["fingerprint"])
	assert.Equal(t, "fail", res["verdict"])
	assert.Equal(t, "sofasim replay "+failure, res["replay"])

	code, _, _ = cli(t, "replay", failure, "--out", filepath.Join(dir, "again"), "--trace")
	assert.Equal(t, 1, code)
	assert.FileExists(t, filepath.Join(dir, "again", fileTrace))
	assert.FileExists(t, filepath.Join(dir, "again", fileHTML))

	// A recorded fingerprint that the run does not match is not a reproduction.
	data, err := os.ReadFile(failure)
	require.NoError(t, err)
	tampered := filepath.Join(dir, "tampered.json")
	other := "0123456789abcdef"
	require.NotEqual(t, other, rec.Fingerprint)
	require.NoError(t, os.WriteFile(tampered, bytes.Replace(data, []byte(rec.Fingerprint), []byte(other), 1), 0o644))
	code, _, errOut := cli(t, "replay", tampered)
	assert.Equal(t, 3, code)
	assert.Contains(t, errOut, "replay diverged: fingerprint "+rec.Fingerprint)
	assert.Contains(t, errOut, "recorded "+other)
	assert.Contains(t, errOut, "it was recorded by this very build", "a divergence names the build that recorded the file")

	// A bare plan reruns too.
	plan := filepath.Join(dir, "plan.json")
	require.NoError(t, os.WriteFile(plan, rec.Plan, 0o644))
	code, out, _ = cli(t, "replay", plan, "--json")
	assert.Equal(t, 1, code)
	assert.Equal(t, rec.Fingerprint, parseJSON(t, out)["fingerprint"])
	assert.NotContains(t, parseJSON(t, out), "reproduced")
}

func TestShrink(t *testing.T) {
	dir := t.TempDir()
	failure := makeFailure(t, filepath.Join(dir, "run"))
	rec, err := reports.ReadResult(failure)
	require.NoError(t, err)
	orig, err := scenarios.ParsePlan(rec.Plan)
	require.NoError(t, err)
	require.Greater(t, len(orig.Faults), 4)

	shrink := func(dir string) (*scenarios.Plan, string) {
		code, stdout, stderr := cli(t, "shrink", failure, "--out", dir)
		require.Equal(t, 1, code, stdout+stderr)
		out := filepath.Join(dir, fileFailure)
		rep, err := reports.ReadResult(out)
		require.NoError(t, err)
		p, err := scenarios.ParsePlan(rep.Plan)
		require.NoError(t, err)
		assert.Equal(t, "fail", string(rep.Verdict))
		assert.Equal(t, "sofasim replay "+out, rep.Replay)
		assert.FileExists(t, filepath.Join(dir, fileHTML))
		assert.FileExists(t, filepath.Join(dir, fileHistory))
		return p, stdout
	}
	small, out := shrink(filepath.Join(dir, "a"))
	assert.Contains(t, out, fmt.Sprintf("%d fault events -> %d", len(orig.Faults), len(small.Faults)))
	assert.Contains(t, out, fmt.Sprintf("; %d ops -> %d", len(orig.Ops), len(small.Ops)))
	assert.Less(t, len(small.Faults), len(orig.Faults))
	assert.Less(t, len(small.Ops), len(orig.Ops))
	assert.LessOrEqual(t, len(small.Ops), 8)
	assert.GreaterOrEqual(t, len(small.Ops), 3, "a stale read needs two writes and a read")
	assert.LessOrEqual(t, small.Duration, orig.Duration)

	again, _ := shrink(filepath.Join(dir, "b"))
	assert.Equal(t, string(small.Marshal()), string(again.Marshal()), "shrinking is deterministic")

	code, _, _ := cli(t, "replay", filepath.Join(dir, "a", fileFailure))
	assert.Equal(t, 1, code, "the shrunk failure replays")

	// The default output goes next to the input; a small budget is noted.
	code, out, _ = cli(t, "shrink", failure, "--budget", "3", "--json")
	require.Equal(t, 1, code)
	so := parseJSON(t, out)
	assert.Equal(t, filepath.Join(dir, "run", "shrunk", fileFailure), so["file"])
	code, out, _ = cli(t, "shrink", failure, "--budget", "3", "--json")
	require.Equal(t, 1, code)
	assert.Equal(t, filepath.Join(dir, "run", "shrunk-2", fileFailure), parseJSON(t, out)["file"], "a second shrink does not overwrite the first")
	assert.Equal(t, true, so["exhausted"])
	assert.Equal(t, 3.0, so["runs"])
	assert.Equal(t, "checker linearizable failing", so["kept"])

	// A passing run has nothing to shrink.
	code, _, _ = cli(t, "run", testScenario, "--seed", "3", "--out", filepath.Join(dir, "pass"))
	require.Equal(t, 0, code)
	code, _, errOut := cli(t, "shrink", filepath.Join(dir, "pass", fileResult))
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "does not fail")
	code, _, errOut = cli(t, "shrink", failure, "--keep", "nope")
	assert.Equal(t, 2, code)
	assert.True(t, oneLine(errOut), errOut)
	assert.Contains(t, errOut, "--keep nope: "+failure+" did not fail that way; --keep takes a failing checker or finding kind of it: linearizable")
}

func TestShrinkKeepsAFinding(t *testing.T) {
	dir := t.TempDir()
	findSeeds(t)
	code, _, _ := cli(t, "run", testScenario, "--seed", panicSeed, "--param", "ops=100", "--bug", bugPanic, "--out", dir)
	require.Equal(t, 1, code)
	out := filepath.Join(dir, "min", "failure.json")
	code, stdout, _ := cli(t, "shrink", filepath.Join(dir, fileFailure), "--out", filepath.Dir(out))
	require.Equal(t, 1, code)
	assert.Contains(t, stdout, "kept     finding panic")
	rep, err := reports.ReadResult(out)
	require.NoError(t, err)
	p, err := scenarios.ParsePlan(rep.Plan)
	require.NoError(t, err)
	require.Len(t, p.Ops, 1, "one delete is enough to panic")
	assert.Contains(t, string(p.Ops[0]), `"kind": "delete"`)
	assert.Empty(t, p.Faults)
}

func TestCheck(t *testing.T) {
	h := "testdata/histories/"
	for _, c := range []struct {
		args    []string
		code    int
		verdict string
	}{
		{[]string{h + "register-ok.log", "--model", "cas-register"}, 0, "pass"},
		{[]string{h + "register-ok.log"}, 0, "pass"}, // model and format from the file
		{[]string{h + "register-bad.log", "--model", "cas-register", "--format", "jepsen"}, 1, "fail"},
		{[]string{h + "kv-ok.edn", "--model", "kv", "--format", "edn"}, 0, "pass"},
		{[]string{h + "kv-bad.edn", "--model", "kv"}, 1, "fail"},
		{[]string{h + "init.json", "--model", "kv"}, 1, "fail"},
		{[]string{h + "init.json", "--model", "kv", "--init", "0"}, 0, "pass"},
	} {
		args := append([]string{"check", "--json", "--history"}, c.args...)
		code, out, errOut := cli(t, args...)
		require.Equal(t, c.code, code, "%v: %s%s", c.args, out, errOut)
		assert.Equal(t, c.verdict, parseJSON(t, out)["verdict"], "%v", c.args)
	}
	code, out, _ := cli(t, "check", "--history", h+"register-bad.log", "--html", filepath.Join(t.TempDir(), "p.html"))
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "FAIL (3 ops, model cas-register, format jepsen")
	assert.Contains(t, out, "visualisation")

	// A run's own history checks offline to the same verdict.
	dir := t.TempDir()
	makeFailure(t, dir)
	code, out, _ = cli(t, "check", "--history", filepath.Join(dir, fileHistory), "--model", "kv", "--json")
	assert.Equal(t, 1, code)
	assert.Equal(t, "json", parseJSON(t, out)["format"])
}

// TestExamples: the histories the README points to give the verdicts
// docs/examples/README.md says they give.
func TestExamples(t *testing.T) {
	for _, args := range [][]string{
		{"--history", "../../docs/examples/stale-read.json", "--model", "kv"},
		{"--history", "../../docs/examples/register-stale.log"},
	} {
		code, out, errOut := cli(t, append([]string{"check"}, args...)...)
		assert.Equal(t, 1, code, out+errOut)
		assert.Contains(t, out, "FAIL")
	}
}

// TestLogsSkippedForHugeRuns: a failing run with more events than are
// worth tracing again keeps no node logs, and its report says why.
func TestLogsSkippedForHugeRuns(t *testing.T) {
	findSeeds(t)
	seed, err := strconv.ParseUint(staleSeed, 10, 64)
	require.NoError(t, err)
	plan, err := scenarios.PlanForSeed(testScenario, seed, nil, []string{bugStaleRead})
	require.NoError(t, err)
	rep, err := execute(plan, scenarios.Options{})
	require.NoError(t, err)
	require.Equal(t, checkers.Fail, rep.Verdict)
	rep.Events = maxLogEvents + 1
	dir := t.TempDir()
	wr, err := writeRun(dir, plan, rep, writeOpts{logs: true})
	require.NoError(t, err)
	assert.Empty(t, wr.logs)
	assert.NoDirExists(t, filepath.Join(dir, "logs"))
	page, err := os.ReadFile(wr.html)
	require.NoError(t, err)
	assert.Contains(t, string(page), "No node logs were kept: the run has 500001 events")
}
