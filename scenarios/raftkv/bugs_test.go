package raftkv_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/nodes/raftkv"
	"github.com/sofasim/sofasim/reports"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/scenarios/scenariotest"
)

// firstFailure runs seeds from..to of a scenario with bugs armed and
// returns the first failing seed (0: none) and its result.
func firstFailure(t *testing.T, name string, from, to uint64, bugs ...string) (uint64, *reports.Result) {
	for seed := from; seed <= to; seed++ {
		plan, err := scenarios.PlanForSeed(name, seed, nil, bugs)
		require.NoError(t, err)
		res, err := scenarios.Run(plan, scenarios.Options{})
		require.NoError(t, err)
		if !res.Passed() {
			return seed, res
		}
	}
	return 0, nil
}

// TestPlantedBugsAreFound: with each planted bug armed, raftkv-chaos at
// its defaults finds a violation within the first 200 seeds, and the
// failure replays to the same fingerprint.
func TestPlantedBugsAreFound(t *testing.T) {
	if testing.Short() {
		t.Skip("runs up to 200 scenario seeds per bug")
	}
	for _, bug := range raftkv.Bugs {
		t.Run(bug.Name, func(t *testing.T) {
			seed, res := firstFailure(t, "raftkv-chaos", 1, 200, bug.Name)
			require.NotZerof(t, seed, "%s not found in seeds 1..200", bug.Name)
			t.Logf("%s found at seed %d: %s", bug.Name, seed, res.Failures[0])
			plan, err := scenarios.ParsePlan(res.Plan)
			require.NoError(t, err)
			again := scenariotest.RunTwice(t, plan)
			require.Equal(t, res.Fingerprint, again.Fingerprint)
			require.False(t, again.Passed())
		})
	}
}
