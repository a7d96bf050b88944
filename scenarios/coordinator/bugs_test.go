package coordinator_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	coordnode "github.com/sofasim/sofasim/nodes/coordinator"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/scenarios/scenariotest"
)

// coordinatorBugSeeds: for each planted bug, its scenario, the first seed
// of 1..200 at which that scenario finds it and the checker that reports
// it first (measured with
//
//	sofasim sweep SCENARIO --seeds 1..200 --workers 2 --bug BUG
//
// which also gives how many of the 200 seeds find it; the README has the
// table). A change to the coordinator or its scenarios may move these
// seeds: measure again and update them.
var coordinatorBugSeeds = map[string]struct {
	scenario string
	seed     uint64
	checker  string
}{
	coordnode.BugRegisterAfterRollback:     {"txn-timeouts", 12, "register-while-begin"},
	coordnode.BugTimeoutCommitRace:         {"txn-timeouts", 9, "one-decision"},
	coordnode.BugUndoNotDurable:            {"txn-rm-failover", 4, "no-aborted-read"},
	coordnode.BugNoReloadRollbacking:       {"txn-tc-failover", 6, "all-or-nothing"},
	coordnode.BugDeadlockSwallowed:         {"txn-basic", 1, "all-or-nothing"},
	coordnode.BugTCCNoSuspend:              {"txn-timeouts", 2, "tcc-fence"},
	coordnode.BugRollbackRegistrationOrder: {"txn-basic", 1, "all-or-nothing"},
	coordnode.BugOrphanBranch:              {"txn-timeouts", 1, "all-or-nothing"},
}

// TestCoordinatorPlantedBugs: each planted bug is found by its scenario at
// its seed, by the checker named, twice alike; the same seed passes with
// the bug disarmed.
func TestCoordinatorPlantedBugs(t *testing.T) {
	for _, b := range coordnode.Bugs {
		t.Run(strings.TrimPrefix(b.Name, "bug/coordinator/"), func(t *testing.T) {
			at, ok := coordinatorBugSeeds[b.Name]
			require.Truef(t, ok, "no detection seed recorded for %s", b.Name)
			plan, err := scenarios.PlanForSeed(at.scenario, at.seed, nil, []string{b.Name})
			require.NoError(t, err)
			res := scenariotest.RunTwice(t, plan)
			require.Falsef(t, res.Passed(), "%s is no longer found by %s at seed %d: measure again with sofasim sweep", b.Name, at.scenario, at.seed)
			require.Truef(t, strings.HasPrefix(res.Failures[0], at.checker+": "), "found first by another checker: %s", res.Failures[0])
			t.Logf("%s found by %s at seed %d: %s", b.Name, at.scenario, at.seed, res.Failures[0])
			clean, err := scenarios.PlanForSeed(at.scenario, at.seed, nil, nil)
			require.NoError(t, err)
			res, err = scenarios.Run(clean, scenarios.Options{})
			require.NoError(t, err)
			require.Truef(t, res.Passed(), "without the bug: %s", res.Explain())
		})
	}
}
