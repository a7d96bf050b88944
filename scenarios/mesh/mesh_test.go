package mesh_test

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
	scenariotest.RapidDefaults(4)
	os.Exit(m.Run())
}

// small keeps the default tests fast: the catalog instead of the registry
// (TestMeshRegistryDefaults and the regressions run the registry), 2
// services, fewer requests, a shorter run.
var small = map[string]string{"services": "2", "clients": "2", "rate": "20", "crowd": "2", "registry": "0", "duration": "12s", "liveness": "12s"}

func TestMeshBasic(t *testing.T)    { scenariotest.Check(t, "mesh-basic", small) }
func TestMeshXDSChurn(t *testing.T) { scenariotest.Check(t, "mesh-xds-churn", small) }
func TestMeshOutlier(t *testing.T)  { scenariotest.Check(t, "mesh-outlier", small) }
func TestMeshOverload(t *testing.T) { scenariotest.Check(t, "mesh-overload", small) }
func TestMeshChaos(t *testing.T)    { scenariotest.Check(t, "mesh-chaos", small) }

// TestMeshRegistryDefaults: seed 1 of every mesh scenario passes with the
// default parameters (the real registry as discovery), twice alike.
func TestMeshRegistryDefaults(t *testing.T) {
	for _, name := range []string{"mesh-basic", "mesh-chaos"} {
		plan, err := scenarios.PlanForSeed(name, 1, nil, nil)
		require.NoError(t, err)
		res := scenariotest.RunTwice(t, plan)
		require.Truef(t, res.Passed(), "%s", res.Explain())
		t.Logf("%s: %d events, virtual %v, wall %.3fs", name, res.Events, res.Virtual, res.SimWallSeconds)
	}
}

// TestMeshRegressions replays plans that once failed on the mesh (bugs in
// nodes/mesh fixed since; each plan's note says which).
func TestMeshRegressions(t *testing.T) { scenariotest.Regressions(t, "testdata") }
