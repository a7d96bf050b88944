package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/reports"
)

// The sweeps here run in this process; their workers are this test binary
// re-executed (see TestMain), so they know the test-only scenario.

func readSweep(t testing.TB, path string) *reports.Sweep {
	t.Helper()
	s, err := reports.ReadSweep(path)
	require.NoError(t, err)
	return s
}

func TestSweep(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	junit := filepath.Join(dir, "junit", "sweep.xml")
	code, stdout, stderr := cli(t, "sweep", testScenario, "--seeds", "1..12", "--workers", "2", "--bug", bugStaleRead,
		"--out", out, "--junit", junit, "--progress", "never")
	require.Equal(t, 1, code, stdout+stderr)
	assert.Empty(t, stderr, "no progress bar when stderr is not a terminal")

	s := readSweep(t, filepath.Join(out, "sweep.json"))
	require.Len(t, s.Results, 12)
	assert.Equal(t, uint64(12), s.Seeds)
	assert.Equal(t, s.Seeds, s.Passed+s.Failed)
	require.NotEmpty(t, s.Failures)
	assert.Zero(t, s.Unknown)
	for i, r := range s.Results {
		assert.Equal(t, uint64(i+1), r.Seed)
		assert.Regexp(t, `^[0-9a-f]{16}$`, r.Fingerprint)
	}
	for _, f := range s.Failures {
		assert.Equal(t, fmt.Sprintf("%d/failure.json", f.Seed), f.File)
		rep, err := reports.ReadResult(filepath.Join(out, f.File))
		require.NoError(t, err)
		assert.Equal(t, checkers.Fail, rep.Verdict)
		assert.FileExists(t, filepath.Join(out, f.Report))
		assert.NoFileExists(t, filepath.Join(out, fmt.Sprint(f.Seed), fileResult))
		assert.Equal(t, "sofasim replay "+filepath.Join(out, f.File), f.Replay)
		assert.Contains(t, stdout, fmt.Sprintf("FAIL seed %d: linearizable: not linearizable", f.Seed))
	}
	assert.FileExists(t, filepath.Join(out, fileHTML))
	assert.Regexp(t, `summary\s+`+regexp.QuoteMeta(filepath.Join(out, fileHTML)), stdout)
	// The summary says how it ran: the command, the build, when.
	assert.Equal(t, "sofasim sweep "+testScenario+" --bug "+bugStaleRead+" --junit "+junit+" --out "+out+" --progress never --seeds 1..12 --workers 2", s.Command)
	require.NotNil(t, s.Build)
	assert.Equal(t, reports.ThisBuild(), *s.Build)
	_, err := time.Parse(time.RFC3339, s.Started)
	assert.NoError(t, err)
	page, err := os.ReadFile(filepath.Join(out, fileHTML))
	require.NoError(t, err)
	assert.Contains(t, string(page), `<pre id="command">sofasim sweep testonly-kv`)
	// Failing seeds keep their node logs; passing seeds leave nothing.
	for _, r := range s.Results {
		if r.Verdict == checkers.Fail {
			assert.FileExists(t, filepath.Join(out, fmt.Sprint(r.Seed), "logs", "server.log"))
		} else {
			assert.NoDirExists(t, filepath.Join(out, fmt.Sprint(r.Seed)))
		}
	}
	assert.Regexp(t, `failed\s+\d+`, stdout)

	// A worker's run is the run of that seed in this process, to the bit.
	f := s.Failures[0]
	code, runOut, _ := cli(t, "run", testScenario, "--seed", fmt.Sprint(f.Seed), "--bug", bugStaleRead, "--out", filepath.Join(dir, "again"), "--json")
	require.Equal(t, 1, code)
	assert.Equal(t, s.Results[f.Seed-1].Fingerprint, parseJSON(t, runOut)["fingerprint"])
	code, _, _ = cli(t, "replay", filepath.Join(out, f.File))
	assert.Equal(t, 1, code, "a sweep's failure file replays")

	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	data, err := os.ReadFile(junit)
	require.NoError(t, err)
	require.NoError(t, xml.Unmarshal(data, &doc))
	assert.Equal(t, 12, doc.Tests)
	assert.Equal(t, int(s.Failed), doc.Failures)
	assert.Contains(t, string(data), "replay: sofasim replay "+filepath.Join(out, f.File))

	// --json prints the summary, with paths from here, and nothing else.
	code, stdout, stderr = cli(t, "sweep", testScenario, "--seeds", "1..12", "--workers", "2", "--bug", bugStaleRead,
		"--out", out, "--json")
	require.Equal(t, 1, code)
	res := parseJSON(t, stdout)
	for _, k := range []string{"seeds", "passed", "failed", "unknown", "failures"} {
		assert.Contains(t, res, k)
	}
	assert.NotContains(t, res, "results")
	assert.Equal(t, 12.0, res["seeds"])
	first := res["failures"].([]any)[0].(map[string]any)
	assert.Equal(t, float64(f.Seed), first["seed"])
	assert.Equal(t, filepath.Join(out, f.File), first["file"])
	assert.Contains(t, stderr, "FAIL seed", "with --json, failing seeds are reported on stderr")

	// The summary is deterministic but for wall time.
	again := readSweep(t, filepath.Join(out, "sweep.json"))
	for i := range again.Results {
		again.Results[i].WallSeconds = s.Results[i].WallSeconds
	}
	again.WallSeconds, again.SeedsPerSecond, again.Started, again.Command = s.WallSeconds, s.SeedsPerSecond, s.Started, s.Command
	assert.Equal(t, string(s.Marshal()), string(again.Marshal()))
}

