package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/reports"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

type sweepConfig struct {
	scenario     string
	seeds        reports.SeedRange
	shard        reports.Shard
	params       map[string]string
	bugs         []string
	workers      int
	failFast     bool
	out          string
	junit        string
	asJSON       bool
	seedTimeout  time.Duration
	checkTimeout time.Duration
	logs         string // failing or none
	command      string // the command line, for the summary
}

func newSweepCmd() *cobra.Command {
	var (
		c                  sweepConfig
		seeds, shard       string
		params             []string
		progressMode       string
		workersFlagDefault = runtime.GOMAXPROCS(0) // the CPUs this process may use (container limits included)
	)
	cmd := &cobra.Command{
		Use:   "sweep SCENARIO --seeds A..B",
		Short: "Run a scenario over a range of seeds in parallel worker processes",
		Long: `sweep runs every seed of the range (or of one shard of it) in worker processes,
one world per process at a time, --workers at once (at most one a CPU, and as
many as the free memory allows: more only makes seeds run out of time). A
worker that crashes or hangs longer than --seed-timeout is reported for its
seed and replaced. Checks run with a time limit (--check-timeout): a check out
of time gives no verdict, never a pass. A seed out of time is not a finding
about the system: the summary says "out of time" and how to rerun it alone.

It writes into a new folder, out/SCENARIO/TIME-seedsA-B/ (out/SCENARIO/latest
points at the newest), or into --out DIR (new, empty, or an earlier sofasim
output, which is replaced; shards may share one):

  SEED/failure.json, SEED/index.html   for every failing seed (replay and shrink read
                                       the failure file); SEED/result.json for a seed
                                       with no verdict
  SEED/logs/NODE.log                   each node's severity-tagged log, for a failing
                                       seed (it is run again with the full trace;
                                       --logs none skips it)
  sweep.json, index.html               the summary (sweep-shard-I-of-N.json/.html for a shard)

and with --junit a JUnit XML file (one testcase per seed). A progress bar shows
on stderr when it is a terminal. Ctrl-C (or SIGTERM) stops the sweep; the seeds
that finished are still summarised. --shard I/N runs the seeds s with
(s - A) mod N = I - 1, so N shards on N machines cover the range once; sofasim
merge combines them (docs/sharding.md).

Exit codes: 0 every seed passed, 1 a seed failed, 2 bad usage or input, 3 a seed
has no verdict (out of time, a crashed or hung worker) or the sweep was
interrupted before the end.`,
		Example: `  sofasim sweep raftkv-chaos --seeds 1..2000
  sofasim sweep raftkv-chaos --seeds 1..100 --bug bug/raftkv/stale-read --fail-fast
  sofasim sweep raftkv-partitions --seeds 1..10000 --shard 3/8 --out /shared/sweep --junit junit-3.xml
  sofasim sweep raftkv-crashes --seeds 1..500 --param members=3 --json > sweep.json`,
		Args: argsNamed(1, 1, "SCENARIO", "name the SCENARIO to sweep (sofasim list shows them)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c.scenario = args[0]
			var err error
			if seeds == "" {
				return usageErr("sweep: --seeds A..B is required, such as --seeds 1..100")
			}
			if c.seeds, err = reports.ParseSeedRange(seeds); err != nil {
				return usageErr("sweep: --seeds: %v", err)
			}
			c.shard = reports.Shard{Index: 1, Count: 1}
			if shard != "" {
				if c.shard, err = reports.ParseShard(shard); err != nil {
					return usageErr("sweep: --shard: %v", err)
				}
			}
			if c.params, err = parseParams(params); err != nil {
				return usageErr("sweep: %v", err)
			}
			if c.workers < 1 {
				return usageErr("sweep: --workers must be at least 1, not %d", c.workers)
			}
			if c.seedTimeout <= 0 {
				return usageErr("sweep: --seed-timeout must be positive, not %v", c.seedTimeout)
			}
			if c.checkTimeout < 0 {
				return usageErr("sweep: --check-timeout must not be negative (0: no limit), not %v", c.checkTimeout)
			}
			if c.logs != "failing" && c.logs != "none" {
				return usageErr("sweep: --logs must be failing or none, not %q", c.logs)
			}
			c.command = commandLine(cmd, args)
			switch progressMode {
			case "auto", "always", "never":
			default:
				return usageErr("sweep: --progress must be auto, always or never, not %q", progressMode)
			}
			var bar io.Writer
			if progressMode == "always" || (progressMode == "auto" && isTerminal(cmd.ErrOrStderr())) {
				bar = cmd.ErrOrStderr()
			}
			return runSweep(cmd, c, bar)
		},
	}
	f := cmd.Flags()
	f.StringVar(&seeds, "seeds", "", "the seeds to run, A..B inclusive (required)")
	f.StringVar(&shard, "shard", "", "run only shard I of N of the seeds, I/N (1-based)")
	f.IntVarP(&c.workers, "workers", "j", workersFlagDefault, "worker processes running at once (at most the CPUs this process may use, and what memory allows)")
	f.StringArrayVar(&c.bugs, "bug", nil, "arm a planted bug (repeatable)")
	f.StringArrayVar(&params, "param", nil, "set a scenario parameter NAME=VALUE (repeatable)")
	f.BoolVar(&c.failFast, "fail-fast", false, "stop at the first failing seed")
	f.StringVarP(&c.out, "out", "o", "", "output folder (default: a new out/SCENARIO/TIME-seedsA-B)")
	f.StringVar(&c.junit, "junit", "", "also write JUnit XML to this file")
	f.BoolVar(&c.asJSON, "json", false, "print the summary as one JSON object")
	f.DurationVar(&c.seedTimeout, "seed-timeout", 5*time.Minute, "wall-time limit per seed; a worker over it is killed and the seed is out of time (not a finding)")
	f.DurationVar(&c.checkTimeout, "check-timeout", time.Minute, "wall-time limit per check; a check over it gives no verdict (0: none)")
	f.StringVar(&progressMode, "progress", "auto", "progress bar on stderr: auto (when a terminal), always or never")
	f.StringVar(&c.logs, "logs", "failing", "node logs: failing (kept for every failing seed) or none")
	return cmd
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func runSweep(cmd *cobra.Command, c sweepConfig, barOut io.Writer) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	sc, err := scenarios.Lookup(c.scenario)
	if err != nil {
		return usageErr("sweep: %v", err)
	}
	// Drawing one plan checks the parameters and bugs before any worker starts.
	if _, err := scenarios.PlanForSeed(c.scenario, c.seeds.First, c.params, c.bugs); err != nil {
		return usageErr("sweep: %v", err)
	}
	if err := sweepOutDir(&c, stderr); err != nil {
		return err
	}
	if c.junit != "" {
		if err := checkWritableFile(c.junit); err != nil {
			return usageErr("sweep: --junit: %v", err)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return harnessErr(fmt.Errorf("sweep: cannot find the sofasim binary to start workers: %v", err))
	}

	workers, why := capWorkers(c.workers, reports.Planned(c.seeds, c.shard))
	if why != "" {
		fmt.Fprintln(stderr, "sofasim: note:", why)
	}
	build := reports.ThisBuild()
	summary := &reports.Sweep{Scenario: c.scenario, Command: c.command, Started: time.Now().UTC().Format(time.RFC3339),
		Build: &build, Workers: workers, Range: c.seeds, Shard: c.shard, Params: c.params,
		Bugs: c.bugs, CheckTimeLimit: sim.Duration(c.checkTimeout), Planned: reports.Planned(c.seeds, c.shard), MustReach: sc.MustReach}
	if summary.Bugs == nil {
		summary.Bugs = []string{}
	}

	// Ctrl-C, or SIGTERM from a CI runner or Kubernetes ending the pod.
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	stop := make(chan struct{})
	var stopOnce sync.Once
	stopReason := ""
	halt := func(why string) {
		stopOnce.Do(func() { stopReason = why; close(stop) })
	}
	go func() {
		select {
		case <-ctx.Done():
			halt("interrupted")
		case <-stop:
		}
	}()

	jobs := make(chan uint64)
	go func() {
		defer close(jobs)
		reports.Seeds(c.seeds, c.shard, func(s uint64) bool {
			select {
			case jobs <- s:
				return true
			case <-stop:
				return false
			}
		})
	}()
	results := make(chan reports.SeedResult)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sweepWorker(exe, c, jobs, results, stop)
		}()
	}
	go func() { wg.Wait(); close(results) }()

	var bar *progressbar.ProgressBar
	if barOut != nil && summary.Planned > 0 {
		bar = progressbar.NewOptions64(int64(summary.Planned),
			progressbar.OptionSetWriter(barOut),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("seeds"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetDescription("0 failures"),
		)
		_ = bar.RenderBlank()
	}
	// Failing seeds are reported as they come, on stdout (stderr with --json).
	events := stdout
	if c.asJSON {
		events = stderr
	}
	start := time.Now()
	failures := 0
	for r := range results {
		summary.Results = append(summary.Results, r)
		if r.Verdict != checkers.Pass {
			if r.Verdict == checkers.Fail {
				failures++
			}
			if bar != nil {
				_ = bar.Clear()
			}
			printSeed(events, c.out, r)
			if bar != nil {
				bar.Describe(fmt.Sprintf("%d %s", failures, plural(failures, "failure")))
			}
			if r.Verdict == checkers.Fail && c.failFast {
				halt("fail-fast")
			}
		}
		if bar != nil {
			_ = bar.Add(1)
		}
	}
	if bar != nil {
		_ = bar.Exit()
		fmt.Fprintln(barOut)
	}
	summary.WallSeconds = time.Since(start).Seconds()
	summary.Stopped = stopReason
	summary.Finish()

	name := reports.SummaryName(c.shard)
	if err := writeSweepFiles(c.out, name, summary); err != nil {
		return harnessErr(fmt.Errorf("sweep: writing the summary: %v", err))
	}
	if c.junit != "" {
		if err := writeJUnit(c.junit, summary.Rebase(c.out)); err != nil {
			return harnessErr(fmt.Errorf("sweep: writing %s: %v", c.junit, err))
		}
	}
	page := filepath.Join(c.out, summaryPage(name))
	if c.asJSON {
		printSweepJSON(stdout, summary, c.out)
	} else {
		printSweepTable(stdout, summary, c.out, page, c.junit, workers)
	}
	return sweepErr(summary)
}

