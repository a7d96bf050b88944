package registry_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/scenarios/scenariotest"
)

func TestRegistryOps(t *testing.T) {
	scenariotest.Check(t, "registry-ops", map[string]string{"clients": "6", "services": "3", "ops": "30", "slots": "16", "liveness": "30s"})
}

// registry-ops runs under either watcher mode, and the watchers checker
// judges each by its own promise (null content only, or the configs set).
func TestRegistryOpsWatcherModes(t *testing.T) {
	for _, m := range []struct{ mode, promise string }{{"on", "on: the configs set"}, {"off", "off: null content only"}} {
		mode, promise := m.mode, m.promise
		judged := false
		for seed := uint64(1); seed <= 4 && !judged; seed++ {
			plan, err := scenarios.PlanForSeed("registry-ops", seed, map[string]string{"watch-config": mode}, nil)
			require.NoError(t, err)
			res := scenariotest.RunTwice(t, plan)
			scenariotest.RequirePass(t, plan, res)
			for _, c := range res.Checks {
				if c.Checker == "watchers" {
					require.Contains(t, c.Explanation, promise)
					judged = !strings.Contains(c.Explanation, " in 0 judged")
				}
			}
		}
		require.True(t, judged, "watch-config=%s: some seed judged a watcher", mode)
	}
}