func TestSweepPassesWithoutBugs(t *testing.T) {
	out := t.TempDir()
	code, stdout, _ := cli(t, "sweep", testScenario, "--seeds", "1..6", "--workers", "3", "--out", out)
	require.Equal(t, 0, code, stdout)
	s := readSweep(t, filepath.Join(out, "sweep.json"))
	assert.Equal(t, uint64(6), s.Passed)
	entries, err := os.ReadDir(out)
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, e.IsDir(), "a passing seed leaves no folder: %s", e.Name())
	}
}

// TestSweepCapsWorkers: more workers than CPUs only make seeds run out of
// time, so the sweep lowers the count and says so.
func TestSweepCapsWorkers(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := cli(t, "sweep", testScenario, "--seeds", "1..3", "--workers", "1000", "--out", out, "--logs", "none")
	require.Equal(t, 0, code, stdout+stderr)
	assert.True(t, oneLine(stderr), stderr)
	assert.Regexp(t, `^sofasim: note: --workers 1000 lowered to \d+: this machine lets sofasim use \d+ CPUs?`, stderr)
	s := readSweep(t, filepath.Join(out, "sweep.json"))
	assert.LessOrEqual(t, s.Workers, runtime.GOMAXPROCS(0))
	assert.GreaterOrEqual(t, s.Workers, 1)

	n, why := capWorkers(1, 10)
	assert.Equal(t, 1, n)
	assert.Empty(t, why, "a request the machine can run is not noted")
	n, _ = capWorkers(runtime.GOMAXPROCS(0), 1)
	assert.Equal(t, 1, n, "no more workers than seeds")
}

// TestSweepDefaultFolders: each sweep without --out gets a folder of its
// own, so an earlier sweep's failing seeds never show up in a later one.
func TestSweepDefaultFolders(t *testing.T) {
	t.Chdir(t.TempDir())
	code, _, _ := cli(t, "sweep", testScenario, "--seeds", "1..4", "--bug", bugStaleRead, "--logs", "none")
	require.Equal(t, 1, code)
	first, err := os.Readlink(filepath.Join("out", testScenario, "latest"))
	require.NoError(t, err)
	assert.Regexp(t, `^\d{8}T\d{6}Z-seeds1-4$`, first)
	failed := readSweep(t, filepath.Join("out", testScenario, first, "sweep.json")).Failures
	require.NotEmpty(t, failed)
	assert.NoDirExists(t, filepath.Join("out", testScenario, first, fmt.Sprint(failed[0].Seed), "logs"), "--logs none")

	code, stdout, _ := cli(t, "sweep", testScenario, "--seeds", "1..4")
	require.Equal(t, 0, code, stdout)
	second, err := os.Readlink(filepath.Join("out", testScenario, "latest"))
	require.NoError(t, err)
	require.NotEqual(t, first, second)
	entries, err := os.ReadDir(filepath.Join("out", testScenario, second))
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, e.IsDir(), "no seed folder of the earlier sweep: %s", e.Name())
	}
	assert.Contains(t, stdout, filepath.Join("out", testScenario, second, fileHTML))
}

