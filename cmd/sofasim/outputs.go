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
	"strings"

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

// execute runs a plan; a panic in the harness becomes an error with its
// stack, so that a sweep worker survives it and a run exits 3.
func execute(plan *scenarios.Plan, opts scenarios.Options) (res *reports.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("harness panic: %v\n%s", p, reports.CleanStack(string(debug.Stack())))
		}
	}()
	return scenarios.Run(plan, opts)
}

// prog is how printed commands invoke sofasim.
const prog = "sofasim"

// runCommand is the seed's run command when the plan is its seed's own
// ("" otherwise).
func runCommand(plan *scenarios.Plan) string {
	if scenarios.IsSeedPlan(plan) {
		return scenarios.SeedCommand(prog, plan.Scenario, plan.Seed, plan.Params, plan.Bugs)
	}
	return ""
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
func writeRun(dir string, plan *scenarios.Plan, rep *reports.Result, failuresOnly bool) (*writtenRun, error) {
	wr := &writtenRun{dir: dir, report: rep}
	failed := rep.Verdict == checkers.Fail
	rep.RunCommand = runCommand(plan)
	if failuresOnly && rep.Verdict == checkers.Pass {
		rep.Replay = rep.RunCommand
		return wr, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	file := filepath.Join(dir, fileResult)
	if failed {
		wr.failure = filepath.Join(dir, fileFailure)
		file = wr.failure
	}
	rep.Replay = scenarios.ReplayCommand(prog, plan, file)
	if failed { // a failure file carries its recorded fingerprint: replay checks it
		rep.Replay = prog + " replay " + scenarios.ShellQuote(file)
	}
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
	html, err := writePages(dir, rep)
	wr.html = html
	return wr, err
}

// writePages writes a run's history.json and index.html beside its result.
func writePages(dir string, rep *reports.Result) (html string, err error) {
	if rep.History != nil {
		var hist bytes.Buffer
		if err := rep.History.WriteJSON(&hist); err == nil {
			if err := reports.WriteFileAtomic(filepath.Join(dir, fileHistory), hist.Bytes()); err != nil {
				return "", err
			}
		}
	}
	var page bytes.Buffer
	if err := reports.WriteHTML(&page, reports.Run{Result: rep, History: rep.History, Linearization: rep.Linearization()}); err != nil {
		return "", fmt.Errorf("writing the HTML report: %v", err)
	}
	html = filepath.Join(dir, fileHTML)
	return html, reports.WriteFileAtomic(html, page.Bytes())
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
