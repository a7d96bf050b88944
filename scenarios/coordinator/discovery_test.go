package coordinator_test

import (
	"maps"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/scenarios/scenariotest"
	"github.com/sofasim/sofasim/sim"
)

func withParams(extra map[string]string) map[string]string {
	p := maps.Clone(small)
	maps.Copy(p, extra)
	return p
}

// With discovery=registry the TCs publish themselves in the registry and
// RMs and apps find them there, under the chaos nemesis too.
func TestTxnChaosRegistryDiscovery(t *testing.T) {
	scenariotest.Check(t, "txn-chaos", withParams(map[string]string{"discovery": "registry"}))
}

// The registry's servers are deployed and used: every TC published and
// every client subscribed through the session servers.
func TestTxnRegistryDeployed(t *testing.T) {
	plan, err := scenarios.PlanForSeed("txn-basic", 3, withParams(map[string]string{"discovery": "registry"}), nil)
	require.NoError(t, err)
	res, err := scenarios.Run(plan, scenarios.Options{})
	require.NoError(t, err)
	require.Truef(t, res.Passed(), "%s", res.Explain())
	got := map[sim.NodeID]sim.NodeStats{}
	for _, n := range res.Nodes {
		got[n.ID] = n.Stats
	}
	for _, id := range []sim.NodeID{"meta-1", "meta-2", "meta-3", "data-1", "session-1", "session-2"} {
		require.Contains(t, got, id)
	}
	// 3 TCs publishing plus 3 RMs and 4 apps subscribing, spread over two session servers.
	require.Greater(t, got["session-1"].Received+got["session-2"].Received, uint64(10))

	static, err := scenarios.PlanForSeed("txn-basic", 3, small, nil)
	require.NoError(t, err)
	res, err = scenarios.Run(static, scenarios.Options{})
	require.NoError(t, err)
	for _, n := range res.Nodes {
		require.NotEqual(t, sim.NodeID("session-1"), n.ID, "a static deployment has no registry")
	}
}

// A registry list can lack the raft leader (here rm-3 was left with only
// tc-2, a follower): clients follow the follower's leader hint outside
// the list. Before, rm-3 retried tc-2 for ever and never cleaned up two
// undo logs (no-leak failed at this seed).
func TestRegistryStaleListFollowsLeaderHint(t *testing.T) {
	plan, err := scenarios.PlanForSeed("txn-list-append", 2, map[string]string{"discovery": "registry"}, nil)
	require.NoError(t, err)
	res := scenariotest.RunTwice(t, plan)
	require.Truef(t, res.Passed(), "%s", res.Explain())
}
