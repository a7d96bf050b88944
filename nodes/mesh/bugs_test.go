package mesh

import (
	"flag"
	"testing"

	"github.com/stretchr/testify/require"
)

// bugExpect: the invariant each planted bug breaks.
var bugExpect = map[string]string{
	BugClusterUpdateWipesEndpoints: "convergence",
	BugSingleHostIgnoresHealth:     "lb-respects-health",
	BugRetryRewritesRequest:        "retry-limits",
	BugStalePoolMetadata:           "no-request-to-removed-host",
	BugRouteBeforeCluster:          "referential-integrity",
	BugUnknownClusterNeverRecovers: "convergence",
	BugDeletedInstanceKept:         "convergence",
	BugMaxEjectionIgnored:          "max-ejection-percent",
	BugRetryBudgetOvershoot:        "retry-limits",
}

// TestPlantedBugsFound: each planted bug breaks its invariant in one of
// the first seeds of the chaos nemesis (the seed that finds it is run twice
// and must give the same fingerprint); the invariants hold with no bug
// armed (TestChaosSeedsHoldInvariants).
func TestPlantedBugsFound(t *testing.T) {
	for _, b := range Bugs {
		t.Run(b.Name[len("bug/mesh/"):], func(t *testing.T) {
			want := bugExpect[b.Name]
			require.NotEmpty(t, want, "no expectation for %s", b.Name)
			for seed := uint64(1); seed <= 20; seed++ {
				tm := newTestMesh(t, meshOpts{seed: seed, chaos: chaos, bugs: []string{b.Name}})
				tm.run()
				if v := tm.checkAll(); len(v[want]) > 0 {
					again := newTestMesh(t, meshOpts{seed: seed, chaos: chaos, bugs: []string{b.Name}})
					again.run()
					require.Equal(t, tm.w.Fingerprint(), again.w.Fingerprint())
					t.Logf("seed %d: %s: %s", seed, want, v[want])
					return
				}
			}
			t.Fatalf("%s: %s never broken in 20 seeds", b.Name, want)
		})
	}
}

var rateSeeds = flag.Int("mesh.rates", 0, "seeds per bug for TestBugDetectionRates (0: skip)")

// TestBugDetectionRates reports, per planted bug, how many of the first N
// chaos seeds break its invariant and the first that does:
// go test ./nodes/mesh -run Rates -v -args -mesh.rates=100
func TestBugDetectionRates(t *testing.T) {
	if *rateSeeds == 0 {
		t.Skip("set -mesh.rates")
	}
	for _, b := range Bugs {
		found, first := 0, 0
		for seed := 1; seed <= *rateSeeds; seed++ {
			tm := newTestMesh(t, meshOpts{seed: uint64(seed), chaos: chaos, bugs: []string{b.Name}})
			tm.run()
			if len(tm.checkAll()[bugExpect[b.Name]]) > 0 {
				found++
				if first == 0 {
					first = seed
				}
			}
		}
		t.Logf("%-45s %-15s %3d/%d seeds, first %d", b.Name, bugExpect[b.Name], found, *rateSeeds, first)
	}
}
