package reports

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/sim"
)

// shardSweep is shard i of n over 1..10 where seed 4 fails and seed 7 has
// no verdict.
func shardSweep(i, n uint64) *Sweep {
	s := &Sweep{Scenario: "demo", Range: SeedRange{1, 10}, Shard: Shard{i, n}, Bugs: []string{"bug/demo/stale"},
		CheckTimeLimit: sim.Duration(60e9), Planned: Planned(SeedRange{1, 10}, Shard{i, n}), WallSeconds: float64(i)}
	Seeds(s.Range, s.Shard, func(seed uint64) bool {
		r := SeedResult{Seed: seed, Verdict: checkers.Pass, Fingerprint: "0123456789abcdef", Events: 100, VirtualSeconds: 1, WallSeconds: 0.01}
		switch seed {
		case 4:
			r.Verdict, r.Failures = checkers.Fail, []string{"linearizable: not linearizable"}
			r.File, r.Report, r.Replay = "4/failure.json", "4/index.html", "sofasim replay out/demo/4/failure.json"
		case 7:
			r.Verdict, r.Error, r.Replay = checkers.Unknown, "seed timed out after 5m0s: the worker was killed", "sofasim run demo --seed 7"
			r.Cause = CauseOutOfTime
		}
		s.Results = append(s.Results, r)
		return true
	})
	s.Finish()
	return s
}

func TestSweepFinishAndRoundTrip(t *testing.T) {
	s := shardSweep(1, 1)
	assert.Equal(t, uint64(10), s.Seeds)
	assert.Equal(t, uint64(8), s.Passed)
	assert.Equal(t, uint64(1), s.Failed)
	assert.Equal(t, uint64(1), s.Unknown)
	require.Len(t, s.Failures, 1)
	assert.Equal(t, SeedFailure{Seed: 4, File: "4/failure.json", Report: "4/index.html", Replay: "sofasim replay out/demo/4/failure.json",
		Failures: []string{"linearizable: not linearizable"}}, s.Failures[0])
	require.Len(t, s.Unknowns, 1)
	assert.Contains(t, s.Unknowns[0].Reason, "timed out")
	assert.Equal(t, checkers.Fail, s.Verdict())

	data := s.Marshal()
	back, err := ParseSweep(data)
	require.NoError(t, err)
	assert.Equal(t, string(data), string(back.Marshal()))

	rb := s.Rebase("out/demo")
	assert.Equal(t, filepath.Join("out/demo", "4/failure.json"), rb.Failures[0].File)
	assert.Equal(t, "4/failure.json", s.Failures[0].File, "Rebase copies")
}

func TestParseSweepIsStrict(t *testing.T) {
	good := string(shardSweep(2, 3).Marshal())
	for name, data := range map[string]string{
		"unknown field": strings.Replace(good, `"version": 2,`, `"version": 2, "x": 1,`, 1),
		"version":       strings.Replace(good, `"version": 2,`, `"version": 7,`, 1),
		"bad shard":     strings.Replace(good, `"index": 2`, `"index": 4`, 1),
		"reversed":      strings.Replace(good, `"first": 1`, `"first": 11`, 1),
		"foreign seed":  strings.Replace(good, `"seed": 2,`, `"seed": 3,`, 1),
		"truncated":     good[:len(good)/2],
	} {
		_, err := ParseSweep([]byte(data))
		assert.Error(t, err, name)
	}
}

func TestMerge(t *testing.T) {
	whole := shardSweep(1, 1)
	parts := []Part{
		{Path: "a/out/demo/sweep-shard-2-of-3.json", Sweep: shardSweep(2, 3)},
		{Path: "b/out/demo/sweep-shard-1-of-3.json", Sweep: shardSweep(1, 3)},
		{Path: "c/out/demo/sweep-shard-3-of-3.json", Sweep: shardSweep(3, 3)},
	}
	m, err := Merge(parts, "merged")
	require.NoError(t, err)
	assert.Equal(t, whole.Seeds, m.Seeds)
	assert.Equal(t, whole.Planned, m.Planned)
	assert.Equal(t, whole.Failed, m.Failed)
	assert.Equal(t, whole.Unknown, m.Unknown)
	assert.Equal(t, []Shard{{1, 3}, {2, 3}, {3, 3}}, m.Shards)
	assert.Empty(t, m.MissingShards)
	assert.Equal(t, 3.0, m.WallSeconds, "shards run side by side: the longest one")
	for i, r := range m.Results {
		assert.Equal(t, uint64(i+1), r.Seed)
	}
	// Seed 4 is in shard 1 ((4-1) mod 3 = 0): its file is under b/.
	assert.Equal(t, "../b/out/demo/4/failure.json", m.Failures[0].File)

	// A missing shard is listed and its seeds count as planned.
	m, err = Merge(parts[:2], "merged")
	require.NoError(t, err)
	assert.Equal(t, []uint64{3}, m.MissingShards)
	assert.Equal(t, uint64(10), m.Planned)
	assert.Equal(t, uint64(7), m.Seeds)

	// Shards of other sweeps, or the same shard twice, do not merge.
	other := shardSweep(3, 3)
	other.Bugs = nil
	for name, ps := range map[string][]Part{
		"twice":    {parts[0], {Path: "x/sweep-shard-2-of-3.json", Sweep: shardSweep(2, 3)}},
		"count":    {parts[0], {Path: "x/sweep-shard-1-of-4.json", Sweep: shardSweep(1, 4)}},
		"bugs":     {parts[0], {Path: "x/sweep-shard-3-of-3.json", Sweep: other}},
		"scenario": {parts[0], {Path: "x/sweep.json", Sweep: func() *Sweep { s := shardSweep(1, 3); s.Scenario = "else"; return s }()}},
		"none":     {},
	} {
		_, err := Merge(ps, "merged")
		assert.Error(t, err, name)
	}
}

