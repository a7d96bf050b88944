package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/checkers/elle"
	"github.com/sofasim/sofasim/reports"
)

type checkOutput struct {
	Verdict     checkers.Verdict `json:"verdict"`
	Model       string           `json:"model"`
	Format      string           `json:"format"`
	History     string           `json:"history"`
	Ops         int              `json:"ops"`
	Semantics   string           `json:"semantics"`
	NilReads    int              `json:"nil_reads_unknown,omitempty"`
	Explanation string           `json:"explanation"`
	Involved    []int            `json:"involved,omitempty"`
	// Transactional checks: the model judged, the anomaly types found, the
	// consistency models they rule out, and each anomaly explained.
	Consistency string         `json:"consistency,omitempty"`
	Anomalies   []string       `json:"anomaly_types,omitempty"`
	RuledOut    []string       `json:"ruled_out,omitempty"`
	Details     []elle.Anomaly `json:"anomalies,omitempty"`
	Report      string         `json:"report,omitempty"`
	WallSeconds float64        `json:"wall_seconds"`

	lin  *checkers.Linearization // porcupine's evidence, for the pages
	elle *elle.Result
	txns []elle.Txn
}

// txnModels are the models of :txn histories; the others come from checkers.
var txnModels = []string{"multi-register", string(elle.ListAppend), string(elle.RWRegister)}

func modelNames() []string {
	var names []string
	for _, m := range checkers.Models() {
		names = append(names, m.Name)
	}
	return append(names, txnModels...)
}

const checkLong = `check reads a history recorded by sofasim, Jepsen or Knossos and judges it.
Register and key-value histories are checked for linearizability with porcupine,
one key at a time; transactional histories (:f :txn) for linearizability over
several registers (multi-register) or, Elle-style, for a consistency model
(list-append, rw-register).

Formats (--format, detected when omitted):
  json    sofasim's own form (history.json in a run's folder)
  jepsen  Jepsen log lines such as "INFO  jepsen.util - 3	:invoke	:cas	[1 4]"
  edn     Jepsen's and Knossos's EDN: a vector or list of op maps, a stream of
          maps or one map a line; maps may span lines; comments, #_ and tagged
          records (#jepsen.history.Op{...}) are fine. Read streaming.

Models (--model; default: the history's own, or by its operations):
  cas-register    read, write, cas [expected new]      (Knossos's cas-register)
  kv              get, put, append, delete, cas by :key (porcupine's kv)
  mutex           acquire, release                     (Knossos's mutex)
  multi-register  :txn [[:read :x v] [:write :y v]]      (Knossos's multi-register)
  list-append     :txn [[:append k v] [:r k [v ...]]]    (Elle)
  rw-register     :txn [[:w k v] [:r k v]]               (Elle)

Semantics, as Jepsen and Knossos define them:
  :ok      the operation happened, between its invocation and completion.
  :fail    it did not happen: it is left out.
  :info    unknown: it may have happened at any time after its invocation, up
           to the end of the history (its reads tell nothing). A crashed
           process never invokes again under the same number; Jepsen gives its
           client a new one.
  nil read an :ok read that returned nil. --nil-read unknown: a read of an
           unknown value, legal in every state (Knossos's models; the default
           for EDN). --nil-read absent: the key was absent (the default for
           Jepsen logs such as porcupine's etcd tests, and JSON).
  order    operations are ordered by their place in the file, which Jepsen
           writes in real time (:time is ignored).
  --init V every register's or key's initial value, e.g. --init 0 for
           Knossos's (cas-register 0) or (multi-register {:x 0 :y 0});
           numbers and strings compare by their text. Default: absent (nil),
           or "" for EDN kv histories as porcupine's logs assume.
  txn      list-append and rw-register follow Elle: values are unique per key;
           a list's version order is its longest read (the others must be its
           prefixes), a register's comes from its initial state (and, with
           --wfr-keys, from reads followed by writes in one transaction;
           with --linearizable-keys, from real-time order on each key);
           ww, wr, rw and real-time dependencies are inferred and cycles named
           G0, G1c, G-single, G-nonadjacent, G2-item (and -realtime variants),
           besides G1a, G1b, lost-update, internal, duplicate-elements,
           incompatible-order, cyclic-versions and (lists) garbage-read. --consistency
           chooses the model judged; every model the anomalies rule out is
           listed. --out DIR draws each anomaly's cycle in DIR/index.html.

Exit codes: 0 valid, 1 not valid (a finding), 2 malformed input or bad usage,
3 the time limit ran out before a verdict.`

