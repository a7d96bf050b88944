package main

// The sweep's worker processes. A sweep re-executes its own binary as
// "sofasim worker": the worker reads one JSON job a line on stdin, runs
// that seed (one world at a time: DESIGN.md, "Process-wide state"), writes
// a failing seed's reports itself (it holds the history and porcupine's
// evidence) and answers with one JSON line on stdout. A worker ends when
// its stdin closes. It ignores SIGINT: a Ctrl-C in the terminal reaches the
// whole process group, and the parent decides what stops.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/reports"
	"github.com/sofasim/sofasim/scenarios"
)

// workerJob is one seed for a worker.
type workerJob struct {
	Scenario       string            `json:"scenario"`
	Seed           uint64            `json:"seed"`
	Params         map[string]string `json:"params,omitempty"`
	Bugs           []string          `json:"bugs,omitempty"`
	Out            string            `json:"out"` // the sweep's folder; a failing seed's reports go to Out/SEED
	CheckTimeLimit time.Duration     `json:"check_time_limit"`
	Logs           bool              `json:"logs,omitempty"` // keep the node logs of a failing seed
	Prog           string            `json:"prog,omitempty"` // how printed commands invoke sofasim (the sweep's own)
}

func newWorkerCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "worker",
		Short:  "Run sweep jobs from stdin (used by sweep; not for people)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			signal.Ignore(os.Interrupt)
			proto := cmd.OutOrStdout()
			if proto == io.Writer(os.Stdout) {
				// Only protocol lines go to the real stdout; stray prints go to stderr.
				os.Stdout = os.Stderr
			}
			return serveJobs(cmd.InOrStdin(), proto)
		},
	}
}

// serveJobs runs jobs until in ends.
func serveJobs(in io.Reader, out io.Writer) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var job workerJob
		var r reports.SeedResult
		if err := json.Unmarshal(sc.Bytes(), &job); err != nil {
			r = reports.SeedResult{Verdict: checkers.Unknown, Error: "worker: malformed job: " + err.Error()}
		} else {
			r = runJob(job)
		}
		line, err := json.Marshal(r)
		if err != nil {
			return harnessErr(err)
		}
		if _, err := out.Write(append(line, '\n')); err != nil {
			return harnessErr(err)
		}
	}
	return sc.Err()
}

// runJob runs one seed and writes its reports when it did not pass.
func runJob(job workerJob) reports.SeedResult {
	if job.Prog != "" {
		prog = job.Prog
	}
	r := reports.SeedResult{Seed: job.Seed, Verdict: checkers.Unknown,
		Replay: scenarios.SeedCommand(prog, job.Scenario, job.Seed, job.Params, job.Bugs)}
	plan, err := scenarios.PlanForSeed(job.Scenario, job.Seed, job.Params, job.Bugs)
	if err != nil {
		r.Error, r.Cause = "drawing the plan: "+err.Error(), reports.CauseHarness
		return r
	}
	res, err := execute(plan, scenarios.Options{CheckTimeLimit: job.CheckTimeLimit})
	if err != nil {
		r.Error, r.Cause = err.Error(), reports.CauseHarness
		return r
	}
	r.Verdict = res.Verdict
	r.Fingerprint = res.Fingerprint
	r.Events = res.Events
	r.VirtualSeconds = res.VirtualSeconds
	r.WallSeconds = res.WallSeconds
	r.Failures = res.Failures
	r.Reached = slices.Sorted(maps.Keys(res.Reached))
	if res.Verdict == checkers.Unknown {
		r.Cause = reports.SeedCause(res.Checks)
		for _, c := range res.Checks {
			if c.Verdict == checkers.Unknown {
				r.Failures = append(r.Failures, fmt.Sprintf("%s (no verdict, %s): %s", c.Checker, c.UnknownCause(), c.Explanation))
			}
		}
	}
	if res.Verdict == checkers.Pass {
		return r
	}
	dir := filepath.Join(job.Out, fmt.Sprint(job.Seed))
	wr, err := writeRun(dir, plan, res, writeOpts{failuresOnly: true, logs: job.Logs})
	if err != nil {
		r.Verdict, r.Cause = checkers.Unknown, reports.CauseHarness
		r.Error = "writing the report: " + err.Error()
		return r
	}
	file := wr.failure
	if file == "" {
		file = wr.result
	}
	r.File = filepath.ToSlash(filepath.Join(fmt.Sprint(job.Seed), filepath.Base(file)))
	r.Report = filepath.ToSlash(filepath.Join(fmt.Sprint(job.Seed), fileHTML))
	r.Replay = wr.report.Replay
	return r
}

