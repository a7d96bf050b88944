package reports

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/sim"
)

// Sweep is the summary of a sweep over a seed range, or of one shard of
// it, or of merged shards. Paths in File and Report are relative to the
// directory of the summary file (sweep.json), so that a summary can be
// moved with its folder; [Sweep.Rebase] makes them relative to elsewhere.
//
//	{
//	  "version": 2,
//	  "scenario": "raftkv-chaos",
//	  "command": "sofasim sweep raftkv-chaos --seeds 1..2000 --shard 1/4",
//	  "started": "2026-12-01T15:56:50Z",
//	  "build": {...},                 // see [Build]
//	  "workers": 8,
//	  "range": {"first": 1, "last": 2000},
//	  "shard": {"index": 1, "count": 4},
//	  "params": {"nodes": "5"},
//	  "bugs": [],
//	  "check_time_limit": "1m0s",
//	  "planned": 500,                 // seeds in this shard of the range
//	  "seeds": 500,                   // seeds with a verdict
//	  "passed": 497, "failed": 2, "unknown": 1,
//	  "out_of_time": 1,               // of the unknown: not findings (CauseOutOfTime)
//	  "stopped": "",                  // "interrupted" or "fail-fast" when it stopped early
//	  "shards": [...], "missing_shards": [...],   // merged summaries only
//	  "wall_seconds": 12.3, "seeds_per_second": 40.7,
//	  "failures": [{"seed": 884, "file": "884/failure.json", "report": "884/index.html",
//	                "replay": "sofasim replay out/raftkv-chaos/884/failure.json", "failures": ["..."]}],
//	  "unknowns": [{"seed": 9, "reason": "...", "cause": "out-of-time", "replay": "sofasim run raftkv-chaos --seed 9"}],
//	  "results": [{"seed": 1, "verdict": "pass", "fingerprint": "...", "events": 91234,
//	               "virtual_seconds": 70.1, "wall_seconds": 0.31}]
//	}
type Sweep struct {
	Version        int               `json:"version"`
	Scenario       string            `json:"scenario"`
	Command        string            `json:"command,omitempty"` // the command line that ran the sweep
	Started        string            `json:"started,omitempty"` // when it started (RFC 3339, UTC)
	Build          *Build            `json:"build,omitempty"`   // the sofasim that ran it
	Workers        int               `json:"workers,omitempty"` // worker processes at once
	Range          SeedRange         `json:"range"`
	Shard          Shard             `json:"shard"`
	Params         map[string]string `json:"params,omitempty"`
	Bugs           []string          `json:"bugs"`
	CheckTimeLimit sim.Duration      `json:"check_time_limit"`
	Planned        uint64            `json:"planned"`
	Seeds          uint64            `json:"seeds"`
	Passed         uint64            `json:"passed"`
	Failed         uint64            `json:"failed"`
	Unknown        uint64            `json:"unknown"`
	OutOfTime      uint64            `json:"out_of_time,omitempty"` // of the unknown: seeds or checks that ran out of wall time
	Stopped        string            `json:"stopped,omitempty"`
	Shards         []Shard           `json:"shards,omitempty"`
	MissingShards  []uint64          `json:"missing_shards,omitempty"`
	WallSeconds    float64           `json:"wall_seconds"`
	SeedsPerSecond float64           `json:"seeds_per_second"`
	Failures       []SeedFailure     `json:"failures"`
	Unknowns       []SeedUnknown     `json:"unknowns"`
	Results        []SeedResult      `json:"results,omitempty"`
	// MustReach are the scenario's declared must-reach states; Coverage
	// counts, per state reached (or declared), the seeds that reached it.
	MustReach []string        `json:"must_reach,omitempty"`
	Coverage  []StateCoverage `json:"coverage,omitempty"`
}

// SeedRange is an inclusive range of seeds.
type SeedRange struct {
	First uint64 `json:"first"`
	Last  uint64 `json:"last"`
}

func (r SeedRange) String() string {
	if r.First == r.Last {
		return fmt.Sprint(r.First)
	}
	return fmt.Sprintf("%d..%d", r.First, r.Last)
}

