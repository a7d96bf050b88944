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
	logs    string // the node logs' folder, when kept
}

// maxLogEvents bounds the runs whose node logs are kept: the rerun with the
// full trace formats every message, about 25 s and 200 MB of trace a
// million events (raftkv-chaos seed 17 with bug/raftkv/ack-before-sync:
// 9.5 M events, 2 GB, 3m41s), while a typical failing seed has 50-100 k.
const maxLogEvents = 500_000

// writeOpts say what writeRun writes.
type writeOpts struct {
	// failuresOnly writes nothing for a passing run, and for a failing
	// one failure.json without result.json (a sweep's seeds).
	failuresOnly bool
	// logs keeps the node logs of a failing run: the plan is run again
	// with the full trace (it is deterministic), so runs that pass (or
	// have no verdict) pay nothing for them.
	logs bool
}

// writeRun writes a run's report files into dir (prepared by the caller):
// result.json, failure.json when it failed, index.html, history.json, and
// the node logs of a failing run.
func writeRun(dir string, plan *scenarios.Plan, rep *reports.Result, o writeOpts) (*writtenRun, error) {
	wr := &writtenRun{dir: dir, report: rep}
	failed := rep.Verdict == checkers.Fail
	build := reports.ThisBuild()
	rep.Build = &build
	rep.RunCommand = runCommand(plan)
	if o.failuresOnly && rep.Verdict == checkers.Pass {
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
	// The seed's run command reruns a passing seed plan; otherwise (and
	// always for a failure, whose file carries the fingerprint replay
	// checks) replay the file just written.
	rep.Replay = rep.RunCommand
	if failed || rep.Replay == "" {
		rep.Replay = prog + " replay " + scenarios.ShellQuote(file)
	}
	data := rep.Marshal()
	if !(o.failuresOnly && failed) {
		wr.result = filepath.Join(dir, fileResult)
		if err := reports.WriteFileAtomic(wr.result, data); err != nil {
			return nil, err
		}
	}
	if failed {
		if err := reports.WriteFileAtomic(wr.failure, data); err != nil {
			return nil, err
		}
	}
	run := reports.Run{Result: rep, History: rep.History, Linearization: rep.Linearization()}
	switch {
	case o.logs && failed && rep.Events > maxLogEvents:
		run.LogsNote = fmt.Sprintf("No node logs were kept: the run has %d events, more than the %d that are worth tracing again "+
			"(a full trace costs about 25 s and 200 MB a million events). %s --out DIR --trace writes it.", rep.Events, maxLogEvents, rep.Replay)
	case o.logs && failed:
		if err := keepLogs(dir, plan, rep, &run); err != nil {
			return nil, err
		}
		wr.logs = filepath.Join(dir, reports.LogDir)
	}
	html, err := writePages(dir, run)
	wr.html = html
	return wr, err
}

// keepLogs runs the plan again with the full trace and writes each node's
// log into dir/logs. The rerun's checks get a 1ns time limit: their
// verdict is known already, and a hard linearizability search would
// otherwise be paid twice. A rerun that does not reach the same
// fingerprint would not be this run's log: that is a harness failure.
func keepLogs(dir string, plan *scenarios.Plan, rep *reports.Result, run *reports.Run) error {
	logs := reports.NewLogs()
	again, err := execute(plan, scenarios.Options{Trace: logs, CheckTimeLimit: time.Nanosecond})
	if err != nil {
		return fmt.Errorf("rerunning for the node logs: %v", err)
	}
	if again.Fingerprint != rep.Fingerprint {
		return fmt.Errorf("rerunning for the node logs reached fingerprint %s, not %s: the run is not deterministic", again.Fingerprint, rep.Fingerprint)
	}
	if err := logs.Err(); err != nil {
		return err
	}
	files, err := logs.WriteFiles(dir)
	if err != nil {
		return err
	}
	run.Logs, run.LogFiles = logs, files
	return nil
}

// writePages writes a run's history.json and index.html beside its result.
func writePages(dir string, run reports.Run) (html string, err error) {
	rep := run.Result
	if rep.History != nil {
		var hist bytes.Buffer
		if err := rep.History.WriteJSON(&hist); err == nil {
			if err := reports.WriteFileAtomic(filepath.Join(dir, fileHistory), hist.Bytes()); err != nil {
				return "", err
			}
		}
	}
	var page bytes.Buffer
	if err := reports.WriteHTML(&page, run); err != nil {
		return "", fmt.Errorf("writing the HTML report: %v", err)
	}
	html = filepath.Join(dir, fileHTML)
	return html, reports.WriteFileAtomic(html, page.Bytes())
}

// printRun prints a run for a person.
func printRun(w io.Writer, rep *reports.Result, wr *writtenRun) {
	fmt.Fprintf(w, "%s seed %d: %s\n", rep.Scenario, rep.Seed, strings.ToUpper(string(rep.Verdict)))
	fmt.Fprintf(w, "  virtual %s  events %d  wall %.3fs  speed-up %.1fx  fingerprint %s\n",
		reports.FormatTime(time.Duration(rep.Virtual)), rep.Events, rep.WallSeconds, rep.Speedup, rep.Fingerprint)
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
	if wr != nil && wr.logs != "" {
		fmt.Fprintf(w, "  logs    %s\n", wr.logs+string(filepath.Separator))
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
