package main

import (
	"bytes"
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

It writes a new failure file (default: shrunk/failure.json next to FILE) with
its HTML report beside it, and prints what it removed.

Exit codes: 1 the shrunk plan was written (it fails, as a failure file does),
2 bad usage or input (including a FILE that does not fail), 3 the harness
failed or FILE's fingerprint no longer matches.`,
		Example: `  sofasim shrink out/raftkv-chaos/884/failure.json
  sofasim shrink out/raftkv-chaos/884/failure.json --budget 500 --out min.json
  sofasim shrink failure.json --keep liveness --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := args[0]
			if budget < 1 {
				return usageErr("shrink: --budget must be at least 1, not %d", budget)
			}
			if checkTimeout < 0 {
				return usageErr("shrink: --check-timeout must not be negative")
			}
			rr, err := loadRerunnable(file)
			if err != nil {
				return usageErr("shrink: %v", err)
			}
			if out == "" {
				out = filepath.Join(filepath.Dir(file), "shrunk", fileFailure)
			}
			if err := prepareOut(filepath.Dir(out)); err != nil {
				return err
			}
			first, err := execute(rr.plan, scenarios.Options{})
			if err != nil {
				return harnessErr(fmt.Errorf("shrink: %v", err))
			}
			if rr.recorded != nil && rr.recorded.Fingerprint != reports.FormatFingerprint(first.res.Fingerprint) {
				return harnessErr(fmt.Errorf("shrink: %s no longer reproduces: fingerprint %016x, recorded %s (the code or the scenario changed)",
					file, first.res.Fingerprint, rr.recorded.Fingerprint))
			}
			if first.res.Verdict != checkers.Fail {
				return usageErr("shrink: %s does not fail (verdict %s): nothing to shrink", file, first.res.Verdict)
			}
			target, err := shrinkTarget(first.res, keep)
			if err != nil {
				return usageErr("shrink: %v", err)
			}
			s := &shrinker{target: target, budget: budget, opts: scenarios.Options{CheckTimeLimit: checkTimeout}, cache: map[string]bool{}}
			small := s.minimise(rr.plan)

			final, err := execute(small, scenarios.Options{})
			if err != nil {
				return harnessErr(fmt.Errorf("shrink: %v", err))
			}
			if !target.holds(final.res) {
				// A candidate failed only under the check time limit's
				// luck: fall back to the input.
				small, final = rr.plan, first
			}
			replay := "sofasim replay " + shellQuote(out)
			rep := newReport(final, replay, runCommand(final.res))
			if err := reports.WriteFileAtomic(out, rep.Marshal()); err != nil {
				return harnessErr(fmt.Errorf("shrink: writing %s: %v", out, err))
			}
			dir := filepath.Dir(out)
			var hist, page bytes.Buffer
			if checkers.WriteJSON(&hist, final.res.History) == nil {
				_ = reports.WriteFileAtomic(filepath.Join(dir, fileHistory), hist.Bytes())
			}
			if err := reports.WriteHTML(&page, reports.Run{Result: rep, History: final.res.History, Linearization: linearization(final.res)}); err != nil {
				return harnessErr(fmt.Errorf("shrink: the HTML report: %v", err))
			}
			html := filepath.Join(dir, fileHTML)
			if err := reports.WriteFileAtomic(html, page.Bytes()); err != nil {
				return harnessErr(fmt.Errorf("shrink: writing %s: %v", html, err))
			}
			so := shrinkOutput{File: out, Report: html, Kept: target.String(), Runs: s.runs, Budget: budget, Exhausted: s.exhausted,
				FaultsBefore: len(rr.plan.Faults), FaultsAfter: len(small.Faults), OpsBefore: len(rr.plan.Ops), OpsAfter: len(small.Ops),
				DurationBefore: rr.plan.Duration, DurationAfter: small.Duration,
				Verdict: rep.Verdict, Fingerprint: rep.Fingerprint, Failures: rep.Failures, Replay: replay}
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
	f.StringVarP(&out, "out", "o", "", "the shrunk failure file (default shrunk/failure.json next to FILE)")
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
	fmt.Fprintf(w, "; %d ops -> %d; duration %v -> %v\n", so.OpsBefore, so.OpsAfter, so.DurationBefore, so.DurationAfter)
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

// target is the failure a shrink keeps.
type target struct {
	finding bool // a finding kind, else a checker name
	name    string
}

func (t target) String() string {
	if t.finding {
		return "finding " + t.name
	}
	return "checker " + t.name + " failing"
}

func (t target) holds(res *scenarios.Result) bool {
	if t.finding {
		for _, f := range res.Findings {
			if f.Kind == t.name {
				return true
			}
		}
		return false
	}
	for _, c := range res.Checks {
		if c.Checker == t.name && c.Verdict == checkers.Fail {
			return true
		}
	}
	return false
}

// shrinkTarget picks the failure to keep: --keep, or the first finding's
// kind, or the first failing checker.
func shrinkTarget(res *scenarios.Result, keep string) (target, error) {
	var names []string
	for _, f := range res.Findings {
		t := target{finding: true, name: f.Kind}
		if keep == "" || keep == f.Kind {
			return t, nil
		}
		names = append(names, f.Kind)
	}
	for _, c := range res.Checks {
		if c.Verdict != checkers.Fail {
			continue
		}
		if keep == "" || keep == c.Checker {
			return target{name: c.Checker}, nil
		}
		names = append(names, c.Checker)
	}
	if keep != "" {
		return target{}, fmt.Errorf("--keep %s: the run's failures are %s", keep, strings.Join(names, ", "))
	}
	return target{}, errors.New("the run has no failure to keep")
}

// shrinker minimises a plan by delta debugging; every test is a full run.
type shrinker struct {
	target    target
	budget    int
	runs      int
	exhausted bool
	opts      scenarios.Options
	cache     map[string]bool
}

// fails runs a candidate plan and reports whether the target failure holds.
func (s *shrinker) fails(p *scenarios.Plan) bool {
	key := string(p.Marshal())
	if v, ok := s.cache[key]; ok {
		return v
	}
	if s.runs >= s.budget {
		s.exhausted = true
		return false
	}
	s.runs++
	o, err := execute(p, s.opts)
	v := err == nil && s.target.holds(o.res)
	s.cache[key] = v
	return v
}

// minimise shrinks the fault steps and the operations in turn until
// neither shrinks, then the duration.
func (s *shrinker) minimise(orig *scenarios.Plan) *scenarios.Plan {
	p := clonePlan(orig)
	for round := 0; round < 4; round++ {
		nf, no := len(p.Faults), len(p.Ops)
		p.Faults = ddmin(p.Faults, func(fs []scenarios.Step) bool {
			c := clonePlan(p)
			c.Faults = fs
			return s.fails(c)
		})
		p.Ops = ddmin(p.Ops, func(ops []scenarios.Op) bool {
			c := clonePlan(p)
			c.Ops = ops
			return s.fails(c)
		})
		if len(p.Faults) == nf && len(p.Ops) == no {
			break
		}
	}
	p.Duration = s.shortest(p)
	return p
}

// shortest binary-searches the shortest duration, in milliseconds, that
// still fails, no shorter than the last fault or operation.
func (s *shrinker) shortest(p *scenarios.Plan) sim.Duration {
	lo := sim.Duration(time.Millisecond)
	for _, f := range p.Faults {
		lo = max(lo, f.At+sim.Duration(time.Millisecond))
	}
	for _, op := range p.Ops {
		lo = max(lo, op.At+sim.Duration(time.Millisecond))
	}
	ms := func(d sim.Duration) int64 { return int64(time.Duration(d) / time.Millisecond) }
	loMS, hiMS := ms(lo), ms(p.Duration)
	best := p.Duration
	for loMS < hiMS {
		mid := loMS + (hiMS-loMS)/2
		c := clonePlan(p)
		c.Duration = sim.Duration(time.Duration(mid) * time.Millisecond)
		if s.fails(c) {
			best, hiMS = c.Duration, mid
		} else {
			loMS = mid + 1
		}
	}
	return best
}

func clonePlan(p *scenarios.Plan) *scenarios.Plan {
	c := *p
	c.Ops = append([]scenarios.Op(nil), p.Ops...)
	c.Faults = append([]scenarios.Step(nil), p.Faults...)
	c.Bugs = append([]string(nil), p.Bugs...)
	if p.Params != nil {
		c.Params = map[string]string{}
		for _, k := range sortedParamKeys(p.Params) {
			c.Params[k] = p.Params[k]
		}
	}
	return &c
}

// ddmin is Zeller's delta debugging: it returns a 1-minimal subsequence
// of items for which fails holds (fails(items) is assumed), trying the
// empty list first, then chunks and their complements in a fixed order.
func ddmin[T any](items []T, fails func([]T) bool) []T {
	if len(items) == 0 {
		return items
	}
	if fails([]T{}) {
		return []T{}
	}
	n := 2
	for len(items) >= 2 {
		chunks := split(items, n)
		reduced := false
		for _, c := range chunks {
			if fails(c) {
				items, n, reduced = c, 2, true
				break
			}
		}
		if !reduced && n > 2 {
			for i := range chunks {
				comp := complement(chunks, i)
				if fails(comp) {
					items, n, reduced = comp, max(n-1, 2), true
					break
				}
			}
		}
		if !reduced {
			if n >= len(items) {
				break
			}
			n = min(2*n, len(items))
		}
	}
	return items
}

// split cuts items into n chunks of nearly equal size, in order.
func split[T any](items []T, n int) [][]T {
	out := make([][]T, 0, n)
	start := 0
	for i := 0; i < n; i++ {
		end := start + (len(items)-start)/(n-i)
		out = append(out, append([]T(nil), items[start:end]...))
		start = end
	}
	return out
}

func complement[T any](chunks [][]T, skip int) []T {
	var out []T
	for i, c := range chunks {
		if i != skip {
			out = append(out, c...)
		}
	}
	if out == nil {
		out = []T{}
	}
	return out
}
