package registry_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	regnode "github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/scenarios/scenariotest"
)

// TestRegistryMultiDC: drawn plans pass, each run twice with the same
// fingerprint.
func TestRegistryMultiDC(t *testing.T) { scenariotest.Check(t, "registry-multidc", nil) }

// TestRegistryMultiDCCutHeals: a plan cutting the inter-DC link both ways
// for most of the run passes once it heals, the same run twice.
func TestRegistryMultiDCCutHeals(t *testing.T) {
	for _, election := range []string{"db", "raft"} {
		var plan *scenarios.Plan
		for seed := uint64(1); plan == nil; seed++ {
			p, err := scenarios.PlanForSeed("registry-multidc", seed, map[string]string{"election": election}, nil)
			require.NoError(t, err)
			for _, s := range p.Faults {
				if s.Op.Kind() == "partition" && s.At > 0 {
					plan = p
				}
			}
		}
		res := scenariotest.RunTwice(t, plan)
		scenariotest.RequirePass(t, plan, res)
		require.Contains(t, res.Reached, "registry/multidc-slot-synced")
	}
}

// TestRegistryMultiDCPlantedBugs: registry-multidc finds the planted
// multi-DC bugs at their pinned seeds (the first of seeds 1..200).
func TestRegistryMultiDCPlantedBugs(t *testing.T) {
	scenariotest.PlantedBugs(t, regnode.MultiDCBugs, map[string]scenariotest.Pin{
		regnode.BugMultiDCNoResync:     {Scenario: "registry-multidc", Seed: 1, Checker: "multidc-converge"},
		regnode.BugMultiDCNotifyBypass: {Scenario: "registry-multidc", Seed: 8, Checker: "multidc-switches"},
	})
}

// TestRegistryMultiDCReaches: the default plans reach the states the
// scenario exists for.
func TestRegistryMultiDCReaches(t *testing.T) { scenariotest.RequireReached(t, "registry-multidc", 30) }
