package reports

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/checkers"
)

// A sweep counts, per state, the seeds that reached it; a must-reach state
// no seed reached is a gap, listed first, in the JSON and on the page.
func TestSweepCoverage(t *testing.T) {
	s := &Sweep{Scenario: "x", Range: SeedRange{1, 3}, Shard: Shard{1, 1}, Planned: 3, MustReach: []string{"sys/b", "sys/never"},
		Results: []SeedResult{
			{Seed: 2, Verdict: checkers.Pass, Reached: []string{"sys/a", "sys/b"}},
			{Seed: 1, Verdict: checkers.Pass, Reached: []string{"sys/a"}},
			{Seed: 3, Verdict: checkers.Pass},
		}}
	s.Finish()
	require.Equal(t, []StateCoverage{
		{State: "sys/never", Seeds: 0, MustReach: true},
		{State: "sys/a", Seeds: 2},
		{State: "sys/b", Seeds: 1, MustReach: true},
	}, s.Coverage)
	require.Equal(t, []string{"sys/never"}, s.Gaps())
	var page bytes.Buffer
	require.NoError(t, WriteSweepHTML(&page, s))
	require.Contains(t, page.String(), `id="coverage"`)
	require.Contains(t, page.String(), "GAP")
	back, err := ParseSweep(s.Marshal())
	require.NoError(t, err)
	require.Equal(t, s.Coverage, back.Coverage)
}
