package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sofasim/sofasim/reports"
	"github.com/sofasim/sofasim/scenarios"
)

func newRunCmd() *cobra.Command {
	var (
		seed     uint64
		planFile string
		bugs     []string
		params   []string
		out      string
		trace    bool
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "run SCENARIO [--seed N | --plan FILE]",
		Short: "Run one scenario with one seed (or plan) and write its report",
		Long: `run draws the scenario's plan from the seed (or reads --plan: a plan file,
or the plan inside a failure or result file), runs it, checks the history with
no time limit and writes the report into a new folder,
out/SCENARIO/TIME-seedN/ (out/SCENARIO/latest points at the newest), or into
--out DIR (new, empty, or an earlier sofasim output, which is replaced):

  result.json   the result (versioned JSON, see the reports package)
  failure.json  the same, when a check failed: replay and shrink read it
  index.html    a self-contained HTML report
  history.json  the recorded client history (sofasim check reads it)
  logs/NODE.log each node's severity-tagged log, when the run failed
  trace.jsonl   the full kernel trace, with --trace

Exit codes: 0 pass, 1 a check failed, 2 bad usage or input, 3 the harness
failed or a check could not decide.`,
		Example: `  sofasim run raftkv-basic --seed 7
  sofasim run raftkv-chaos --seed 884 --bug bug/raftkv/stale-read --json
  sofasim run raftkv-partitions --seed 3 --param members=3 --out /tmp/r3 --trace
  sofasim run --plan out/raftkv-chaos/latest/12/failure.json`,
		Args: argsNamed(0, 1, "SCENARIO", ""),
		RunE: func(cmd *cobra.Command, args []string) error {
			var plan *scenarios.Plan
			if planFile != "" {
				for _, f := range []string{"seed", "bug", "param"} {
					if cmd.Flags().Changed(f) {
						return usageErr("run: --plan fixes the seed, bugs and parameters; drop --%s", f)
					}
				}
				rr, err := loadRerunnable(planFile)
				if err != nil {
					return usageErr("run: %v", err)
				}
				plan = rr.plan
				if len(args) == 1 && args[0] != plan.Scenario {
					return usageErr("run: %s is a plan for scenario %s, not %s", planFile, plan.Scenario, args[0])
				}
			} else {
				if len(args) == 0 {
					return usageErr("run: name the SCENARIO to run (sofasim list shows them), or give --plan FILE")
				}
				if _, err := scenarios.Lookup(args[0]); err != nil {
					return usageErr("run: %v", err)
				}
				ps, err := parseParams(params)
				if err != nil {
					return usageErr("run: %v", err)
				}
				if plan, err = scenarios.PlanForSeed(args[0], seed, ps, bugs); err != nil {
					return usageErr("run: %v", err)
				}
			}
			dir, err := runOutDir(cmd, out, plan)
			if err != nil {
				return err
			}
			return runPlan(cmd, plan, dir, trace, asJSON)
		},
	}
	f := cmd.Flags()
	f.Uint64Var(&seed, "seed", 1, "seed the plan is drawn from (and the world is seeded with)")
	f.StringVar(&planFile, "plan", "", "run this plan file instead of drawing one from a seed")
	f.StringArrayVar(&bugs, "bug", nil, "arm a planted bug (repeatable; sofasim list shows them)")
	f.StringArrayVar(&params, "param", nil, "set a scenario parameter NAME=VALUE (repeatable)")
	f.StringVarP(&out, "out", "o", "", "output folder (default: a new out/SCENARIO/TIME-seedN)")
	f.BoolVar(&trace, "trace", false, "also write the full kernel trace (trace.jsonl)")
	f.BoolVar(&asJSON, "json", false, "print the result as one JSON object")
	return cmd
}

// runOutDir is the folder a run writes into: --out DIR, or a new one
// under out/SCENARIO.
func runOutDir(cmd *cobra.Command, out string, plan *scenarios.Plan) (string, error) {
	if out != "" {
		return out, ownOutDir("run", out, nil, cmd.ErrOrStderr())
	}
	what := fmt.Sprintf("seed%d", plan.Seed)
	if !scenarios.IsSeedPlan(plan) {
		what += "-plan"
	}
	dir, err := newOutDir(filepath.Join(outRoot, plan.Scenario), what)
	if err != nil {
		return "", usageErr("%v", err)
	}
	return dir, nil
}

// runPlan runs a plan, writes its reports into out (prepared) and prints
// the result.
func runPlan(cmd *cobra.Command, plan *scenarios.Plan, out string, trace, asJSON bool) error {
	opts := scenarios.Options{}
	var closeTrace func() error
	if trace {
		tw, closer, err := openTrace(out)
		if err != nil {
			return usageErr("cannot write the trace: %v", err)
		}
		opts.Trace, closeTrace = tw, closer
	}
	rep, err := execute(plan, opts)
	if closeTrace != nil {
		if cerr := closeTrace(); err == nil && cerr != nil {
			return harnessErr(fmt.Errorf("writing the trace: %v", cerr))
		}
	}
	if err != nil {
		return harnessErr(fmt.Errorf("%s seed %d: %v", plan.Scenario, plan.Seed, err))
	}
	wr, err := writeRun(out, plan, rep, writeOpts{logs: true})
	if err != nil {
		return harnessErr(fmt.Errorf("writing the report: %v", err))
	}
	if asJSON {
		cmd.OutOrStdout().Write(wr.report.Marshal())
	} else {
		printRun(cmd.OutOrStdout(), wr.report, wr)
	}
	return verdictErr(wr.report.Verdict)
}

// prepareOut checks that the output folder can be written before any work.
func prepareOut(who, dir string) error {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return usageErr("%s: output folder %s is a file", who, dir)
	}
	if err := reports.PrepareDir(dir); err != nil {
		return usageErr("%s: %v", who, err)
	}
	return nil
}