// TestMergeMixesAbsoluteAndRelativePaths: shard summaries given relative to
// the working directory merge into an absolute output folder, and the
// other way round, with the failing seeds' files still found.
func TestMergeMixesAbsoluteAndRelativePaths(t *testing.T) {
	wd, err := os.Getwd()
	require.NoError(t, err)
	for name, c := range map[string]struct{ shard, out string }{
		"relative shard, absolute out": {"sh/s1/sweep-shard-1-of-3.json", filepath.Join(wd, "merged")},
		"absolute shard, relative out": {filepath.Join(wd, "sh/s1/sweep-shard-1-of-3.json"), "merged"},
		"relative both":                {"sh/s1/sweep-shard-1-of-3.json", "out/merged"},
	} {
		m, err := Merge([]Part{{Path: c.shard, Sweep: shardSweep(1, 3)}}, c.out)
		require.NoError(t, err, name)
		got := filepath.Join(c.out, filepath.FromSlash(m.Failures[0].File))
		want := filepath.Join(wd, "sh/s1/4/failure.json")
		abs, err := filepath.Abs(got)
		require.NoError(t, err)
		assert.Equal(t, want, abs, name)
	}
}

func TestSummaryNames(t *testing.T) {
	assert.Equal(t, "sweep", SummaryName(Shard{1, 1}))
	assert.Equal(t, "sweep-shard-2-of-8", SummaryName(Shard{2, 8}))
	assert.True(t, IsSummaryFile("sweep.json"))
	assert.True(t, IsSummaryFile("sweep-shard-2-of-8.json"))
	assert.False(t, IsSummaryFile("sweep-shard-2-of-8.json.tmp"))
	assert.False(t, IsSummaryFile("result.json"))
	assert.False(t, IsSummaryFile("sweep-shard-02-of-8.json"))
}

func TestJUnit(t *testing.T) {
	s := shardSweep(1, 1)
	var b bytes.Buffer
	require.NoError(t, WriteJUnit(&b, s.Rebase("out/demo")))
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Error *struct {
					Message string `xml:"message,attr"`
					Type    string `xml:"type,attr"`
				} `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(b.Bytes(), &doc), b.String())
	assert.Equal(t, 10, doc.Tests)
	assert.Equal(t, 1, doc.Failures)
	assert.Equal(t, 1, doc.Errors)
	require.Len(t, doc.Suites, 1)
	assert.Equal(t, "demo", doc.Suites[0].Name)
	c := doc.Suites[0].Cases[3]
	assert.Equal(t, "seed 4", c.Name)
	require.NotNil(t, c.Failure)
	assert.Equal(t, "linearizable: not linearizable", c.Failure.Message)
	assert.Contains(t, c.Failure.Text, "replay: sofasim replay out/demo/4/failure.json")
	assert.Contains(t, c.Failure.Text, "report: out/demo/4/index.html")
	require.NotNil(t, doc.Suites[0].Cases[6].Error)
	assert.Contains(t, doc.Suites[0].Cases[6].Error.Message, "out of time, not a finding: seed timed out")
	assert.Equal(t, CauseOutOfTime, doc.Suites[0].Cases[6].Error.Type)
	assert.Equal(t, uint64(1), s.OutOfTime)
	assert.Equal(t, CauseOutOfTime, s.Unknowns[0].Cause)
}

// A seed's cause comes from its checks' typed causes, not their text.
func TestSeedCause(t *testing.T) {
	limit := checkers.Result{Checker: "a", Verdict: checkers.Unknown, Cause: checkers.CauseTimeLimit, Explanation: "anything"}
	unjudged := checkers.Result{Checker: "b", Verdict: checkers.Unknown, Explanation: "time limit in the text only"}
	pass := checkers.Result{Checker: "c", Verdict: checkers.Pass}
	assert.Equal(t, CauseOutOfTime, SeedCause([]checkers.Result{pass, limit}))
	assert.Equal(t, CauseHarness, SeedCause([]checkers.Result{limit, unjudged}), "an unjudgeable check is not a matter of time")
	assert.Equal(t, checkers.CauseUnjudgeable, unjudged.UnknownCause())
	assert.Equal(t, checkers.Cause(""), pass.UnknownCause())
}
