package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/reports"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

type shrinkOutput struct {
	File           string           `json:"file"`
	Report         string           `json:"report"`
	Kept           string           `json:"kept"`
	Runs           int              `json:"runs"`
	Budget         int              `json:"budget"`
	Exhausted      bool             `json:"exhausted"`
	FaultsBefore   int              `json:"faults_before"`
	FaultsAfter    int              `json:"faults_after"`
	OpsBefore      int              `json:"ops_before"`
	OpsAfter       int              `json:"ops_after"`
	DurationBefore sim.Duration     `json:"duration_before"`
	DurationAfter  sim.Duration     `json:"duration_after"`
	Verdict        checkers.Verdict `json:"verdict"`
	Fingerprint    string           `json:"fingerprint"`
	Failures       []string         `json:"failures"`
	Replay         string           `json:"replay"`
}

func newShrinkCmd() *cobra.Command {
	var (
		budget       int
		out          string
		keep         string
		checkTimeout time.Duration
		asJSON       bool
	)
	cmd := &cobra.Command{
		Use:   "shrink FILE",
		Short: "Minimise a failing plan while the same check still fails",
		Long: `shrink reruns a failure file's plan with fewer fault events, fewer operations
and a shorter duration for as long as the same failure remains: the same
checker failing, or the same kind of finding (--keep names another of the
run's failures). It uses delta debugging over the fault events, then the
operations (repeated while either shrinks), then a binary search on the
duration: no randomness, so the same file always shrinks to the same plan.
--budget bounds the number of runs.

It writes the shrunk run into a folder of its own: --out DIR (new, empty, or
an earlier sofasim output, which is replaced), by default a new shrunk/ (or
shrunk-2/, ...) beside FILE. The folder holds failure.json (replay it, or
sofasim run --plan it), result.json, index.html, history.json and the node
logs; shrink prints what it removed.

Exit codes: 1 the shrunk plan was written (it fails, as a failure file does),
2 bad usage or input (including a FILE that does not fail), 3 the harness
failed or FILE's fingerprint no longer matches.`,
		Example: `  sofasim shrink out/raftkv-chaos/latest/12/failure.json
  sofasim shrink out/raftkv-chaos/latest/12/failure.json --budget 500 --out /tmp/min
  sofasim shrink failure.json --keep liveness --json`,
		Args: argsNamed(1, 1, "FILE", "name the failure FILE to shrink, such as out/raftkv-chaos/latest/12/failure.json"),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			if budget < 1 {
				return usageErr("shrink: --budget must be at least 1, not %d", budget)
			}
			if checkTimeout < 0 {
				return usageErr("shrink: --check-timeout must not be negative (0: no limit), not %v", checkTimeout)
			}
			if strings.HasSuffix(out, ".json") {
				return usageErr("shrink: --out names a folder (the shrunk failure.json, index.html and logs go in it), not %s", out)
			}
			rr, err := loadRerunnable(file)
			if err != nil {
				return usageErr("shrink: %v", err)
			}
			if keep != "" && rr.recorded != nil {
				if _, err := scenarios.ShrinkTarget(rr.recorded, keep); err != nil {
					return usageErr("shrink: --keep %s: %s", keep, keepChoices(file, rr.recorded))
				}
			}
			if out == "" {
				if out, err = claimDir(filepath.Join(filepath.Dir(file), "shrunk")); err != nil {
					return usageErr("shrink: %v", err)
				}
			} else if err := ownOutDir("shrink", out, nil, cmd.ErrOrStderr()); err != nil {
				return err
			}
			sh, err := scenarios.Shrink(rr.plan, scenarios.ShrinkOptions{Budget: budget, Keep: keep, CheckTimeLimit: checkTimeout})
			if err != nil {
				return shrinkErr(file, keep, err)
			}
			if rr.recorded != nil && rr.recorded.Fingerprint != sh.Original.Fingerprint {
				return harnessErr(fmt.Errorf("shrink: %s no longer reproduces: fingerprint %s, recorded %s; %s",
					file, sh.Original.Fingerprint, rr.recorded.Fingerprint, recordedBuild(rr.recorded)))
			}
			small, rep := sh.Plan, sh.Result
			wr, err := writeRun(out, small, rep, writeOpts{logs: true})
			if err != nil {
				return harnessErr(fmt.Errorf("shrink: writing %s: %v", out, err))
			}
			target := sh.Kept
			so := shrinkOutput{File: wr.failure, Report: wr.html, Kept: target.String(), Runs: sh.Runs, Budget: budget, Exhausted: sh.Exhausted,
				FaultsBefore: len(rr.plan.Faults), FaultsAfter: len(small.Faults), OpsBefore: len(rr.plan.Ops), OpsAfter: len(small.Ops),
				DurationBefore: rr.plan.Duration, DurationAfter: small.Duration,
				Verdict: rep.Verdict, Fingerprint: rep.Fingerprint, Failures: rep.Failures, Replay: rep.Replay}
			if asJSON {
				if err := printJSON(cmd.OutOrStdout(), so); err != nil {
					return harnessErr(err)
				}
			} else {
				printShrink(cmd.OutOrStdout(), so, small)
			}
			return verdictErr(rep.Verdict)
		},
	}
	f := cmd.Flags()
	f.IntVar(&budget, "budget", 300, "most runs to spend")
	f.StringVarP(&out, "out", "o", "", "the folder for the shrunk run (default: a new shrunk/ beside FILE)")
	f.StringVar(&keep, "keep", "", "the failure to keep: a checker name or a finding kind (default: the first failure)")
	f.DurationVar(&checkTimeout, "check-timeout", time.Minute, "wall-time limit per check while shrinking; a check out of time counts as not failing (0: none)")
	f.BoolVar(&asJSON, "json", false, "print the outcome as one JSON object")
	return cmd
}