// sweepWorker feeds seeds to one worker process at a time, replacing it
// when it crashes or hangs.
func sweepWorker(exe string, c sweepConfig, jobs <-chan uint64, results chan<- reports.SeedResult, stop <-chan struct{}) {
	var p *workerProc
	defer func() {
		if p != nil {
			p.close()
		}
	}()
	for seed := range jobs {
		select {
		case <-stop:
			return
		default:
		}
		job := workerJob{Scenario: c.scenario, Seed: seed, Params: c.params, Bugs: c.bugs, Out: c.out, CheckTimeLimit: c.checkTimeout,
			Logs: c.logs == "failing", Prog: prog}
		var r reports.SeedResult
		var err error
		if p == nil {
			if p, err = startWorker(exe); err != nil {
				p = nil
				err = fmt.Errorf("cannot start a worker: %v", err)
			}
		}
		if p != nil {
			r, err = p.do(job, c.seedTimeout, stop)
			if errors.Is(err, errStopped) {
				p.kill()
				p = nil
				return // the seed did not finish: it is not reported
			}
			if err != nil {
				p.kill()
				p = nil
			}
		}
		if err != nil {
			r = reports.SeedResult{Seed: seed, Verdict: checkers.Unknown, Error: err.Error(), Cause: reports.CauseHarness,
				Replay: scenarios.SeedCommand(prog, c.scenario, seed, c.params, c.bugs)}
			if errors.Is(err, errSeedTimeout) {
				r.Cause = reports.CauseOutOfTime
			}
		}
		results <- r // the collector reads until every worker is done
	}
}

