package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/reports"
	"github.com/sofasim/sofasim/scenarios"
)

// Output file names in a run's folder.
const (
	fileResult  = "result.json"
	fileFailure = "failure.json"
	fileHTML    = "index.html"
	fileHistory = "history.json"
	fileTrace   = "trace.jsonl"
)

// parseParams reads --param k=v flags.
func parseParams(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--param %q: want NAME=VALUE, such as clients=5", kv)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("--param %s given twice", k)
		}
		out[k] = v
	}
	return out, nil
}

// outcome is a finished run: the scenarios result and the wall time of
// the whole run (building, simulating, checking).
type outcome struct {
	res  *scenarios.Result
	wall time.Duration
}

// execute runs a plan; a panic in the harness becomes an error with its
// stack, so that a sweep worker survives it and a run exits 3.
func execute(plan *scenarios.Plan, opts scenarios.Options) (out outcome, err error) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("harness panic: %v\n%s", p, reports.CleanStack(string(debug.Stack())))
		}
	}()
	res, err := scenarios.Run(plan, opts)
	if err != nil {
		return outcome{}, err
	}
	return outcome{res: res, wall: time.Since(start)}, nil
}

// isSeedPlan reports whether plan is exactly the plan its seed draws, so
// that "sofasim run SCENARIO --seed N ..." reproduces it.
func isSeedPlan(plan *scenarios.Plan) bool {
	p, err := scenarios.PlanForSeed(plan.Scenario, plan.Seed, plan.Params, plan.Bugs)
	return err == nil && bytes.Equal(p.Marshal(), plan.Marshal())
}

// runCommand is Result.ReplayCommand when the plan is its seed's own.
func runCommand(res *scenarios.Result) string {
	if isSeedPlan(&res.Plan) {
		return res.ReplayCommand()
	}
	return ""
}

// newReport converts a run into the report schema.
func newReport(o outcome, replay, runCmd string) *reports.Result {
	res := o.res
	in := reports.Input{
		Scenario:    res.Plan.Scenario,
		Seed:        res.Plan.Seed,
		Plan:        res.Plan.Marshal(),
		Bugs:        res.Plan.Bugs,
		Verdict:     res.Verdict,
		Fingerprint: res.Fingerprint,
		Events:      res.Events,
		Virtual:     res.Virtual,
		HealAt:      res.HealAt,
		Wall:        o.wall,
		SimWall:     res.Wall,
		Checks:      res.Checks,
		Findings:    res.Findings,
		Faults:      res.Faults,
		Replay:      replay,
		RunCommand:  runCmd,
	}
	for _, n := range res.Nodes {
		in.Nodes = append(in.Nodes, reports.Node{ID: n.ID, Stats: n.Stats, Disk: n.Disk})
	}
	return reports.New(in)
}

// linearization finds porcupine's evidence among a run's checks.
func linearization(res *scenarios.Result) *checkers.Linearization {
	for _, c := range res.Checks {
		if c.Linearization != nil {
			return c.Linearization
		}
	}
	return nil
}

// writtenRun says where a run's files went.
type writtenRun struct {
	report  *reports.Result
	dir     string
	failure string // failure.json, when the run failed
	result  string // result.json, when written
	html    string
}

// writeRun writes a run's report files into dir: result.json (always, or
// only when the verdict is not pass with failuresOnly), failure.json when
// it failed, index.html and history.json. A stale failure.json from an
// earlier run in the same folder is removed when this one passed.
func writeRun(dir string, o outcome, failuresOnly bool) (*writtenRun, error) {
	res := o.res
	wr := &writtenRun{dir: dir}
	failed := res.Verdict == checkers.Fail
	if failuresOnly && res.Verdict == checkers.Pass {
		wr.report = newReport(o, res.ReplayCommand(), res.ReplayCommand())
		return wr, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	runCmd := runCommand(res)
	replay := runCmd
	switch {
	case failed:
		wr.failure = filepath.Join(dir, fileFailure)
		replay = "sofasim replay " + shellQuote(wr.failure)
	case replay == "":
		replay = "sofasim replay " + shellQuote(filepath.Join(dir, fileResult))
	}
	rep := newReport(o, replay, runCmd)
	wr.report = rep
	data := rep.Marshal()
	if !(failuresOnly && failed) {
		wr.result = filepath.Join(dir, fileResult)
		if err := reports.WriteFileAtomic(wr.result, data); err != nil {
			return nil, err
		}
	}
	if failed {
		if err := reports.WriteFileAtomic(wr.failure, data); err != nil {
			return nil, err
		}
	} else if err := os.Remove(filepath.Join(dir, fileFailure)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var hist bytes.Buffer
	if err := checkers.WriteJSON(&hist, res.History); err == nil {
		if err := reports.WriteFileAtomic(filepath.Join(dir, fileHistory), hist.Bytes()); err != nil {
			return nil, err
		}
	}
	var page bytes.Buffer
	if err := reports.WriteHTML(&page, reports.Run{Result: rep, History: res.History, Linearization: linearization(res)}); err != nil {
		return nil, fmt.Errorf("writing the HTML report: %v", err)
	}
	wr.html = filepath.Join(dir, fileHTML)
	if err := reports.WriteFileAtomic(wr.html, page.Bytes()); err != nil {
		return nil, err
	}
	return wr, nil
}

// shellQuote quotes a path for a shell command line when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// printRun prints a run for a person.
func printRun(w io.Writer, rep *reports.Result, wr *writtenRun) {
	fmt.Fprintf(w, "%s seed %d: %s\n", rep.Scenario, rep.Seed, strings.ToUpper(string(rep.Verdict)))
	fmt.Fprintf(w, "  virtual %v  events %d  wall %.3fs  speed-up %.1fx  fingerprint %s\n",
		rep.Virtual, rep.Events, rep.WallSeconds, rep.Speedup, rep.Fingerprint)
	for _, f := range rep.Failures {
		fmt.Fprintf(w, "  FAIL %s\n", f)
	}
	for _, c := range rep.Checks {
		if c.Verdict == checkers.Unknown {
			fmt.Fprintf(w, "  UNKNOWN %s: %s\n", c.Checker, c.Explanation)
		}
	}
	if wr != nil && wr.html != "" {
		fmt.Fprintf(w, "  report  %s\n", wr.html)
	}
	fmt.Fprintf(w, "  replay  %s\n", rep.Replay)
}

// verdictErr maps a verdict to the exit code: pass 0, fail 1, unknown 3.
func verdictErr(v checkers.Verdict) error {
	switch v {
	case checkers.Pass:
		return nil
	case checkers.Fail:
		return errFinding
	}
	return harnessErr(errors.New("no verdict: a check could not decide (see above)"))
}

// openTrace creates dir/trace.jsonl for a full trace.
func openTrace(dir string) (*bufio.Writer, func() error, error) {
	f, err := os.Create(filepath.Join(dir, fileTrace))
	if err != nil {
		return nil, nil, err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	return bw, func() error {
		err := bw.Flush()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}, nil
}

func sortedParamKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// printJSON prints v as the one indented JSON object of --json, with
// <, > and & left as they are (replay commands and explanations carry them).
func printJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}
