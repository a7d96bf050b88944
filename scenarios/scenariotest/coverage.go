package scenariotest

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/reports"
	"github.com/sofasim/sofasim/scenarios"
)

// RequireReached runs seeds 1..seeds of a scenario at its defaults and
// fails unless every state the scenario declares it must reach
// (Scenario.MustReach) was reached by at least one seed: a gap means the
// scenario can no longer find the bugs that need that state. It logs how
// many seeds reached each state, as `sofasim sweep` reports it.
func RequireReached(t *testing.T, name string, seeds uint64) {
	t.Helper()
	sc, err := scenarios.Lookup(name)
	require.NoError(t, err)
	require.NotEmptyf(t, sc.MustReach, "%s declares no must-reach states", name)
	count := map[string]uint64{}
	for seed := uint64(1); seed <= seeds; seed++ {
		plan, err := scenarios.PlanForSeed(name, seed, nil, nil)
		require.NoError(t, err)
		var res *reports.Result
		if seed == 1 { // one seed twice: a coverage test is a scenario test too
			res = RunTwice(t, plan)
		} else {
			res, err = scenarios.Run(plan, scenarios.Options{})
			require.NoError(t, err)
		}
		for st := range res.Reached {
			count[st]++
		}
	}
	for _, st := range slices.Sorted(maps.Keys(count)) {
		t.Logf("%-48s %d/%d seeds", st, count[st], seeds)
	}
	var gaps []string
	for _, st := range sc.MustReach {
		if count[st] == 0 {
			gaps = append(gaps, st)
		}
	}
	require.Emptyf(t, gaps, "%s seeds 1..%d reached none of these must-reach states", name, seeds)
}
