package mesh_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/checkers"
	meshnode "github.com/sofasim/sofasim/nodes/mesh"
	"github.com/sofasim/sofasim/scenarios"
)

// meshBugSeeds: for each planted bug, its scenario, the first seed of
// 1..200 at which that scenario finds it with default parameters, and
// the checker that does (measured with
//
//	sofasim sweep SCENARIO --seeds 1..200 --workers 2 --bug BUG
//
// which also gives how many of the 200 seeds find it; the README has the
// table). A change to the mesh or its scenarios may move these seeds:
// measure again and update them.
var meshBugSeeds = map[string]struct {
	scenario string
	seed     uint64
	checker  string
}{
	meshnode.BugClusterUpdateWipesEndpoints: {"mesh-xds-churn", 4, "convergence"},
	meshnode.BugSingleHostIgnoresHealth:     {"mesh-outlier", 26, "lb-respects-health"},
	meshnode.BugRetryRewritesRequest:        {"mesh-outlier", 2, "retry-limits"},
	meshnode.BugStalePoolMetadata:           {"mesh-outlier", 1, "no-request-to-removed-host"},
	meshnode.BugRouteBeforeCluster:          {"mesh-xds-churn", 1, "referential-integrity"},
	meshnode.BugUnknownClusterNeverRecovers: {"mesh-xds-churn", 28, "convergence"},
	meshnode.BugDeletedInstanceKept:         {"mesh-xds-churn", 9, "convergence"},
	meshnode.BugMaxEjectionIgnored:          {"mesh-outlier", 26, "max-ejection-percent"},
	meshnode.BugRetryBudgetOvershoot:        {"mesh-overload", 1, "retry-limits"},
}

// TestMeshPlantedBugs: each planted bug is found by its scenario at its
// seed, by its checker, and the same seed passes with the bug disarmed.
func TestMeshPlantedBugs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 18 default-size mesh worlds")
	}
	for _, b := range meshnode.Bugs {
		t.Run(b.Name, func(t *testing.T) {
			at, ok := meshBugSeeds[b.Name]
			require.Truef(t, ok, "no detection seed recorded for %s", b.Name)
			plan, err := scenarios.PlanForSeed(at.scenario, at.seed, nil, []string{b.Name})
			require.NoError(t, err)
			res, err := scenarios.Run(plan, scenarios.Options{})
			require.NoError(t, err)
			require.Falsef(t, res.Passed(), "%s is no longer found by %s at seed %d: measure again with sofasim sweep", b.Name, at.scenario, at.seed)
			var by []string
			for _, c := range res.Checks {
				if c.Verdict == checkers.Fail {
					by = append(by, c.Checker)
				}
			}
			require.Containsf(t, by, at.checker, "%s at seed %d: failed %v", b.Name, at.seed, res.Failures)
			clean, err := scenarios.PlanForSeed(at.scenario, at.seed, nil, nil)
			require.NoError(t, err)
			res, err = scenarios.Run(clean, scenarios.Options{})
			require.NoError(t, err)
			require.Truef(t, res.Passed(), "without the bug: %s", res.Explain())
		})
	}
}
