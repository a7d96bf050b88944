package raftkv_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/nodes/raftkv"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/scenarios/scenariotest"
)

// raftkvBugSeeds: for each planted bug, its scenario and the first seed of
// 1..200 at which that scenario finds it, measured with
//
//	sofasim sweep SCENARIO --seeds 1..200 --workers 2 --bug BUG
//
// which also gives how many of the 200 seeds find it (the README has the
// table). A change to raftkv, its checkers or the generators may move
// these seeds: measure again and update them.
var raftkvBugSeeds = map[string]struct {
	scenario string
	seed     uint64
}{
	raftkv.BugStaleRead:                {"raftkv-chaos", 1},
	raftkv.BugAckBeforeSync:            {"raftkv-chaos", 1},
	raftkv.BugDedupLostOnRestart:       {"raftkv-chaos", 1},
	raftkv.BugDoubleApplyAfterSnapshot: {"raftkv-chaos", 1},
}

// TestPlantedBugsAreFound: each planted bug is found by its scenario at its
// seed, the failure replays to the same fingerprint, and the same seed
// passes with the bug disarmed.
func TestPlantedBugsAreFound(t *testing.T) {
	for _, bug := range raftkv.Bugs {
		t.Run(bug.Name, func(t *testing.T) {
			at, ok := raftkvBugSeeds[bug.Name]
			require.Truef(t, ok, "no detection seed recorded for %s", bug.Name)
			plan, err := scenarios.PlanForSeed(at.scenario, at.seed, nil, []string{bug.Name})
			require.NoError(t, err)
			res := scenariotest.RunTwice(t, plan)
			require.Falsef(t, res.Passed(), "%s is no longer found by %s at seed %d: measure again with sofasim sweep", bug.Name, at.scenario, at.seed)
			t.Logf("%s found by %s at seed %d: %s", bug.Name, at.scenario, at.seed, res.Failures[0])
			clean, err := scenarios.PlanForSeed(at.scenario, at.seed, nil, nil)
			require.NoError(t, err)
			res, err = scenarios.Run(clean, scenarios.Options{})
			require.NoError(t, err)
			require.Truef(t, res.Passed(), "without the bug: %s", res.Explain())
		})
	}
}

// TestChaosReachesItsStates: a sweep of raftkv-chaos reaches every state the
// scenario declares it must (restarts with client writes and a WAL margin,
// deposed leaders with writes in flight, snapshots sent, ...).
func TestChaosReachesItsStates(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 40 scenario seeds")
	}
	scenariotest.RequireReached(t, "raftkv-chaos", 40)
}