// workerProc is a running worker process, as the sweep sees it.
type workerProc struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan []byte // one per reply; closed at EOF
	stderr  *headBuffer
	done    chan struct{} // closed once the process has been waited for
	waitErr error
}

// startWorker starts exe as a worker.
func startWorker(exe string) (*workerProc, error) {
	cmd := exec.Command(exe, "worker")
	p := &workerProc{cmd: cmd, lines: make(chan []byte, 1), stderr: &headBuffer{max: 8 << 10}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		rd := bufio.NewReaderSize(stdout, 64<<10)
		for {
			line, err := rd.ReadBytes('\n')
			if len(line) > 0 && err == nil {
				p.lines <- line
			}
			if err != nil {
				break
			}
		}
		close(p.lines)
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

var (
	errSeedTimeout = errors.New("seed timed out")
	errStopped     = errors.New("sweep stopped")
)

// do sends one job and waits for its reply, at most timeout. Any error
// leaves the worker unusable: the caller kills it and starts a new one.
func (p *workerProc) do(job workerJob, timeout time.Duration, stop <-chan struct{}) (reports.SeedResult, error) {
	p.stderr.reset()
	data, _ := json.Marshal(job)
	if _, err := p.stdin.Write(append(data, '\n')); err != nil {
		return reports.SeedResult{}, p.crashed(fmt.Errorf("cannot send the job: %v", err))
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case line, ok := <-p.lines:
		if !ok {
			return reports.SeedResult{}, p.crashed(nil)
		}
		var r reports.SeedResult
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil || r.Seed != job.Seed {
			return reports.SeedResult{}, fmt.Errorf("worker answered %q, not a result for seed %d", clip(string(line), 200), job.Seed)
		}
		return r, nil
	case <-timer.C:
		return reports.SeedResult{}, fmt.Errorf("%w after %v: the worker was killed%s", errSeedTimeout, timeout, p.stderr.note())
	case <-stop:
		return reports.SeedResult{}, errStopped
	}
}

// crashed describes a worker that went away in the middle of a job.
func (p *workerProc) crashed(cause error) error {
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.kill()
	}
	what := "the worker exited"
	if p.waitErr != nil {
		what = "the worker crashed (" + p.waitErr.Error() + ")"
	}
	if cause != nil {
		what += ": " + cause.Error()
	}
	return fmt.Errorf("%s%s", what, p.stderr.note())
}

// kill ends the worker process (ours, by its pid) and waits for it.
func (p *workerProc) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
	}
	p.stdin.Close()
	for range p.lines {
	}
	<-p.done
}

// close asks the worker to finish (its stdin closes) and waits a little.
func (p *workerProc) close() {
	p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.kill()
	}
}

// headBuffer keeps the first max bytes written since the last reset: for
// a crash, Go prints the panic first and the goroutines after it.
type headBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (h *headBuffer) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if room := h.max - len(h.buf); room > 0 {
		h.buf = append(h.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (h *headBuffer) reset() {
	h.mu.Lock()
	h.buf = h.buf[:0]
	h.mu.Unlock()
}

// note renders the first lines of what the worker printed, if anything.
func (h *headBuffer) note() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := strings.TrimSpace(string(h.buf))
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > 12 {
		lines = append(lines[:12], "...")
	}
	return "; it printed:\n" + strings.Join(lines, "\n")
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
