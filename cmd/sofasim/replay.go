package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/sofasim/sofasim/reports"
	"github.com/sofasim/sofasim/scenarios"
)

// rerunnable is what replay and shrink read: a failure (or result) file
// with its recorded outcome, or a bare plan file.
type rerunnable struct {
	plan     *scenarios.Plan
	recorded *reports.Result // nil for a plan file
}

// loadRerunnable reads a failure, result or plan file strictly; every
// problem is bad input.
func loadRerunnable(path string) (*rerunnable, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", path, unwrapPathErr(err))
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("%s: malformed JSON: %v", path, err)
	}
	if _, ok := probe["plan"]; !ok {
		plan, err := scenarios.ParsePlan(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		return &rerunnable{plan: plan}, nil
	}
	rec, err := reports.ParseResult(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	plan, err := scenarios.ParsePlan(rec.Plan)
	if err != nil {
		return nil, fmt.Errorf("%s: its plan: %v", path, err)
	}
	return &rerunnable{plan: plan, recorded: rec}, nil
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

type replayOutput struct {
	*reports.Result
	ReplayedFrom        string `json:"replayed_from"`
	RecordedFingerprint string `json:"recorded_fingerprint,omitempty"`
	Reproduced          *bool  `json:"reproduced,omitempty"`
}

func newReplayCmd() *cobra.Command {
	var (
		asJSON bool
		out    string
		trace  bool
	)
	cmd := &cobra.Command{
		Use:   "replay FILE",
		Short: "Rerun a failure file (or a plan file) exactly",
		Long: `replay reruns the plan of a failure file, a result file or a plan file, with
checks that have no time limit, and prints the result. For a failure or result
file it compares the run's fingerprint with the recorded one: if they differ,
the code or the scenario changed since the failure was recorded and the run is
not a reproduction, so replay says so and exits 3.

With --out DIR it also writes the run's reports there, as sofasim run does
(DIR must be new, empty, or an earlier sofasim output, which is replaced).

Exit codes: 0 pass, 1 a check failed (the failure reproduced), 2 bad usage or
input, 3 the fingerprint differs, the harness failed or a check could not decide.`,
		Example: `  sofasim replay out/raftkv-chaos/latest/884/failure.json
  sofasim replay out/raftkv-chaos/latest/884/failure.json --json
  sofasim replay out/raftkv-chaos/latest/884/shrunk/failure.json --out /tmp/shrunk --trace`,
		Args: argsNamed(1, 1, "FILE", "name the FILE to replay: a failure.json, result.json or plan file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			if trace && out == "" {
				return usageErr("replay: --trace needs --out DIR to write the trace into")
			}
			rr, err := loadRerunnable(file)
			if err != nil {
				return usageErr("replay: %v", err)
			}
			opts := scenarios.Options{}
			var closeTrace func() error
			if out != "" {
				if err := ownOutDir("replay", out, nil, cmd.ErrOrStderr()); err != nil {
					return err
				}
				if trace {
					tw, closer, err := openTrace(out)
					if err != nil {
						return usageErr("replay: cannot write the trace: %v", err)
					}
					opts.Trace, closeTrace = tw, closer
				}
			}
			rep, err := execute(rr.plan, opts)
			if closeTrace != nil {
				if cerr := closeTrace(); err == nil && cerr != nil {
					return harnessErr(fmt.Errorf("replay: writing the trace: %v", cerr))
				}
			}
			if err != nil {
				return harnessErr(fmt.Errorf("replay: %v", err))
			}
			var wr *writtenRun
			if out != "" {
				if wr, err = writeRun(out, rr.plan, rep, writeOpts{logs: true}); err != nil {
					return harnessErr(fmt.Errorf("replay: writing the report: %v", err))
				}
			} else {
				rep.Replay, rep.RunCommand = prog+" replay "+scenarios.ShellQuote(file), runCommand(rr.plan)
			}
			res := replayOutput{Result: rep, ReplayedFrom: file}
			diverged := false
			if rr.recorded != nil {
				same := rr.recorded.Fingerprint == rep.Fingerprint
				res.RecordedFingerprint, res.Reproduced = rr.recorded.Fingerprint, &same
				diverged = !same
			}
			w := cmd.OutOrStdout()
			if asJSON {
				if err := printJSON(w, res); err != nil {
					return harnessErr(err)
				}
			} else {
				printRun(w, rep, wr)
				if rr.recorded != nil && !diverged {
					fmt.Fprintf(w, "  reproduced: fingerprint %s matches %s\n", rep.Fingerprint, file)
				}
			}
			if diverged {
				return harnessErr(fmt.Errorf("replay diverged: fingerprint %s (%d events), but %s recorded %s (%d events): "+
					"the code, the scenario or the plan changed since it was recorded, so this run is not a reproduction; %s",
					rep.Fingerprint, rep.Events, file, rr.recorded.Fingerprint, rr.recorded.Events, recordedBuild(rr.recorded)))
			}
			return verdictErr(rep.Verdict)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print the result as one JSON object")
	f.StringVarP(&out, "out", "o", "", "also write the run's reports into this folder")
	f.BoolVar(&trace, "trace", false, "with --out, also write the full kernel trace")
	return cmd
}

// recordedBuild says which build recorded a result, beside this one.
func recordedBuild(rec *reports.Result) string {
	var b reports.Build
	if rec.Build != nil {
		b = *rec.Build
	}
	return b.Describe(reports.ThisBuild())
}
