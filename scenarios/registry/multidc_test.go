package registry_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	regcheck "github.com/sofasim/sofasim/checkers/registry"
	regnode "github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/scenarios/registry"
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

// TestRegistryMultiDCDrillChanges: the changes a freezing drill brings are
// dc1 publishes to a datum it froze, after the switch's lag (2 s reload +
// 2 s) and the 4 s settle and 4 s before it is set back, and most drawn
// plans have some.
func TestRegistryMultiDCDrillChanges(t *testing.T) {
	with := 0
	for seed := uint64(1); seed <= 60; seed++ {
		p, err := scenarios.PlanForSeed("registry-multidc", seed, nil, nil)
		require.NoError(t, err)
		var drills, changes []registry.MDOp
		for _, raw := range p.Ops {
			var op registry.MDOp
			require.NoError(t, json.Unmarshal(raw, &op))
			switch {
			case op.Kind == registry.OpDrill:
				drills = append(drills, op)
			case strings.HasPrefix(op.Reg, "x"):
				changes = append(changes, op)
			}
		}
		if len(changes) > 0 {
			with++
		}
		for _, c := range changes {
			require.Equal(t, registry.OpPublish, c.Kind)
			require.Less(t, c.Client, 3, "seed %d: a dc1 publisher", seed)
			frozen := false
			for _, d := range drills {
				in := time.Duration(c.At) >= time.Duration(d.At)+8*time.Second && time.Duration(c.At) <= time.Duration(d.At+d.For)-4*time.Second
				froze := d.Drill != regcheck.DrillMultiDCPushOff &&
					(d.Drill != regcheck.DrillMultiDCIgnore || c.Service == d.Service) &&
					(d.Drill != regcheck.DrillMultiDCSyncOnly || c.Service != d.Service)
				frozen = frozen || (in && froze)
			}
			require.True(t, frozen, "seed %d: change %+v outside a drill that froze its datum", seed, c)
		}
	}
	require.Greater(t, with, 15, "plans with drill changes in seeds 1..60")
}