// A worker that exits, hangs or panics costs its seed a verdict, not the
// sweep: a fresh worker takes the next seed.
func TestSweepSurvivesWorkerFailures(t *testing.T) {
	out := t.TempDir()
	start := time.Now()
	code, stdout, stderr := cli(t, "sweep", testScenario, "--seeds", "1..9", "--workers", "2", "--out", out,
		"--param", "exit_seed=3", "--param", "hang_seed=5", "--param", "panic_seed=7", "--seed-timeout", "2s")
	require.Equal(t, 3, code, stdout+stderr)
	assert.Less(t, time.Since(start), 30*time.Second)
	assert.Contains(t, stderr, "2 seeds without a verdict; 1 seed ran out of time (not findings about the system")
	s := readSweep(t, filepath.Join(out, "sweep.json"))
	require.Len(t, s.Results, 9)
	assert.Equal(t, uint64(6), s.Passed)
	require.Len(t, s.Unknowns, 3)
	byseed := map[uint64]string{}
	for _, u := range s.Unknowns {
		byseed[u.Seed] = u.Reason
		assert.Contains(t, u.Replay, fmt.Sprintf("sofasim run testonly-kv --seed %d", u.Seed))
	}
	assert.Contains(t, byseed[3], "exit status 42")
	assert.Contains(t, byseed[3], "testonly-kv: exiting on purpose")
	assert.Contains(t, byseed[5], "seed timed out after 2s")
	assert.Contains(t, byseed[7], "harness panic: testonly-kv: harness panic on purpose")
	causes := map[uint64]string{}
	for _, u := range s.Unknowns {
		causes[u.Seed] = u.Cause
	}
	assert.Equal(t, map[uint64]string{3: reports.CauseHarness, 5: reports.CauseOutOfTime, 7: reports.CauseHarness}, causes)
	assert.Equal(t, uint64(1), s.OutOfTime)
	// A seed out of time does not read as a finding.
	assert.Contains(t, stdout, "OUT OF TIME seed 5 (not a finding; rerun it alone, without time limits): seed timed out")
	assert.Contains(t, stdout, "NO VERDICT seed 3: the worker crashed")
	assert.Regexp(t, `no verdict\s+3 \(1 out of time: not findings`, stdout)
}

// A check out of time gives no verdict, never a pass; the seed's result
// file replays without the limit.
func TestSweepCheckTimeLimit(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := cli(t, "sweep", testScenario, "--seeds", "1..3", "--workers", "2", "--out", out, "--check-timeout", "1ns")
	require.Equal(t, 3, code, stdout+stderr)
	s := readSweep(t, filepath.Join(out, "sweep.json"))
	require.Len(t, s.Unknowns, 3)
	assert.Zero(t, s.Passed)
	u := s.Unknowns[0]
	assert.Equal(t, "1/result.json", u.File)
	assert.Contains(t, u.Reason, "linearizable (no verdict, time-limit): time limit 1ns ran out")
	assert.Equal(t, reports.CauseOutOfTime, u.Cause, "a check out of time is not a finding")
	assert.Contains(t, stdout, "OUT OF TIME seed 1")
	assert.Equal(t, "sofasim run testonly-kv --seed 1", u.Replay, "the seed's own plan: run reproduces it")
	code, stdout, _ = cli(t, "replay", filepath.Join(out, u.File))
	assert.Equal(t, 0, code, stdout)
	assert.Contains(t, stdout, "reproduced")
}

func TestSweepFailFast(t *testing.T) {
	out := t.TempDir()
	code, stdout, _ := cli(t, "sweep", testScenario, "--seeds", "1..400", "--workers", "2", "--bug", bugStaleRead,
		"--param", "ops=100", "--out", out, "--fail-fast")
	require.Equal(t, 1, code, stdout)
	s := readSweep(t, filepath.Join(out, "sweep.json"))
	assert.Equal(t, "fail-fast", s.Stopped)
	assert.Less(t, s.Seeds, uint64(400))
	assert.GreaterOrEqual(t, s.Failed, uint64(1))
	assert.Regexp(t, `stopped\s+fail-fast after`, stdout)
}