// Shard is the i-th of n shards (1-based): the seeds s of the range with
// (s - first) mod n == i - 1.
type Shard struct {
	Index uint64 `json:"index"`
	Count uint64 `json:"count"`
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// SeedResult is one seed's outcome. Error is set when the harness failed
// (the verdict is then unknown).
type SeedResult struct {
	Seed           uint64           `json:"seed"`
	Verdict        checkers.Verdict `json:"verdict"`
	Fingerprint    string           `json:"fingerprint,omitempty"`
	Events         uint64           `json:"events,omitempty"`
	VirtualSeconds float64          `json:"virtual_seconds,omitempty"`
	WallSeconds    float64          `json:"wall_seconds"`
	Failures       []string         `json:"failures,omitempty"`
	Error          string           `json:"error,omitempty"`
	Cause          string           `json:"cause,omitempty"` // why there is no verdict: CauseOutOfTime or CauseHarness
	File           string           `json:"file,omitempty"`
	Report         string           `json:"report,omitempty"`
	Replay         string           `json:"replay,omitempty"`
	Reached        []string         `json:"reached,omitempty"` // the coverage marks the seed reached
}

// Why a seed has no verdict. A seed out of time says nothing about the
// system under test: on a busy machine (more workers than cores, other
// jobs) a seed or its check may not finish within the wall-time limits.
// Rerun it alone (sofasim run has no time limit) to get its verdict.
const (
	CauseOutOfTime = "out-of-time" // the seed (--seed-timeout) or a check (--check-timeout) ran out of wall time
	CauseHarness   = "harness"     // the worker crashed or sofasim itself failed
)

// SeedCause is why a run whose verdict is unknown has none, from its
// checks' typed causes: out of time when every undecided check ran out of
// its time limit, harness when one could not judge the history the
// harness recorded.
func SeedCause(checks []checkers.Result) string {
	cause := CauseOutOfTime
	for _, c := range checks {
		if c.UnknownCause() == checkers.CauseUnjudgeable {
			cause = CauseHarness
		}
	}
	return cause
}

// CauseLabel is how reports name a seed without a verdict.
func CauseLabel(cause string) string {
	if cause == CauseOutOfTime {
		return "out of time"
	}
	return "no verdict"
}

// SeedFailure is a failing seed and its failure file.
type SeedFailure struct {
	Seed     uint64   `json:"seed"`
	File     string   `json:"file"`
	Report   string   `json:"report,omitempty"`
	Replay   string   `json:"replay"`
	Failures []string `json:"failures"`
}

// SeedUnknown is a seed without a verdict: a check ran out of time, or the
// harness failed (a worker crashed or hung).
type SeedUnknown struct {
	Seed   uint64 `json:"seed"`
	Reason string `json:"reason"`
	Cause  string `json:"cause,omitempty"`
	File   string `json:"file,omitempty"`
	Report string `json:"report,omitempty"`
	Replay string `json:"replay"`
}

// Finish sorts the results by seed and fills in the counts and the
// failure and unknown lists from them.
func (s *Sweep) Finish() {
	s.Version = Version
	sort.Slice(s.Results, func(i, j int) bool { return s.Results[i].Seed < s.Results[j].Seed })
	s.Seeds, s.Passed, s.Failed, s.Unknown, s.OutOfTime = uint64(len(s.Results)), 0, 0, 0, 0
	s.Failures, s.Unknowns = []SeedFailure{}, []SeedUnknown{}
	if s.Bugs == nil {
		s.Bugs = []string{}
	}
	for _, r := range s.Results {
		switch r.Verdict {
		case checkers.Pass:
			s.Passed++
		case checkers.Fail:
			s.Failed++
			s.Failures = append(s.Failures, SeedFailure{Seed: r.Seed, File: r.File, Report: r.Report, Replay: r.Replay, Failures: r.Failures})
		default:
			s.Unknown++
			reason := r.Error
			if reason == "" {
				reason = "verdict unknown"
				if len(r.Failures) > 0 {
					reason = r.Failures[0]
				}
			}
			if r.Cause == CauseOutOfTime {
				s.OutOfTime++
			}
			s.Unknowns = append(s.Unknowns, SeedUnknown{Seed: r.Seed, Reason: reason, Cause: r.Cause, File: r.File, Report: r.Report, Replay: r.Replay})
		}
	}
	if s.WallSeconds > 0 {
		s.SeedsPerSecond = round(float64(s.Seeds)/s.WallSeconds, 2)
	}
	s.Coverage = coverage(s.Results, s.MustReach)
}

// Verdict is the sweep's verdict: fail if a seed failed, unknown if a seed
// has no verdict or seeds are missing, pass otherwise.
func (s *Sweep) Verdict() checkers.Verdict {
	switch {
	case s.Failed > 0:
		return checkers.Fail
	case s.Unknown > 0 || s.Seeds < s.Planned || len(s.MissingShards) > 0 || s.Stopped != "":
		return checkers.Unknown
	}
	return checkers.Pass
}

// Marshal writes the summary as indented JSON.
func (s *Sweep) Marshal() []byte { return marshal(s) }

// Rebase returns a copy whose file and report paths are joined to dir
// (the summary's directory as seen from where the caller is).
func (s *Sweep) Rebase(dir string) *Sweep {
	c := *s
	join := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	c.Results = slices.Clone(s.Results)
	for i := range c.Results {
		c.Results[i].File, c.Results[i].Report = join(c.Results[i].File), join(c.Results[i].Report)
	}
	c.Failures = slices.Clone(s.Failures)
	for i := range c.Failures {
		c.Failures[i].File, c.Failures[i].Report = join(c.Failures[i].File), join(c.Failures[i].Report)
	}
	c.Unknowns = slices.Clone(s.Unknowns)
	for i := range c.Unknowns {
		c.Unknowns[i].File, c.Unknowns[i].Report = join(c.Unknowns[i].File), join(c.Unknowns[i].Report)
	}
	return &c
}

// ParseSweep reads a sweep summary strictly.
func ParseSweep(data []byte) (*Sweep, error) {
	var s Sweep
	if err := decodeStrict(data, &s); err != nil {
		return nil, err
	}
	switch {
	case s.Version != Version:
		return nil, fmt.Errorf("sweep summary version %d: this sofasim reads version %d", s.Version, Version)
	case s.Scenario == "":
		return nil, errors.New(`sweep summary has no "scenario"`)
	case s.Range.First > s.Range.Last:
		return nil, fmt.Errorf("sweep summary range %d..%d is reversed", s.Range.First, s.Range.Last)
	case s.Shard.Count == 0 || s.Shard.Index < 1 || s.Shard.Index > s.Shard.Count:
		return nil, fmt.Errorf("sweep summary shard %d/%d is out of range", s.Shard.Index, s.Shard.Count)
	}
	for _, r := range s.Results {
		if r.Seed < s.Range.First || r.Seed > s.Range.Last || (r.Seed-s.Range.First)%s.Shard.Count != s.Shard.Index-1 {
			return nil, fmt.Errorf("sweep summary has seed %d, which is not in shard %v of %v", r.Seed, s.Shard, s.Range)
		}
	}
	return &s, nil
}

// SummaryName is the base name (without .json or .html) of a sweep's
// summary: "sweep" for a whole range, "sweep-shard-I-of-N" for a shard,
// so that shards writing into one folder do not overwrite each other.
func SummaryName(sh Shard) string {
	if sh.Count <= 1 {
		return "sweep"
	}
	return fmt.Sprintf("sweep-shard-%d-of-%d", sh.Index, sh.Count)
}

// IsSummaryFile reports whether a file name is a sweep summary's.
func IsSummaryFile(name string) bool {
	if name == "sweep.json" {
		return true
	}
	var i, n uint64
	_, err := fmt.Sscanf(name, "sweep-shard-%d-of-%d.json", &i, &n)
	return err == nil && name == fmt.Sprintf("sweep-shard-%d-of-%d.json", i, n)
}

// Part is one summary to merge and the directory its paths are relative to.
type Part struct {
	Path  string // the summary file
	Sweep *Sweep
}

// Merge combines shard summaries of one sweep. They must agree on the
// scenario, range, shard count, parameters, bugs and check time limit, and
// no shard may appear twice. The merged summary lists the shards that went
// in and those missing; its paths are relative to outDir. Wall time is the
// longest shard's (they ran side by side).
func Merge(parts []Part, outDir string) (*Sweep, error) {
	if len(parts) == 0 {
		return nil, errors.New("no sweep summaries (sweep.json or sweep-shard-I-of-N.json) found")
	}
	parts = slices.Clone(parts)
	sort.SliceStable(parts, func(i, j int) bool { return parts[i].Sweep.Shard.Index < parts[j].Sweep.Shard.Index })
	first := parts[0].Sweep
	m := &Sweep{Version: Version, Scenario: first.Scenario, Range: first.Range, Shard: Shard{Index: 1, Count: 1},
		Params: first.Params, Bugs: first.Bugs, CheckTimeLimit: first.CheckTimeLimit, Build: first.Build, MustReach: first.MustReach}
	seen := map[uint64]string{}
	var scenariosSeen []string
	for _, p := range parts {
		s := p.Sweep
		if s.Scenario != first.Scenario {
			scenariosSeen = append(scenariosSeen, s.Scenario)
			continue
		}
		what := ""
		switch {
		case s.Range != first.Range:
			what = fmt.Sprintf("seed range %v, not %v", s.Range, first.Range)
		case s.Shard.Count != first.Shard.Count:
			what = fmt.Sprintf("%d shards, not %d", s.Shard.Count, first.Shard.Count)
		case !equalParams(s.Params, first.Params):
			what = "other parameters"
		case !slices.Equal(s.Bugs, first.Bugs):
			what = fmt.Sprintf("bugs %v, not %v", s.Bugs, first.Bugs)
		case s.CheckTimeLimit != first.CheckTimeLimit:
			what = fmt.Sprintf("check time limit %v, not %v", s.CheckTimeLimit, first.CheckTimeLimit)
		}
		if what != "" {
			return nil, fmt.Errorf("%s is another sweep than %s: %s", p.Path, parts[0].Path, what)
		}
		if prev, dup := seen[s.Shard.Index]; dup {
			return nil, fmt.Errorf("shard %v appears twice: %s and %s", s.Shard, prev, p.Path)
		}
		seen[s.Shard.Index] = p.Path
		m.Shards = append(m.Shards, s.Shard)
		m.Planned += s.Planned
		m.WallSeconds = max(m.WallSeconds, s.WallSeconds)
		if s.Stopped != "" && m.Stopped == "" {
			m.Stopped = s.Stopped
		}
		for _, r := range s.Results {
			r.File = relocate(filepath.Dir(p.Path), r.File, outDir)
			r.Report = relocate(filepath.Dir(p.Path), r.Report, outDir)
			m.Results = append(m.Results, r)
		}
		m.MissingShards = append(m.MissingShards, s.MissingShards...)
	}
	if len(scenariosSeen) > 0 {
		return nil, fmt.Errorf("the summaries are of several scenarios (%s, %s): merge each on its own", first.Scenario, strings.Join(slices.Compact(slices.Sorted(slices.Values(scenariosSeen))), ", "))
	}
	for i := uint64(1); i <= first.Shard.Count && first.Shard.Count > 1; i++ {
		if _, ok := seen[i]; !ok {
			m.MissingShards = append(m.MissingShards, i)
			m.Planned += Planned(m.Range, Shard{Index: i, Count: first.Shard.Count})
		}
	}
	slices.Sort(m.MissingShards)
	m.MissingShards = slices.Compact(m.MissingShards)
	m.Finish()
	return m, nil
}

// relocate rewrites a path relative to from as one relative to to. Either
// folder may be absolute or relative (to the working directory): both are
// made absolute first, since filepath.Rel cannot relate the two kinds.
func relocate(from, p, to string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	abs, err := filepath.Abs(filepath.Join(from, p))
	if err != nil {
		return filepath.Join(from, p)
	}
	if absTo, err := filepath.Abs(to); err == nil {
		if rel, err := filepath.Rel(absTo, abs); err == nil {
			return filepath.ToSlash(rel)
		}
	}
	return abs
}

func equalParams(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a { //detlint:allow comparison only
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// Planned counts the seeds of a range in a shard.
func Planned(r SeedRange, sh Shard) uint64 {
	if sh.Count == 0 || sh.Index < 1 || sh.Index > sh.Count || r.First > r.Last {
		return 0
	}
	off := sh.Index - 1
	if off > r.Last-r.First {
		return 0
	}
	return (r.Last-r.First-off)/sh.Count + 1
}

// ReadSweep reads a sweep summary file.
func ReadSweep(path string) (*Sweep, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := ParseSweep(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return s, nil
}
