package scenarios_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/scenarios"
)

var regSmall = map[string]string{"clients": "6", "services": "3", "ops": "30", "slots": "16", "duration": "20s", "liveness": "30s"}

func TestRegistryBasic(t *testing.T) { checkScenario(t, "registry-basic", regSmall) }
func TestRegistrySessionFailover(t *testing.T) {
	checkScenario(t, "registry-session-failover", regSmall)
}
func TestRegistryDataFailover(t *testing.T) { checkScenario(t, "registry-data-failover", regSmall) }
func TestRegistryMetaFailover(t *testing.T) { checkScenario(t, "registry-meta-failover", regSmall) }
func TestRegistryChaos(t *testing.T)        { checkScenario(t, "registry-chaos", regSmall) }

func TestRegistryDefaultsPass(t *testing.T) {
	for _, name := range []string{"registry-basic", "registry-chaos"} {
		plan, err := scenarios.PlanForSeed(name, 1, nil, nil)
		require.NoError(t, err)
		res, err := scenarios.Run(plan, scenarios.Options{})
		require.NoError(t, err)
		require.Truef(t, res.Passed(), "%s", res.Explain())
		t.Logf("%s: %d events, virtual %v, wall %v", name, res.Events, res.Virtual, res.Wall)
	}
}

// TestRegistryRegressions replays plans that once failed on a correct
// registry (a registry bug or a checker's false positive, each fixed since;
// the file name says which) and requires them to pass.
func TestRegistryRegressions(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "registry-regressions", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".json"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			plan, err := scenarios.ParsePlan(data)
			require.NoError(t, err)
			res, err := scenarios.Run(plan, scenarios.Options{})
			require.NoError(t, err)
			require.Truef(t, res.Passed(), "%s", res.Explain())
		})
	}
}