func TestSweepShardsAndMerge(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--seeds", "3..17", "--workers", "2", "--bug", bugStaleRead}
	whole := filepath.Join(t.TempDir(), "whole")
	code, _, _ := cli(t, append([]string{"sweep", testScenario, "--out", whole}, args...)...)
	require.Equal(t, 1, code)
	want := readSweep(t, filepath.Join(whole, "sweep.json"))

	var shardDirs []string
	for i := 1; i <= 4; i++ {
		d := filepath.Join(dir, fmt.Sprintf("machine-%d", i), "out")
		shardDirs = append(shardDirs, d)
		code, _, _ := cli(t, append([]string{"sweep", testScenario, "--out", d, "--shard", fmt.Sprintf("%d/4", i)}, args...)...)
		require.Contains(t, []int{0, 1}, code)
		s := readSweep(t, filepath.Join(d, fmt.Sprintf("sweep-shard-%d-of-4.json", i)))
		assert.Equal(t, reports.Planned(reports.SeedRange{First: 3, Last: 17}, reports.Shard{Index: uint64(i), Count: 4}), s.Seeds)
		for _, r := range s.Results {
			assert.Equal(t, uint64(i), (r.Seed-3)%4+1)
		}
		assert.FileExists(t, filepath.Join(d, fmt.Sprintf("sweep-shard-%d-of-4.html", i)))
	}

	merged := filepath.Join(dir, "merged")
	junit := filepath.Join(dir, "merged.xml")
	code, stdout, stderr := cli(t, "merge", shardDirs[0], shardDirs[1], shardDirs[2], shardDirs[3], "--out", merged, "--junit", junit)
	require.Equal(t, 1, code, stdout+stderr)
	assert.Contains(t, stdout, "merged 4 shards of testonly-kv seeds 3..17")
	got := readSweep(t, filepath.Join(merged, "sweep.json"))
	require.Len(t, got.Results, len(want.Results))
	for i := range want.Results {
		assert.Equal(t, want.Results[i].Seed, got.Results[i].Seed)
		assert.Equal(t, want.Results[i].Verdict, got.Results[i].Verdict)
		assert.Equal(t, want.Results[i].Fingerprint, got.Results[i].Fingerprint)
	}
	for _, f := range got.Failures {
		assert.Equal(t, fmt.Sprintf("%d/failure.json", f.Seed), f.File, "the failing seeds are copied in")
		assert.FileExists(t, filepath.Join(merged, f.File))
		assert.FileExists(t, filepath.Join(merged, f.Report))
		assert.Equal(t, "sofasim replay "+filepath.Join(merged, f.File), f.Replay)
	}
	assert.FileExists(t, filepath.Join(merged, fileHTML))
	assert.FileExists(t, junit)

	// Merging again is the same (the merged summary is not an input).
	code, _, _ = cli(t, "merge", dir, "--out", merged)
	require.Equal(t, 1, code)
	assert.Equal(t, got.Seeds, readSweep(t, filepath.Join(merged, "sweep.json")).Seeds)

	// A missing shard is reported and makes the exit code 3 (unless a seed failed).
	code, stdout, _ = cli(t, "merge", shardDirs[0], shardDirs[1], shardDirs[2], "--out", filepath.Join(dir, "partial"), "--json")
	assert.Contains(t, []int{1, 3}, code)
	res := parseJSON(t, stdout)
	assert.Equal(t, []any{4.0}, res["missing_shards"])

	// A shard given twice is an error.
	code, _, stderr = cli(t, "merge", shardDirs[0], shardDirs[0], "--out", filepath.Join(dir, "dup"))
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "appears twice")

	// Shards named relative to here merge into an absolute folder (and the
	// other way round), the failing seeds' folders and logs copied in.
	t.Chdir(dir)
	for _, c := range [][]string{
		{"machine-1/out", "machine-2/out", "machine-3/out", "machine-4/out", "--out", filepath.Join(dir, "abs")},
		{shardDirs[0], shardDirs[1], shardDirs[2], shardDirs[3], "--out", "rel"},
	} {
		code, stdout, stderr := cli(t, append([]string{"merge"}, c...)...)
		require.Equal(t, 1, code, stdout+stderr)
		out := c[len(c)-1]
		m := readSweep(t, filepath.Join(out, "sweep.json"))
		require.NotEmpty(t, m.Failures)
		for _, f := range m.Failures {
			assert.FileExists(t, filepath.Join(out, f.File))
			assert.FileExists(t, filepath.Join(out, fmt.Sprint(f.Seed), "logs", "server.log"))
		}
	}
}

// Shards writing into one folder (a shared volume) merge in place.
func TestSweepShardsShareAFolder(t *testing.T) {
	out := t.TempDir()
	for i := 1; i <= 2; i++ {
		code, _, _ := cli(t, "sweep", testScenario, "--seeds", "1..6", "--shard", fmt.Sprintf("%d/2", i), "--out", out)
		require.Equal(t, 0, code)
	}
	code, stdout, _ := cli(t, "merge", out)
	require.Equal(t, 0, code, stdout)
	s := readSweep(t, filepath.Join(out, "sweep.json"))
	assert.Equal(t, uint64(6), s.Passed)
	assert.Equal(t, []reports.Shard{{Index: 1, Count: 2}, {Index: 2, Count: 2}}, s.Shards)
}