func newCheckCmd() *cobra.Command {
	var (
		file, model, format, init, html, outDir, nilRead, consistency string
		timeLimit                                                     time.Duration
		asJSON, wfrKeys, linKeys                                      bool
	)
	cmd := &cobra.Command{
		Use:   "check --history FILE [--model NAME]",
		Short: "Check a recorded history (sofasim, Jepsen, Knossos, Elle) for linearizability or a consistency model",
		Long:  checkLong,
		Example: `  sofasim check --history out/raftkv-chaos/884/history.json --model kv
  sofasim check --history etcd_002.log --model cas-register --format jepsen
  sofasim check --history knossos/data/cas-register/good/memstress3-1.edn --init 0
  sofasim check --history c10-bad.txt --model kv --format edn --init "" --json
  sofasim check --history append.edn --model list-append --consistency serializable --out report/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usageErr("check: --history FILE is required")
			}
			if format != "" && format != "auto" && !slices.Contains(checkers.Formats(), format) {
				return usageErr("check: unknown --format %q (want %s or auto)", format, strings.Join(checkers.Formats(), ", "))
			}
			if model != "" && !slices.Contains(modelNames(), model) {
				return usageErr("check: unknown model %q (available: %s)", model, strings.Join(modelNames(), ", "))
			}
			nr := checkers.NilRead(nilRead)
			if nr != checkers.NilBySource && nr != checkers.NilUnknown && nr != checkers.NilAbsent {
				return usageErr("check: unknown --nil-read %q (want unknown or absent)", nilRead)
			}
			if consistency != "" {
				if err := elle.CheckConsistency(consistency); err != nil {
					return usageErr("check: %v", err)
				}
			}
			f, err := os.Open(file)
			if err != nil {
				return usageErr("check: cannot read %s: %v", file, unwrapPathErr(err))
			}
			defer f.Close()
			lowMemory()
			start := time.Now()
			prog := newProgress(cmd.ErrOrStderr(), start)
			im, err := checkers.Import(f, checkers.ImportOptions{Format: format, NilRead: nr,
				Progress: func(n int) { prog.say("read %d events", n) }})
			if err != nil {
				return usageErr("check: %s: %v", file, err)
			}
			out := checkOutput{Format: im.Format, History: file, NilReads: im.NilReads}
			var initp *string
			if cmd.Flags().Changed("init") {
				initp = &init
			}
			if im.Transactional() {
				err = checkTxns(im, model, consistency, initp, txnFlags{wfr: wfrKeys, linKeys: linKeys}, timeLimit, prog, &out)
			} else {
				err = checkOps(im, model, initp, timeLimit, prog, &out)
			}
			if err == nil && html != "" {
				err = writePorcupine(out.lin, html)
			}
			if err != nil {
				return err
			}
			out.WallSeconds = time.Since(start).Seconds()
			if err := writeCheckReport(&out, outDir); err != nil {
				return err
			}
			return printCheck(cmd, out, asJSON, html)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&file, "history", "", "the history file to check (required)")
	fl.StringVar(&model, "model", "", "the model: "+strings.Join(modelNames(), ", ")+" (default: the history's own)")
	fl.StringVar(&format, "format", "", "the history's form: json, jepsen or edn (default: detected)")
	fl.StringVar(&init, "init", "", "every register's initial value, e.g. 0 (default: absent)")
	fl.StringVar(&nilRead, "nil-read", "", "an :ok read of nil is unknown or absent (default: unknown for EDN, absent for Jepsen logs and JSON)")
	fl.StringVar(&consistency, "consistency", "", "for list-append and rw-register: "+strings.Join(elle.Consistencies(), ", ")+" (default strict-serializable)")
	fl.BoolVar(&wfrKeys, "wfr-keys", false, "rw-register: a read then a write of a key in one transaction orders their versions (Elle's :wfr-keys?)")
	fl.BoolVar(&linKeys, "linearizable-keys", false, "rw-register: each key is linearizable, so real time orders its versions (Elle's :linearizable-keys?)")
	fl.StringVar(&html, "html", "", "also write porcupine's visualisation of a linearizability check to this file")
	fl.StringVar(&outDir, "out", "", "write an HTML report to DIR/index.html (cycles drawn for transactional checks)")
	fl.DurationVar(&timeLimit, "time-limit", 0, "give up with no verdict (exit 3) after this long (0: no limit)")
	fl.BoolVar(&asJSON, "json", false, "print the verdict as one JSON object")
	return cmd
}

// checkOps checks a register or key-value history for linearizability.
func checkOps(im checkers.Imported, model string, init *string, limit time.Duration, prog *progress, out *checkOutput) error {
	h := im.History
	if slices.Contains(txnModels, model) {
		return usageErr("check: %s holds single operations, not :txn transactions: use --model kv or cas-register", out.History)
	}
	if model != "" {
		h.Model = model
	}
	if h.Model == "" {
		return usageErr("check: %s names no model: give --model (kv or cas-register)", out.History)
	}
	if init != nil {
		h.Init = init
	}
	if err := h.Validate(); err != nil {
		return usageErr("check: %s: %v", out.History, err)
	}
	res := checkers.Linearizable{Model: h.Model}.Check(h, checkers.Options{TimeLimit: limit,
		Progress: func(done, total int, unit string) { prog.say("checked %d of %d %s", done, total, unit) }})
	out.Verdict, out.Model, out.Ops = res.Verdict, h.Model, len(h.Ops)
	out.Explanation, out.Involved = res.Explanation, res.Ops
	out.Semantics = semantics(im, h.Init)
	out.lin = res.Linearization
	return nil
}

// writePorcupine writes porcupine's visualisation of a linearizability check.
func writePorcupine(lin *checkers.Linearization, path string) error {
	if lin == nil {
		return usageErr("check: --html draws porcupine's page of a register or kv check; use --out DIR for transactions")
	}
	var page bytes.Buffer
	if err := lin.Visualize(&page); err != nil {
		return harnessErr(fmt.Errorf("check: porcupine's visualisation: %v", err))
	}
	if err := reports.WriteFileAtomic(path, page.Bytes()); err != nil {
		return usageErr("check: cannot write %s: %v", path, unwrapPathErr(err))
	}
	return nil
}

// writeCheckReport writes DIR/index.html: porcupine's page for a
// linearizability check, the anomalies and their cycles otherwise.
func writeCheckReport(out *checkOutput, dir string) error {
	if dir == "" {
		return nil
	}
	if err := reports.PrepareDir(dir); err != nil {
		return usageErr("check: %v", err)
	}
	path := filepath.Join(dir, "index.html")
	if out.lin != nil {
		if err := writePorcupine(out.lin, path); err != nil {
			return err
		}
		out.Report = path
		return nil
	}
	var page bytes.Buffer
	if err := reports.WriteCheckHTML(&page, reports.CheckPage{History: out.History, Model: out.Model, Verdict: out.Verdict,
		Explanation: out.Explanation, Semantics: out.Semantics, Elle: out.elle, Txns: out.txns}); err != nil {
		return harnessErr(fmt.Errorf("check: report: %v", err))
	}
	if err := reports.WriteFileAtomic(path, page.Bytes()); err != nil {
		return usageErr("check: cannot write %s: %v", path, unwrapPathErr(err))
	}
	out.Report = path
	return nil
}

func semantics(im checkers.Imported, init *string) string {
	nilRead := "absent"
	if im.Format == "edn" {
		nilRead = "unknown (legal in every state)"
	}
	start := "absent"
	if init != nil {
		start = fmt.Sprintf("%q", *init)
	}
	return fmt.Sprintf(":fail did not happen; :info may have happened any time up to the end; nil reads %s; registers start %s", nilRead, start)
}

// checkTxns checks a :txn history with the multi-register model or
// Elle-style.
// txnFlags are the version-order assumptions of rw-register.
type txnFlags struct{ wfr, linKeys bool }

func checkTxns(im checkers.Imported, model, consistency string, init *string, fl txnFlags, limit time.Duration, prog *progress, out *checkOutput) error {
	if model == "" {
		model = defaultTxnModel(im)
	}
	if !slices.Contains(txnModels, model) {
		return usageErr("check: %s holds :txn transactions: use --model %s", out.History, strings.Join(txnModels, ", "))
	}
	out.Model, out.Ops = model, len(im.Txns)
	if model == "multi-register" {
		if consistency != "" {
			return usageErr("check: --consistency applies to list-append and rw-register; multi-register is checked for linearizability")
		}
		res := checkers.MultiRegister{Init: init}.Check(im.Txns, checkers.Options{TimeLimit: limit})
		out.Verdict, out.Explanation, out.Involved = res.Verdict, res.Explanation, res.Ops
		out.Semantics = semantics(im, init)
		return nil
	}
	if init != nil {
		return usageErr("check: --init applies to register models; %s histories start empty", model)
	}
	res, err := elle.Check(im.Txns, elle.Options{Model: elle.Model(model), Consistency: consistency, WFRKeys: fl.wfr, LinearizableKeys: fl.linKeys,
		Progress: func(stage string) { prog.say("%s", stage) }})
	if err != nil {
		return usageErr("check: %s: %v", out.History, err)
	}
	out.Verdict = checkers.Pass
	if !res.Valid {
		out.Verdict = checkers.Fail
	}
	out.Consistency, out.Anomalies, out.RuledOut, out.Details = res.Consistency, res.Types, res.RuledOut, res.Anomalies
	out.Explanation = res.Explanation
	out.Semantics = ":fail did not happen; :info may have happened (writes count when read, reads unknown); values unique per key; order by place in the file"
	out.elle, out.txns = &res, im.Txns
	for _, a := range res.Anomalies {
		out.Involved = append(out.Involved, a.Txns...)
	}
	slices.Sort(out.Involved)
	out.Involved = slices.Compact(out.Involved)
	return nil
}

// defaultTxnModel picks a :txn history's model from its micro-ops:
// appends or list reads mean list-append; :read and :write spelt out mean
// Knossos's multi-register; otherwise rw-register.
func defaultTxnModel(im checkers.Imported) string {
	for _, t := range im.Txns {
		for _, m := range t.Mops {
			if m.Kind == elle.Append || m.List != nil {
				return string(elle.ListAppend)
			}
		}
	}
	if im.KnossosTxns {
		return "multi-register"
	}
	return string(elle.RWRegister)
}

func printCheck(cmd *cobra.Command, out checkOutput, asJSON bool, html string) error {
	w := cmd.OutOrStdout()
	if asJSON {
		if err := printJSON(w, out); err != nil {
			return harnessErr(err)
		}
	} else {
		unit := "ops"
		if out.Consistency != "" || out.Model == "multi-register" {
			unit = "transactions"
		}
		fmt.Fprintf(w, "%s: %s (%d %s, model %s, format %s, %.3fs)\n", out.History, strings.ToUpper(string(out.Verdict)),
			out.Ops, unit, out.Model, out.Format, out.WallSeconds)
		fmt.Fprintf(w, "  %s\n", out.Explanation)
		for i, a := range out.Details {
			if i == 10 {
				fmt.Fprintf(w, "  ... and %d more anomalies (--json or --out lists them all)\n", len(out.Details)-10)
				break
			}
			fmt.Fprintf(w, "  %s: %s\n", a.Type, a.Explanation)
		}
		if out.NilReads > 0 {
			fmt.Fprintf(w, "  %d reads of nil were of unknown values, legal in every state (--nil-read absent to read them as absent)\n", out.NilReads)
		}
		if html != "" {
			fmt.Fprintf(w, "  visualisation  %s\n", html)
		}
		if out.Report != "" {
			fmt.Fprintf(w, "  report  %s\n", out.Report)
		}
	}
	if out.Verdict == checkers.Unknown {
		return harnessErr(fmt.Errorf("check: no verdict: %s", out.Explanation))
	}
	return verdictErr(out.Verdict)
}

// lowMemory trades some speed for memory while a big history is checked:
// the collector runs as often as Go's default (the CLI's GOGC=400 suits
// simulations, which keep little) and works harder near 768 MiB, unless
// the environment sets GOGC or GOMEMLIMIT.
func lowMemory() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(100)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(768 << 20)
	}
}

// progress prints a line on stderr now and then during a long check: the
// first after two seconds, then at most every two seconds.
type progress struct {
	w     io.Writer
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, start time.Time) *progress {
	return &progress{w: w, start: start, last: start}
}

func (p *progress) say(format string, args ...any) {
	now := time.Now()
	if now.Sub(p.last) < 2*time.Second {
		return
	}
	p.last = now
	fmt.Fprintf(p.w, "check: %s (%.0fs)\n", fmt.Sprintf(format, args...), now.Sub(p.start).Seconds())
}
