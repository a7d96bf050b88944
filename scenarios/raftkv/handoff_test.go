package raftkv_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/scenarios"
	rk "github.com/sofasim/sofasim/scenarios/raftkv"
	"github.com/sofasim/sofasim/scenarios/scenariotest"
	"github.com/sofasim/sofasim/sim"
)

// TestHandoffCrashes: a raftkv-crashes plan with hand-offs runs them as
// the operator's requests, not as history operations; the run passes,
// twice alike, with every member restarted after a crash holding the
// votes it gave (durable-votes judged its restarts) and every answer its
// own request's.
func TestHandoffCrashes(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		plan, err := scenarios.PlanForSeed("raftkv-crashes", seed, Small, nil)
		require.NoError(t, err)
		handoffs := 0
		for _, raw := range plan.Ops {
			var op rk.Op
			require.NoError(t, json.Unmarshal(raw, &op))
			if op.Kind == rk.KindTransferLeader {
				handoffs++
			}
		}
		crashes := 0
		for _, f := range plan.Faults {
			if _, ok := f.Op.(sim.Crash); ok {
				crashes++
			}
		}
		if handoffs == 0 || crashes == 0 {
			continue
		}
		res := scenariotest.RunTwice(t, plan)
		scenariotest.RequirePass(t, plan, res)
		h, ok := res.History.(checkers.History)
		require.True(t, ok)
		for _, op := range h.Ops {
			require.NotEqual(t, rk.KindTransferLeader, op.Input.Kind, "a hand-off in the key-value history")
		}
		checked := map[string]string{}
		for _, c := range res.Checks {
			checked[c.Checker] = c.Explanation
		}
		require.Contains(t, checked, "answers-match")
		require.Regexp(t, `forgotten in [1-9]\d* restarts`, checked["durable-votes"])
		require.Positive(t, res.Reached["raftkv/restart-from-disk"])
		t.Logf("seed %d: %d hand-offs; %s; %s", seed, handoffs, checked["durable-votes"], checked["answers-match"])
		return
	}
	t.Fatal("no raftkv-crashes plan of seeds 1..30 has a hand-off and a crash")
}
