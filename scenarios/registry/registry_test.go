package registry_test

import (
	"flag"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/scenarios/scenariotest"
)

func TestMain(m *testing.M) {
	flag.Parse()
	scenariotest.RapidDefaults(8)
	os.Exit(m.Run())
}

var regSmall = map[string]string{"clients": "6", "services": "3", "ops": "30", "slots": "16", "duration": "20s", "liveness": "90s"} // liveness: a lost meta leader is replaced after the 20 s lock and warms up 30 s

func TestRegistryBasic(t *testing.T) { scenariotest.Check(t, "registry-basic", regSmall) }
func TestRegistrySessionFailover(t *testing.T) {
	scenariotest.Check(t, "registry-session-failover", regSmall)
}
func TestRegistryDataFailover(t *testing.T) {
	scenariotest.Check(t, "registry-data-failover", regSmall)
}
func TestRegistryMetaFailover(t *testing.T) {
	scenariotest.Check(t, "registry-meta-failover", regSmall)
}
func TestRegistryChaos(t *testing.T) { scenariotest.Check(t, "registry-chaos", regSmall) }

func TestRegistryDefaultsPass(t *testing.T) {
	for _, name := range []string{"registry-basic", "registry-chaos"} {
		plan, err := scenarios.PlanForSeed(name, 1, nil, nil)
		require.NoError(t, err)
		res, err := scenarios.Run(plan, scenarios.Options{})
		require.NoError(t, err)
		require.Truef(t, res.Passed(), "%s", res.Explain())
		t.Logf("%s: %d events, virtual %v, wall %.3fs", name, res.Events, res.Virtual, res.SimWallSeconds)
	}
}

// TestRegistryRegressions replays plans that once failed on a correct
// registry (a registry bug or a checker's false positive, each fixed since;
// each plan's note says which).
func TestRegistryRegressions(t *testing.T) { scenariotest.Regressions(t, "testdata") }