func summaryPage(name string) string {
	if name == "sweep" {
		return fileHTML
	}
	return name + ".html"
}

// writeSweepFiles writes NAME.json and its page into dir.
func writeSweepFiles(dir, name string, s *reports.Sweep) error {
	if err := reports.WriteFileAtomic(filepath.Join(dir, name+".json"), s.Marshal()); err != nil {
		return err
	}
	var page bytes.Buffer
	if err := reports.WriteSweepHTML(&page, s); err != nil {
		return err
	}
	return reports.WriteFileAtomic(filepath.Join(dir, summaryPage(name)), page.Bytes())
}

func writeJUnit(path string, s *reports.Sweep) error {
	var b bytes.Buffer
	if err := reports.WriteJUnit(&b, s); err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return reports.WriteFileAtomic(path, b.Bytes())
}

// checkWritableFile checks early that path can be written.
func checkWritableFile(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s is a folder", path)
	}
	dir := filepath.Dir(path)
	if err := reports.PrepareDir(dir); err != nil {
		return err
	}
	return nil
}

func printSeed(w io.Writer, out string, r reports.SeedResult) {
	first := r.Error
	if len(r.Failures) > 0 {
		first = r.Failures[0]
	}
	first, _, _ = strings.Cut(first, "\n")
	first = clip(first, 200) // the whole explanation is in the report
	switch {
	case r.Verdict == checkers.Fail:
		fmt.Fprintf(w, "FAIL seed %d: %s\n", r.Seed, first)
	case r.Cause == reports.CauseOutOfTime:
		fmt.Fprintf(w, "OUT OF TIME seed %d (not a finding; rerun it alone, without time limits): %s\n", r.Seed, first)
	default:
		fmt.Fprintf(w, "NO VERDICT seed %d: %s\n", r.Seed, first)
	}
	if r.Report != "" {
		fmt.Fprintf(w, "     report  %s\n", filepath.Join(out, r.Report))
	}
	fmt.Fprintf(w, "     replay  %s\n", r.Replay)
}