func printShrink(w io.Writer, so shrinkOutput, plan *scenarios.Plan) {
	var faults []string
	for i, s := range plan.Faults {
		if i == 4 {
			faults = append(faults, fmt.Sprintf("and %d more", len(plan.Faults)-4))
			break
		}
		faults = append(faults, s.String())
	}
	fmt.Fprintf(w, "%d fault events -> %d", so.FaultsBefore, so.FaultsAfter)
	if len(faults) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(faults, ", "))
	}
	fmt.Fprintf(w, "; %d ops -> %d; duration %s -> %s\n", so.OpsBefore, so.OpsAfter,
		reports.FormatTime(time.Duration(so.DurationBefore)), reports.FormatTime(time.Duration(so.DurationAfter)))
	note := ""
	if so.Exhausted {
		note = " (budget spent: it may shrink further with a larger --budget)"
	}
	fmt.Fprintf(w, "  kept     %s, in %d runs%s\n", so.Kept, so.Runs, note)
	for _, f := range so.Failures {
		fmt.Fprintf(w, "  FAIL     %s\n", f)
	}
	fmt.Fprintf(w, "  failure  %s\n  report   %s\n  replay   %s\n", so.File, so.Report, so.Replay)
}

// shrinkErr maps a shrink error: a plan with nothing to shrink is bad
// input (exit 2); a run that cannot be built or panics is the harness's
// fault (exit 3).
func shrinkErr(file, keep string, err error) error {
	if keep != "" && strings.Contains(err.Error(), "not among the run's failures") {
		return usageErr("shrink: --keep %s: %s's run does not fail that way (%v)", keep, file, errors.Unwrap(err))
	}
	if errors.Is(err, scenarios.ErrNothingToShrink) {
		return usageErr("shrink: %s: %v", file, err)
	}
	return harnessErr(fmt.Errorf("shrink: %v", err))
}

// keepChoices says what --keep may name for a recorded failure.
func keepChoices(file string, rec *reports.Result) string {
	var names []string
	for _, f := range rec.Findings {
		names = append(names, f.Kind)
	}
	for _, c := range rec.Checks {
		if c.Verdict == checkers.Fail {
			names = append(names, c.Checker)
		}
	}
	if len(names) == 0 {
		return file + " records no failure to keep"
	}
	return fmt.Sprintf("%s did not fail that way; --keep takes a failing checker or finding kind of it: %s", file, strings.Join(names, ", "))
}
