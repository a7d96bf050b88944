package registry_test

import (
	"testing"

	"github.com/sofasim/sofasim/scenarios/scenariotest"
)

func TestRegistryOps(t *testing.T) {
	scenariotest.Check(t, "registry-ops", map[string]string{"clients": "6", "services": "3", "ops": "30", "slots": "16", "liveness": "30s"})
}
