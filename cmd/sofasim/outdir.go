package main

// Output folders. Every run, sweep and shrink writes into a folder of its
// own and never mixes its files with an older result (Jepsen's store/:
// one timestamped folder per test run and a latest link):
//
//   - without --out, a new folder out/SCENARIO/STAMP-WHAT (STAMP is the UTC
//     time, 20261201T154532Z; a second one in the same second gets -2), and
//     out/SCENARIO/latest points at the newest;
//   - with --out DIR, DIR must be new, empty, or an earlier sofasim output,
//     which is removed first (a note says so). A folder holding anything
//     else is refused, so a mistyped --out never deletes a person's files.

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sofasim/sofasim/reports"
)

// outRoot is where default output folders go.
const outRoot = "out"

// latestLink is the name of the link to a scenario's newest output.
const latestLink = "latest"

// stampFormat names default output folders by their UTC start time.
const stampFormat = "20060102T150405Z"

// newOutDir creates a new folder parent/STAMP-what (or -2, -3, ... when
// taken) and points parent/latest at it.
func newOutDir(parent, what string) (string, error) {
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("cannot create output folder %s: %v", parent, unwrapPathErr(err))
	}
	base := time.Now().UTC().Format(stampFormat)
	if what != "" {
		base += "-" + what
	}
	for i := 1; ; i++ {
		name := base
		if i > 1 {
			name += "-" + strconv.Itoa(i)
		}
		dir := filepath.Join(parent, name)
		err := os.Mkdir(dir, 0o755)
		if os.IsExist(err) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("cannot create output folder %s: %v", dir, unwrapPathErr(err))
		}
		if err := reports.PrepareDir(dir); err != nil {
			return "", err
		}
		pointLatest(parent, name)
		return dir, nil
	}
}

// pointLatest makes parent/latest a link to name, replacing an older link
// atomically. Where links cannot be made, or latest is not a link, there
// is none: the printed paths still say where everything went.
func pointLatest(parent, name string) {
	link := filepath.Join(parent, latestLink)
	if st, err := os.Lstat(link); err == nil && st.Mode()&os.ModeSymlink == 0 {
		return
	}
	tmp := filepath.Join(parent, "."+latestLink+"."+strconv.Itoa(os.Getpid()))
	_ = os.Remove(tmp)
	if err := os.Symlink(name, tmp); err != nil {
		return
	}
	if err := os.Rename(tmp, link); err != nil {
		_ = os.Remove(tmp)
	}
}

// claimDir creates a new folder dir, or dir-2, dir-3, ... when taken.
func claimDir(dir string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("cannot create output folder %s: %v", filepath.Dir(dir), unwrapPathErr(err))
	}
	for i := 1; ; i++ {
		d := dir
		if i > 1 {
			d += "-" + strconv.Itoa(i)
		}
		err := os.Mkdir(d, 0o755)
		if os.IsExist(err) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("cannot create output folder %s: %v", d, unwrapPathErr(err))
		}
		return d, reports.PrepareDir(d)
	}
}

// ownOutDir prepares a folder given with --out: it must be new, empty or
// hold only what sofasim writes; keep says which of sofasim's entries to
// leave (another shard's, in a folder shards share), and the rest of them
// is removed. A note on w says when an earlier output was replaced.
func ownOutDir(who, dir string, keep func(name string) bool, w io.Writer) error {
	st, err := os.Stat(dir)
	switch {
	case os.IsNotExist(err):
		return prepareOut(who, dir)
	case err != nil:
		return usageErr("%s: cannot use output folder %s: %v", who, dir, unwrapPathErr(err))
	case !st.IsDir():
		return usageErr("%s: output folder %s is a file", who, dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return usageErr("%s: cannot read output folder %s: %v", who, dir, unwrapPathErr(err))
	}
	var remove []string
	for _, e := range entries {
		if !ours(filepath.Join(dir, e.Name()), e) {
			return usageErr("%s: output folder %s holds %s, which sofasim did not write: give a new or empty folder", who, dir, e.Name())
		}
		if keep == nil || !keep(e.Name()) {
			remove = append(remove, e.Name())
		}
	}
	replaced := false
	for _, name := range remove {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return usageErr("%s: cannot clear output folder %s: %v", who, dir, unwrapPathErr(err))
		}
		replaced = replaced || !strings.HasPrefix(name, ".")
	}
	if replaced {
		fmt.Fprintf(w, "sofasim: note: %s held an earlier output; it was replaced\n", dir)
	}
	return prepareOut(who, dir)
}

// ours reports whether a folder entry is one sofasim writes: a run's
// files, a sweep's summaries, a seed's or a shrink's folder (holding only
// such files), node logs, and temporary files of an interrupted write.
func ours(path string, e os.DirEntry) bool {
	name := e.Name()
	if strings.HasPrefix(name, ".") && (strings.HasSuffix(name, ".tmp") || strings.HasPrefix(name, ".sofasim-write-test-")) {
		return true
	}
	if !e.IsDir() {
		switch name {
		case fileResult, fileFailure, fileHTML, fileHistory, fileTrace:
			return true
		}
		return reports.IsSummaryFile(name) || isSummaryPage(name)
	}
	if _, err := strconv.ParseUint(name, 10, 64); err != nil && name != reports.LogDir && !isShrunkDir(name) {
		return false
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return false
	}
	for _, c := range entries {
		if name == reports.LogDir {
			if c.IsDir() || !strings.HasSuffix(c.Name(), ".log") {
				return false
			}
			continue
		}
		if !ours(filepath.Join(path, c.Name()), c) {
			return false
		}
	}
	return true
}

func isShrunkDir(name string) bool {
	if name == "shrunk" {
		return true
	}
	n, ok := strings.CutPrefix(name, "shrunk-")
	_, err := strconv.Atoi(n)
	return ok && err == nil
}

func isSummaryPage(name string) bool {
	base, ok := strings.CutSuffix(name, ".html")
	return ok && reports.IsSummaryFile(base+".json")
}

// sweepOutDir sets c.out: --out DIR (whose earlier output is replaced, but
// for other shards' files when this is a shard: shards may share a
// folder), or a new out/SCENARIO/TIME-seedsA-B[-shardIofN].
func sweepOutDir(c *sweepConfig, w io.Writer) error {
	if c.out != "" {
		var keep func(string) bool
		if c.shard.Count > 1 {
			mine := reports.SummaryName(c.shard)
			keep = func(name string) bool {
				if base, _, _ := strings.Cut(name, "."); base == mine {
					return false
				}
				if seed, err := strconv.ParseUint(name, 10, 64); err == nil {
					return seed < c.seeds.First || seed > c.seeds.Last || reports.ShardOf(c.seeds, seed, c.shard.Count) != c.shard.Index
				}
				return reports.IsSummaryFile(name) || isSummaryPage(name) || strings.HasPrefix(name, ".")
			}
		}
		return ownOutDir("sweep", c.out, keep, w)
	}
	what := fmt.Sprintf("seeds%d-%d", c.seeds.First, c.seeds.Last)
	if c.shard.Count > 1 {
		what += fmt.Sprintf("-shard%dof%d", c.shard.Index, c.shard.Count)
	}
	dir, err := newOutDir(filepath.Join(outRoot, c.scenario), what)
	if err != nil {
		return usageErr("sweep: %v", err)
	}
	c.out = dir
	return nil
}
