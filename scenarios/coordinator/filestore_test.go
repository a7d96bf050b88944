package coordinator_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/scenarios/scenariotest"
)

// A file-store TC whose begin fails to sync exits before answering: the
// xid it was about to hand out never existed, and handing it out again
// after the restart is not a duplicate (the TC told the observer before
// the sync, so unique-ids failed). Found by txn-list-append with
// discovery=registry and tcs=1, shrunk to this plan.
func TestFileStoreBeginNotDurableIsNotHandedOut(t *testing.T) {
	plan, err := scenarios.ParsePlan([]byte(`{"version": 2, "scenario": "txn-chaos", "seed": 0,
		"params": {"apps": "4", "duration": "8s", "liveness": "20s", "ops": "60", "tcs": "1"},
		"duration": "6.368s", "liveness": "20s",
		"ops": [{"client": 0, "at": "0s", "kind": "transfer", "from_rm": 0, "from": 0, "to_rm": 2, "to": 1, "amount": 5},
			{"client": 0, "at": "0s", "kind": "transfer", "from_rm": 2, "from": 0, "to_rm": 0, "to": 1, "amount": 5},
			{"client": 0, "at": "1ms", "kind": "read", "from_rm": 0, "from": 0}],
		"faults": [{"at": "1ms", "kind": "crash", "torn": true, "target": "leader"},
			{"at": "12ms", "kind": "disk-fail", "nodes": ["tc-1"], "count": 1},
			{"at": "502ms", "kind": "restart", "nodes": ["tc-1"], "torn": true}]}`))
	require.NoError(t, err)
	res := scenariotest.RunTwice(t, plan)
	require.Truef(t, res.Passed(), "%s", res.Explain())
}
