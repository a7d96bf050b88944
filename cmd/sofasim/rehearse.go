package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/sofasim/sofasim/rehearsal"
	"github.com/sofasim/sofasim/reports"
)

func newRehearseCmd() *cobra.Command {
	var (
		seed         uint64
		out          string
		asJSON       bool
		printDefault bool
		capacity     []string
		progressMode string
	)
	cmd := &cobra.Command{
		Use:   "rehearse [FILE]",
		Short: "Run a Double-Eleven load rehearsal of the whole stack (default: 2020's peak at 1/1000)",
		Long: `rehearse runs a load rehearsal: the registry, the mesh (sidecars and pilots), the
transaction coordinator and the applications of a rehearsal file in one simulated
world, open-loop traffic following the file's profile, and its drills (a zone lost,
a TC leader or registry data server failing over, a slow database). With no FILE it
runs the built-in rehearsal (--print-default shows it).

It writes into --out (default out/rehearse/NAME/): result.json (every series),
series.csv and index.html (charts with the drills marked). Exit codes: 0 SLOs met
and invariants hold, 1 an SLO was violated (the first is named: service, second,
metric) or an invariant broke (money, locks, convergence), 2 bad input.

--find-capacity SERVICE... bisects each service's instance count (in order, the
others at the counts found so far) for the fewest that meet the SLOs; runs are
cached. 'rehearse compare A B' shows two results side by side.`,
		Example: `  sofasim rehearse
  sofasim rehearse --print-default > my.yaml && sofasim rehearse my.yaml --seed 2
  sofasim rehearse --find-capacity order,account
  sofasim rehearse compare out/rehearse/a out/rehearse/b`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
			if printDefault {
				_, err := stdout.Write(rehearsal.DefaultYAML())
				return err
			}
			f := rehearsal.Default()
			if len(args) == 1 {
				b, err := os.ReadFile(args[0])
				if err != nil {
					return usageErr("rehearse: %v", err)
				}
				if f, err = rehearsal.Parse(b); err != nil {
					return usageErr("rehearse: %s: %v", args[0], err)
				}
			}
			if out == "" {
				out = filepath.Join("out", "rehearse", f.Name)
			}
			showBar := progressMode == "always" || (progressMode == "auto" && isTerminal(stderr))
			if len(capacity) > 0 {
				return findCapacity(stdout, stderr, f, seed, capacity, out, asJSON, showBar)
			}
			opts := rehearsal.Options{Seed: seed}
			bar := rehearsalBar(stderr, f, showBar, "")
			if bar != nil {
				opts.Progress = bar.update
			}
			r := rehearsal.Run(f, opts)
			bar.done()
			if err := reports.WriteRehearsal(out, r); err != nil {
				return harnessErr(err)
			}
			if asJSON {
				enc := json.NewEncoder(stdout)
				if err := enc.Encode(r); err != nil {
					return harnessErr(err)
				}
			} else {
				printRehearsal(stdout, r, out)
			}
			if !r.Passed() {
				return errFinding
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.Uint64Var(&seed, "seed", 0, "seed (default: the file's)")
	fl.StringVar(&out, "out", "", "output folder (default out/rehearse/NAME)")
	fl.BoolVar(&asJSON, "json", false, "print the result as one JSON object")
	fl.BoolVar(&printDefault, "print-default", false, "print the built-in rehearsal file and exit")
	fl.StringSliceVar(&capacity, "find-capacity", nil, "services whose instance counts to search for (comma-separated or repeated)")
	fl.StringVar(&progressMode, "progress", "auto", "progress bar on stderr: auto (when a terminal), always or never")
	cmd.AddCommand(newRehearseCompareCmd())
	return cmd
}

// rehearsalBar shows virtual time and the current load.
type rehearsalBarT struct {
	b *progressbar.ProgressBar
	w io.Writer
}

func rehearsalBar(w io.Writer, f *rehearsal.File, show bool, prefix string) *rehearsalBarT {
	if !show {
		return nil
	}
	total := rehearsal.Warmup + f.Duration() + f.TailDuration()
	b := progressbar.NewOptions64(int64(total/time.Second), progressbar.OptionSetWriter(w),
		progressbar.OptionSetWidth(30), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetDescription(prefix+"warm-up"))
	_ = b.RenderBlank()
	return &rehearsalBarT{b: b, w: w}
}

func (r *rehearsalBarT) update(p rehearsal.Progress) {
	phase := fmt.Sprintf("t=%ds %d req/s", p.Second, p.Rate)
	if p.Second < 0 {
		phase = "warm-up"
	}
	r.b.Describe(fmt.Sprintf("virtual %4.0fs  %s", p.Virtual.Seconds(), phase))
	_ = r.b.Set64(int64(p.Virtual / time.Second))
}

func (r *rehearsalBarT) done() {
	if r != nil {
		_ = r.b.Finish()
		_ = r.b.Exit()
		fmt.Fprintln(r.w)
	}
}

func printRehearsal(w io.Writer, r *rehearsal.Result, out string) {
	verdict := "PASS"
	if !r.Passed() {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "%s %s seed %d: %d s of traffic, %.0f s virtual in %.1f s (%.1fx real time; %.1f s CPU, %.1fx), fingerprint %s\n",
		verdict, r.Name, r.Seed, r.Seconds, r.Virtual, r.Wall, r.Speedup, r.CPU, r.CPUSpeedup, r.Fingerprint)
	fmt.Fprintf(w, "  %-10s %9s %9s %9s %9s %6s %7s\n", "service", "instances", "requests", "success", "p99", "peak", "needed")
	for _, s := range r.Services {
		fmt.Fprintf(w, "  %-10s %9d %9d %8.3f%% %7.0fms %5.0f%% %7s\n", s.Name, s.Instances, s.Requests, 100*s.SuccessTotal, s.P99Total, 100*s.PeakUtil, fmt.Sprintf("~%d", s.Estimate))
	}
	fmt.Fprintf(w, "  (peak: busiest second's worker utilisation; needed: instances for %.0f%% there, an estimate: --find-capacity gives the exact count)\n", 100*rehearsal.TargetUtil)
	for _, d := range r.Drills {
		fmt.Fprintf(w, "  drill at %s: %s\n", d.At, d.What)
	}
	if r.Verdict.Met {
		fmt.Fprintln(w, "  SLOs met")
	} else {
		fmt.Fprintf(w, "  SLO violated first: %s\n", r.Verdict.First)
		fmt.Fprintf(w, "    what broke: %s\n", r.Verdict.Cause)
		for _, v := range r.Verdict.Violations[1:] {
			fmt.Fprintf(w, "    also: %s\n", v)
		}
	}
	for _, c := range r.Correctness {
		fmt.Fprintf(w, "  CORRECTNESS: %s\n", c)
	}
	for _, u := range r.Unjudged {
		fmt.Fprintf(w, "  not judged: %s\n", u)
	}
	fmt.Fprintf(w, "  report %s\n", filepath.Join(out, "index.html"))
}

func findCapacity(stdout, stderr io.Writer, f *rehearsal.File, seed uint64, services []string, out string, asJSON, showBar bool) error {
	for _, s := range services {
		if f.Service(s) == nil {
			return usageErr("rehearse: --find-capacity: %q is not a service (services: %s)", s, strings.Join(serviceNames(f), ", "))
		}
	}
	s := &rehearsal.Search{File: f, Opts: rehearsal.Options{Seed: seed}}
	s.OnRun = func(c map[string]int, r *rehearsal.Result) {
		desc := ""
		for _, name := range services {
			desc += fmt.Sprintf(" %s=%d", name, c[name])
		}
		verdict := "meets the SLOs"
		if !r.Passed() {
			verdict = "fails"
			if r.Verdict.First != nil {
				verdict += ": " + r.Verdict.First.String()
			} else if len(r.Correctness) > 0 {
				verdict += ": " + r.Correctness[0]
			}
		}
		fmt.Fprintf(stderr, "  run %d:%s %s (%.1fs)\n", s.Runs, desc, verdict, r.Wall)
		_ = reports.WriteRehearsal(filepath.Join(out, "capacity", fmt.Sprintf("run-%d", s.Runs)), r)
	}
	caps, err := s.Find(services)
	if err != nil {
		return usageErr("rehearse: %v", err)
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(caps)
	}
	for _, c := range caps {
		if c.Needed == 0 {
			fmt.Fprintf(stdout, "%s: no count tried meets the SLOs (last failure: %s)\n", c.Service, c.FirstViolation)
			continue
		}
		fmt.Fprintf(stdout, "%s: %d %s needed (the file has %d)\n", c.Service, c.Needed, plural(c.Needed, "instance"), f.Service(c.Service).Total())
	}
	fmt.Fprintf(stdout, "%d runs; reports under %s\n", s.Runs, filepath.Join(out, "capacity"))
	if slices.ContainsFunc(caps, func(c rehearsal.Capacity) bool { return c.Needed == 0 }) {
		return errFinding
	}
	return nil
}

func serviceNames(f *rehearsal.File) []string {
	var out []string
	for _, s := range f.Services {
		out = append(out, s.Name)
	}
	return out
}

func newRehearseCompareCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "compare A B",
		Short: "Show two rehearsal results side by side (folders or result.json files)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := reports.ReadRehearsal(args[0])
			if err != nil {
				return usageErr("rehearse compare: %v", err)
			}
			b, err := reports.ReadRehearsal(args[1])
			if err != nil {
				return usageErr("rehearse compare: %v", err)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%-22s %14s %14s\n", "", "A", "B")
			row := func(label, x, y string) { fmt.Fprintf(w, "%-22s %14s %14s\n", label, x, y) }
			verdict := func(r *rehearsal.Result) string {
				if r.Passed() {
					return "pass"
				}
				if r.Verdict.First != nil {
					return fmt.Sprintf("%s@%ds", r.Verdict.First.Service, r.Verdict.First.Second)
				}
				return "invariant"
			}
			row("verdict", verdict(a), verdict(b))
			for _, s := range a.Services {
				t := b.Services[slices.IndexFunc(b.Services, func(x rehearsal.ServiceSeries) bool { return x.Name == s.Name })]
				row(s.Name+" instances", fmt.Sprint(s.Instances), fmt.Sprint(t.Instances))
				row(s.Name+" success", fmt.Sprintf("%.3f%%", 100*s.SuccessTotal), fmt.Sprintf("%.3f%%", 100*t.SuccessTotal))
				row(s.Name+" p99", fmt.Sprintf("%.0fms", s.P99Total), fmt.Sprintf("%.0fms", t.P99Total))
				row(s.Name+" peak util", fmt.Sprintf("%.0f%%", 100*s.PeakUtil), fmt.Sprintf("%.0f%%", 100*t.PeakUtil))
			}
			if out == "" {
				out = filepath.Join("out", "rehearse", "compare.html")
			}
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return harnessErr(err)
			}
			fh, err := os.Create(out)
			if err != nil {
				return harnessErr(err)
			}
			defer fh.Close()
			if err := reports.RehearsalCompareHTML(fh, a, b, args[0], args[1]); err != nil {
				return harnessErr(err)
			}
			fmt.Fprintf(w, "report %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "HTML file (default out/rehearse/compare.html)")
	return cmd
}
