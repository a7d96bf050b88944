package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/sofasim/sofasim/reports"
	"github.com/sofasim/sofasim/scenarios"
)

func newMergeCmd() *cobra.Command {
	var (
		out    string
		junit  string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "merge DIR...",
		Short: "Combine the outputs of sweep shards into one summary",
		Long: `merge finds the shard summaries (sweep-shard-I-of-N.json) under the given
folders, checks that they are shards of one sweep (same scenario, seed range,
shard count, parameters and bugs, no shard twice), and writes one summary:
sweep.json and index.html in the output folder, with the failing seeds'
folders copied in beside them. Shards that are missing are listed and make the
exit code 3.

The output folder defaults to the shards' folder when they all wrote into one
(a shared volume), and to a new out/SCENARIO/TIME-seedsA-B-merged otherwise;
--out DIR must be new, empty, or an earlier sofasim output (replaced).

Exit codes: 0 every seed passed, 1 a seed failed, 2 bad usage or input
(no summaries, malformed or mismatched ones), 3 seeds without a verdict,
shards missing or interrupted.`,
		Example: `  sofasim merge shard-1/out shard-2/out shard-3/out shard-4/out
  sofasim merge artifacts/ --out out/raftkv-chaos --junit junit.xml
  sofasim merge out/raftkv-chaos --json`,
		Args: argsNamed(1, -1, "DIR", "name the folders (DIR...) that hold the shards' summaries"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var parts []reports.Part
			for _, dir := range args {
				found, err := findSummaries(dir)
				if err != nil {
					return usageErr("merge: %v", err)
				}
				parts = append(parts, found...)
			}
			if len(parts) == 0 {
				return usageErr("merge: no sweep summaries (sweep.json or sweep-shard-I-of-N.json) under %v", args)
			}
			switch {
			case out != "":
				if err := ownOutDir("merge", out, nil, cmd.ErrOrStderr()); err != nil {
					return err
				}
			case commonDir(parts) != "":
				out = commonDir(parts)
				if err := prepareOut("merge", out); err != nil {
					return err
				}
			default:
				s := parts[0].Sweep
				dir, err := newOutDir(filepath.Join(outRoot, s.Scenario), fmt.Sprintf("seeds%d-%d-merged", s.Range.First, s.Range.Last))
				if err != nil {
					return usageErr("merge: %v", err)
				}
				out = dir
			}
			if junit != "" {
				if err := checkWritableFile(junit); err != nil {
					return usageErr("merge: --junit: %v", err)
				}
			}
			m, err := reports.Merge(parts, out)
			if err != nil {
				return usageErr("merge: %v", err)
			}
			m.Command, m.Started = commandLine(cmd, args), time.Now().UTC().Format(time.RFC3339)
			if err := gatherSeedDirs(m, out); err != nil {
				return harnessErr(fmt.Errorf("merge: copying the failing seeds' reports: %v", err))
			}
			if err := writeSweepFiles(out, "sweep", m); err != nil {
				return harnessErr(fmt.Errorf("merge: writing the summary: %v", err))
			}
			if junit != "" {
				if err := writeJUnit(junit, m.Rebase(out)); err != nil {
					return harnessErr(fmt.Errorf("merge: writing %s: %v", junit, err))
				}
			}
			w := cmd.OutOrStdout()
			if asJSON {
				printSweepJSON(w, m, out)
			} else {
				fmt.Fprintf(w, "merged %d %s of %s seeds %v", len(m.Shards), plural(len(m.Shards), "shard"), m.Scenario, m.Range)
				if len(m.MissingShards) > 0 {
					fmt.Fprintf(w, "; MISSING shards %v of %d", m.MissingShards, len(m.Shards)+len(m.MissingShards))
				}
				fmt.Fprintln(w)
				printSweepTable(w, m, out, filepath.Join(out, fileHTML), junit, 0)
			}
			return sweepErr(m)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&out, "out", "o", "", "output folder (default: the shards' common folder, else out/SCENARIO)")
	f.StringVar(&junit, "junit", "", "also write JUnit XML for all shards to this file")
	f.BoolVar(&asJSON, "json", false, "print the merged summary as one JSON object")
	return cmd
}

// findSummaries lists the sweep summaries at or under path, skipping
// merged ones (they list the shards they came from).
func findSummaries(path string) ([]reports.Part, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", path, unwrapPathErr(err))
	}
	var files []string
	if !st.IsDir() {
		files = []string{path}
	} else {
		err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && reports.IsSummaryFile(d.Name()) {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(files)
	var parts []reports.Part
	for _, f := range files {
		s, err := reports.ReadSweep(f)
		if err != nil {
			return nil, err
		}
		if len(s.Shards) > 0 {
			continue // an earlier merge's output
		}
		parts = append(parts, reports.Part{Path: f, Sweep: s})
	}
	return parts, nil
}

// commonDir is the folder every summary is in, or "".
func commonDir(parts []reports.Part) string {
	dir := filepath.Dir(parts[0].Path)
	for _, p := range parts[1:] {
		if filepath.Dir(p.Path) != dir {
			return ""
		}
	}
	return dir
}

// gatherSeedDirs copies each reported seed's folder into out/SEED when it
// is elsewhere, and points the summary at the copies.
func gatherSeedDirs(m *reports.Sweep, out string) error {
	for i := range m.Results {
		r := &m.Results[i]
		if r.File == "" && r.Report == "" {
			continue
		}
		ref := r.File
		if ref == "" {
			ref = r.Report
		}
		src := filepath.Dir(filepath.Join(out, filepath.FromSlash(ref)))
		dst := filepath.Join(out, fmt.Sprint(r.Seed))
		if same, err := sameDir(src, dst); err != nil {
			return err
		} else if !same {
			if err := copyDir(src, dst); err != nil {
				return err
			}
		}
		if r.File != "" {
			r.File = fmt.Sprintf("%d/%s", r.Seed, filepath.Base(r.File))
			r.Replay = prog + " replay " + scenarios.ShellQuote(filepath.Join(out, filepath.FromSlash(r.File)))
		}
		if r.Report != "" {
			r.Report = fmt.Sprintf("%d/%s", r.Seed, filepath.Base(r.Report))
		}
	}
	m.Finish()
	return nil
}

func sameDir(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	sb, err := os.Stat(b)
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(sa, sb), nil
}

// copyDir copies the regular files of src and of its logs folder into dst.
func copyDir(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() && e.Name() == reports.LogDir {
			if err := copyDir(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
				return err
			}
			continue
		}
		if !e.Type().IsRegular() {
			continue
		}
		in, err := os.Open(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		data, err := io.ReadAll(in)
		in.Close()
		if err != nil {
			return err
		}
		if err := reports.WriteFileAtomic(filepath.Join(dst, e.Name()), data); err != nil {
			return err
		}
	}
	return nil
}
