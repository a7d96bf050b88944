package registry_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	regnode "github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/scenarios/scenariotest"
)

// registryBugSeeds: for each planted bug, its scenario and the first seed
// of 1..200 at which that scenario finds it (measured with
//
//	sofasim sweep SCENARIO --seeds 1..200 --workers 2 --bug BUG
//
// which also gives how many of the 200 seeds find it; the README has the
// table). A change to the registry, its checkers or the generators may
// move these seeds: measure again and update them.
var registryBugSeeds = map[string]struct {
	scenario string
	seed     uint64
}{
	"bug/registry/push-failed-recorded-delivered":    {"registry-basic", 13},
	"bug/registry/first-push-lost-after-retries":     {"registry-basic", 18},
	"bug/registry/version-collision-overwrite":       {"registry-data-failover", 2},
	"bug/registry/late-cleanup-deletes-reregistered": {"registry-session-failover", 6},
	"bug/registry/republish-drops-shared-index":      {"registry-session-failover", 12},
	"bug/registry/serve-before-migration":            {"registry-chaos", 147},
}

// TestRegistryPlantedBugs: each planted bug is found by its scenario at its
// seed, from the history by the checkers, and the same seed passes with the
// bug disarmed.
func TestRegistryPlantedBugs(t *testing.T) {
	for _, b := range regnode.Bugs {
		t.Run(b.Name, func(t *testing.T) {
			at, ok := registryBugSeeds[b.Name]
			require.Truef(t, ok, "no detection seed recorded for %s", b.Name)
			plan, err := scenarios.PlanForSeed(at.scenario, at.seed, nil, []string{b.Name})
			require.NoError(t, err)
			res, err := scenarios.Run(plan, scenarios.Options{})
			require.NoError(t, err)
			require.Falsef(t, res.Passed(), "%s is no longer found by %s at seed %d: measure again with sofasim sweep", b.Name, at.scenario, at.seed)
			t.Logf("%s found by %s at seed %d: %s", b.Name, at.scenario, at.seed, res.Failures[0])
			clean, err := scenarios.PlanForSeed(at.scenario, at.seed, nil, nil)
			require.NoError(t, err)
			res, err = scenarios.Run(clean, scenarios.Options{})
			require.NoError(t, err)
			require.Truef(t, res.Passed(), "without the bug: %s", res.Explain())
		})
	}
}

// TestScenariosReachTheirStates: a short sweep of each registry scenario
// reaches every state it declares it must.
func TestScenariosReachTheirStates(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 25 seeds of each registry scenario")
	}
	for _, name := range []string{"registry-basic", "registry-session-failover", "registry-data-failover", "registry-meta-failover", "registry-chaos"} {
		t.Run(name, func(t *testing.T) { scenariotest.RequireReached(t, name, 25) })
	}
}
