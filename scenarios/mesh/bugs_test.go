package mesh_test

import (
	"testing"

	meshnode "github.com/sofasim/sofasim/nodes/mesh"
	"github.com/sofasim/sofasim/scenarios/scenariotest"
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
var meshBugSeeds = map[string]scenariotest.Pin{
	meshnode.BugClusterUpdateWipesEndpoints: {Scenario: "mesh-xds-churn", Seed: 2, Checker: "convergence"},
	meshnode.BugSingleHostIgnoresHealth:     {Scenario: "mesh-outlier", Seed: 11, Checker: "lb-respects-health"},
	meshnode.BugRetryRewritesRequest:        {Scenario: "mesh-outlier", Seed: 2, Checker: "retry-limits"},
	meshnode.BugStalePoolMetadata:           {Scenario: "mesh-outlier", Seed: 7, Checker: "no-request-to-removed-host"},
	meshnode.BugRouteBeforeCluster:          {Scenario: "mesh-xds-churn", Seed: 1, Checker: "referential-integrity"},
	meshnode.BugUnknownClusterNeverRecovers: {Scenario: "mesh-xds-churn", Seed: 9, Checker: "convergence"},
	meshnode.BugDeletedInstanceKept:         {Scenario: "mesh-xds-churn", Seed: 3, Checker: "convergence"},
	meshnode.BugMaxEjectionIgnored:          {Scenario: "mesh-outlier", Seed: 5, Checker: "max-ejection-percent"},
	meshnode.BugRetryBudgetOvershoot:        {Scenario: "mesh-overload", Seed: 1, Checker: "retry-limits"},
}

// TestMeshPlantedBugs: each planted bug is found by its scenario at its
// seed, by its checker, and the same seed passes with the bug disarmed.
func TestMeshPlantedBugs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 18 default-size mesh worlds")
	}
	scenariotest.PlantedBugs(t, meshnode.Bugs, meshBugSeeds)
}
