package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/reports"
)

type checkOutput struct {
	Verdict     checkers.Verdict `json:"verdict"`
	Model       string           `json:"model"`
	Format      string           `json:"format"`
	History     string           `json:"history"`
	Ops         int              `json:"ops"`
	Explanation string           `json:"explanation"`
	Involved    []int            `json:"involved,omitempty"`
	WallSeconds float64          `json:"wall_seconds"`
}

func newCheckCmd() *cobra.Command {
	var (
		file, model, format, init, html string
		timeLimit                       time.Duration
		asJSON                          bool
	)
	cmd := &cobra.Command{
		Use:   "check --history FILE --model NAME",
		Short: "Check a recorded history for linearizability",
		Long: `check reads a history and checks it for linearizability with porcupine, one key
at a time. Histories come in three forms (--format, detected when omitted):

  json    sofasim's own form (history.json in a run's folder)
  jepsen  Jepsen log lines such as "INFO  jepsen.util - 3	:invoke	:cas	[1 4]"
  edn     one EDN map a line, {:process 0, :type :invoke, :f :get, :key "k", :value nil}

Jepsen and Knossos histories use :f :read, :write and :cas (value [old new]);
:fail means the operation did not happen and :info that its outcome is unknown
(it stays open to the end of the history). Models: kv (get, put, append,
delete, cas) and cas-register (read, write, cas). --model defaults to the
history's own (json names it; jepsen is cas-register; edn is kv or
cas-register by its operations). --init sets every key's initial value
(default: absent, or "" for EDN kv histories as porcupine's logs assume).

Exit codes: 0 linearizable, 1 not linearizable, 2 malformed input or bad usage,
3 the time limit ran out before a verdict.`,
		Example: `  sofasim check --history out/raftkv-chaos/884/history.json --model kv
  sofasim check --history etcd_002.log --model cas-register --format jepsen
  sofasim check --history c10-bad.txt --model kv --format edn --init "" --json
  sofasim check --history h.edn --model kv --html porcupine.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usageErr("check: --history FILE is required")
			}
			if format != "" && format != "auto" && !contains(checkers.Formats(), format) {
				return usageErr("check: unknown --format %q (want %s or auto)", format, strings.Join(checkers.Formats(), ", "))
			}
			if model != "" {
				if _, err := checkers.ModelByName(model); err != nil {
					return usageErr("check: %v", err)
				}
			}
			f, err := os.Open(file)
			if err != nil {
				return usageErr("check: cannot read %s: %v", file, unwrapPathErr(err))
			}
			data, err := io.ReadAll(f)
			f.Close()
			if err != nil {
				return usageErr("check: cannot read %s: %v", file, err)
			}
			detected := format
			if detected == "" || detected == "auto" {
				if len(bytes.TrimSpace(data)) == 0 {
					detected = "empty"
				} else if detected, err = checkers.DetectFormat(data); err != nil {
					return usageErr("check: %s: %v", file, err)
				}
			}
			h, err := checkers.Parse(bytes.NewReader(data), format)
			if err != nil {
				return usageErr("check: %s: %v", file, err)
			}
			if model != "" {
				h.Model = model
			}
			if h.Model == "" {
				return usageErr("check: %s names no model: give --model (kv or cas-register)", file)
			}
			if cmd.Flags().Changed("init") {
				v := init
				h.Init = &v
			}
			if err := h.Validate(); err != nil {
				return usageErr("check: %s: %v", file, err)
			}
			start := time.Now()
			res := checkers.Linearizable{Model: h.Model}.Check(h, checkers.Options{TimeLimit: timeLimit})
			out := checkOutput{Verdict: res.Verdict, Model: h.Model, Format: detected, History: file, Ops: len(h.Ops),
				Explanation: res.Explanation, Involved: res.Ops, WallSeconds: time.Since(start).Seconds()}
			if html != "" && res.Linearization != nil {
				var page bytes.Buffer
				if err := res.Linearization.Visualize(&page); err != nil {
					return harnessErr(fmt.Errorf("check: porcupine's visualisation: %v", err))
				}
				if err := reports.WriteFileAtomic(html, page.Bytes()); err != nil {
					return usageErr("check: cannot write %s: %v", html, unwrapPathErr(err))
				}
			}
			w := cmd.OutOrStdout()
			if asJSON {
				if err := printJSON(w, out); err != nil {
					return harnessErr(err)
				}
			} else {
				fmt.Fprintf(w, "%s: %s (%d ops, model %s, format %s, %.3fs)\n", file, strings.ToUpper(string(res.Verdict)),
					len(h.Ops), h.Model, detected, out.WallSeconds)
				fmt.Fprintf(w, "  %s\n", res.Explanation)
				if html != "" && res.Linearization != nil {
					fmt.Fprintf(w, "  visualisation  %s\n", html)
				}
			}
			if res.Verdict == checkers.Unknown {
				return harnessErr(fmt.Errorf("check: no verdict: %s", res.Explanation))
			}
			return verdictErr(res.Verdict)
		},
	}
	f := cmd.Flags()
	f.StringVar(&file, "history", "", "the history file to check (required)")
	f.StringVar(&model, "model", "", "the model: kv or cas-register (default: the history's own)")
	f.StringVar(&format, "format", "", "the history's form: json, jepsen or edn (default: detected)")
	f.StringVar(&init, "init", "", "every key's initial value (default: absent)")
	f.StringVar(&html, "html", "", "also write porcupine's visualisation of the history to this file")
	f.DurationVar(&timeLimit, "time-limit", 0, "give up with no verdict (exit 3) after this long (0: no limit)")
	f.BoolVar(&asJSON, "json", false, "print the verdict as one JSON object")
	return cmd
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