// printSweepJSON prints the --json output: the summary without the per-seed
// results (they are in sweep.json), paths as seen from here.
func printSweepJSON(w io.Writer, s *reports.Sweep, out string) {
	c := s.Rebase(out)
	c.Results = nil
	w.Write(c.Marshal())
}

func printSweepTable(w io.Writer, s *reports.Sweep, out, page, junit string, workers int) {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	seeds := s.Range.String()
	if s.Shard.Count > 1 {
		seeds += fmt.Sprintf(" (shard %v: %d seeds)", s.Shard, s.Planned)
	}
	fmt.Fprintf(tw, "scenario\t%s\n", s.Scenario)
	fmt.Fprintf(tw, "seeds\t%s\n", seeds)
	fmt.Fprintf(tw, "passed\t%d\n", s.Passed)
	fmt.Fprintf(tw, "failed\t%d\n", s.Failed)
	if s.OutOfTime > 0 {
		fmt.Fprintf(tw, "no verdict\t%d (%d out of time: not findings; rerun them alone, run has no time limit)\n", s.Unknown, s.OutOfTime)
	} else {
		fmt.Fprintf(tw, "no verdict\t%d\n", s.Unknown)
	}
	if s.Stopped != "" {
		fmt.Fprintf(tw, "stopped\t%s after %d of %d seeds\n", s.Stopped, s.Seeds, s.Planned)
	}
	if workers > 0 {
		fmt.Fprintf(tw, "wall\t%.1fs (%.1f seeds/s, %d %s)\n", s.WallSeconds, s.SeedsPerSecond, workers, plural(workers, "worker"))
	} else {
		fmt.Fprintf(tw, "wall\t%.1fs (%.1f seeds/s)\n", s.WallSeconds, s.SeedsPerSecond)
	}
	fmt.Fprintf(tw, "summary\t%s\n", page)
	if junit != "" {
		fmt.Fprintf(tw, "junit\t%s\n", junit)
	}
	tw.Flush()
	printCoverage(w, s)
	if len(s.Failures) == 0 && len(s.Unknowns) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEED\tVERDICT\tFIRST FAILURE\tREPLAY")
	for _, f := range s.Failures {
		first := ""
		if len(f.Failures) > 0 {
			first, _, _ = strings.Cut(f.Failures[0], "\n")
		}
		fmt.Fprintf(tw, "%d\tfail\t%s\t%s\n", f.Seed, clip(first, 90), replayIn(out, f.File, f.Replay))
	}
	for _, u := range s.Unknowns {
		first, _, _ := strings.Cut(u.Reason, "\n")
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", u.Seed, reports.CauseLabel(u.Cause), clip(first, 90), replayIn(out, u.File, u.Replay))
	}
	tw.Flush()
}

func replayIn(out, file, fallback string) string {
	if file == "" {
		return fallback
	}
	return prog + " replay " + scenarios.ShellQuote(filepath.Join(out, file))
}

// sweepErr maps a sweep's outcome to the exit code.
func sweepErr(s *reports.Sweep) error {
	switch s.Verdict() {
	case checkers.Pass:
		return nil
	case checkers.Fail:
		return errFinding
	}
	var why []string
	if n := s.Unknown - s.OutOfTime; n > 0 {
		why = append(why, fmt.Sprintf("%d %s without a verdict", n, plural(int(n), "seed")))
	}
	if n := s.OutOfTime; n > 0 {
		why = append(why, fmt.Sprintf("%d %s ran out of time (not findings about the system: the machine was busy or the seeds are slow; rerun them alone)", n, plural(int(n), "seed")))
	}
	if s.Stopped != "" {
		why = append(why, fmt.Sprintf("%s after %d of %d seeds", s.Stopped, s.Seeds, s.Planned))
	}
	if len(s.MissingShards) > 0 {
		why = append(why, fmt.Sprintf("shards %v are missing", s.MissingShards))
	}
	return harnessErr(errors.New(strings.Join(why, "; ")))
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// printCoverage prints how many seeds reached each coverage state; a
// must-reach state no seed reached is flagged as a gap.
func printCoverage(w io.Writer, s *reports.Sweep) {
	if len(s.Coverage) == 0 {
		return
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COVERAGE\tSEEDS\t")
	for _, c := range s.Coverage {
		note := ""
		switch {
		case c.Gap():
			note = "GAP: must reach, no seed did"
		case c.MustReach:
			note = "must reach"
		}
		fmt.Fprintf(tw, "%s\t%d/%d\t%s\n", c.State, c.Seeds, s.Seeds, note)
	}
	tw.Flush()
}