func TestSweepProgressBar(t *testing.T) {
	out := t.TempDir()
	code, _, stderr := cli(t, "sweep", testScenario, "--seeds", "1..5", "--workers", "2", "--out", out, "--progress", "always")
	require.Equal(t, 0, code)
	assert.Contains(t, stderr, "5/5")
	assert.Contains(t, stderr, "seeds/s")
	assert.Contains(t, stderr, "0 failures")
}

// Ctrl-C reaches the whole process group: the sweep stops, its workers
// (which ignore SIGINT) are ended, and what finished is summarised.
func TestSweepInterrupt(t *testing.T) {
	out := t.TempDir()
	cmd := exec.Command(os.Args[0], "sweep", testScenario, "--seeds", "1..1000000", "--workers", "2", "--out", out, "--json")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	pgid := cmd.Process.Pid
	time.Sleep(1500 * time.Millisecond)
	require.NoError(t, syscall.Kill(-pgid, syscall.SIGINT))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		t.Fatal("the sweep did not stop within 30s of SIGINT")
	}
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "exit: %v; %s", err, stderr.String())
	assert.Equal(t, 3, ee.ExitCode(), stderr.String())
	assert.Contains(t, stderr.String(), "interrupted after")
	s := readSweep(t, filepath.Join(out, "sweep.json"))
	assert.Equal(t, "interrupted", s.Stopped)
	assert.Greater(t, s.Seeds, uint64(0))
	var res map[string]any
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &res))
	assert.Equal(t, "interrupted", res["stopped"])
	// No worker outlives the sweep.
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(-pgid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	assert.ErrorIs(t, syscall.Kill(-pgid, 0), syscall.ESRCH, "processes of the sweep are left")
}

// The real binary, built once: the exit codes reach the shell.
func TestBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "sofasim")
	outb, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, string(outb))
	run := func(args ...string) (int, string, string) {
		cmd := exec.Command(bin, args...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), o.String(), e.String()
		}
		require.NoError(t, err)
		return 0, o.String(), e.String()
	}
	code, out, _ := run("list")
	assert.Equal(t, 0, code)
	assert.NotContains(t, out, testScenario, "the test-only scenario is not in the binary")
	code, _, errOut := run("sweep", testScenario, "--seeds", "1..3")
	assert.Equal(t, 2, code)
	assert.True(t, strings.HasPrefix(errOut, "sofasim: sweep: unknown scenario \"testonly-kv\""), errOut)
	code, _, _ = run("check", "--history", "testdata/histories/register-bad.log")
	assert.Equal(t, 1, code)
	code, _, _ = run("check", "--history", "testdata/histories/register-ok.log")
	assert.Equal(t, 0, code)
	// Printed commands work as printed: they name the binary as it was run.
	out = t.TempDir()
	code, stdout, _ := run("run", "raftkv-basic", "--seed", "1", "--param", "ops=20", "--param", "duration=2s", "--out", out)
	require.Equal(t, 0, code, stdout)
	assert.Contains(t, stdout, "replay  "+bin+" run raftkv-basic --seed 1 --param duration=2s --param ops=20")
	code, stdout, _ = run("replay", filepath.Join(out, fileResult))
	assert.Equal(t, 0, code, stdout)
	code, stdout, _ = run("version")
	require.Equal(t, 0, code)
	assert.Regexp(t, `^sofasim \S+ .*go1\.\d+.*, binary [0-9a-f]{12}, \w+/\w+\n$`, stdout)
	code, stdout, _ = run("--help")
	require.Equal(t, 0, code)
	assert.Contains(t, stdout, "raftkv")
	assert.Contains(t, stdout, "service registry")
	for _, family := range []string{"raftkv-*", "registry-*", "txn-*", "mesh-*"} {
		assert.Contains(t, stdout, family, "--help names every system's scenarios")
	}

	// The hidden worker answers a malformed job without crashing.
	cmd := exec.Command(bin, "worker")
	cmd.Stdin = strings.NewReader("not json\n")
	outb, err = cmd.Output()
	require.NoError(t, err)
	assert.Contains(t, string(outb), `"error":"worker: malformed job`)
}
