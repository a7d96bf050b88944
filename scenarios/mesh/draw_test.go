package mesh

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

// TestFollowUpComesLast: the post-incident operation, when drawn, is the
// plan's last operation and comes after every fault (or at 90% of the
// safety phase), so nothing later in the plan masks it.
func TestFollowUpComesLast(t *testing.T) {
	services := []string{"svc-1", "svc-2"}
	l := names{apps: []sim.NodeID{"svc-1-1", "svc-1-2"}, pilots: []sim.NodeID{"pilot-1", "pilot-2"}}
	rapid.Check(t, func(t *rapid.T) {
		d := 20 * time.Second
		ops := drawOps(t, []string{OpDrain, OpConfig}, 8, services, 3, d)
		n := nemesis{families: []string{scenarios.FamilyCrash, familyPilotRestart}, episodes: 4, members: l.pilots, all: l.pilots, pilots: l.pilots, apps: l.apps, suspects: l.apps}
		faults := drawFaults(t, n, d)
		out := drawFollowUp(t, slices.Clone(ops), faults, services, 3, d)
		if len(out) == len(ops) {
			return
		}
		require.Len(t, out, len(ops)+1)
		f := out[len(out)-1]
		for _, op := range ops {
			require.GreaterOrEqual(t, f.At, op.At)
		}
		limit := sim.Duration(d * 9 / 10)
		for _, s := range faults {
			require.True(t, f.At > s.At || f.At == limit, "follow-up at %v, fault at %v", f.At, s.At)
		}
		switch f.Kind {
		case OpDrain:
			require.True(t, f.Instance >= 1 && f.Instance <= 3)
		case OpConfig:
			require.Contains(t, []string{ChangeOutlier, ChangeBadRule}, f.Change)
		default:
			t.Fatalf("follow-up kind %q", f.Kind)
		}
	})
}

// TestCrashLoopRestarts: every crash of a crash loop is followed by a
// restart of the same instance, all within the safety phase.
func TestCrashLoopRestarts(t *testing.T) {
	apps := []sim.NodeID{"svc-1-1", "svc-1-2", "svc-1-3"}
	rapid.Check(t, func(t *rapid.T) {
		d := 20 * time.Second
		n := nemesis{families: []string{familyCrashLoop}, episodes: 5, apps: apps, suspects: append(apps, "svc-1-3", "svc-1-3")}
		steps := drawFaults(t, n, d)
		down := map[sim.NodeID]int{}
		for _, s := range steps {
			require.Less(t, s.At, sim.Duration(d))
			switch op := s.Op.(type) {
			case sim.Crash:
				down[op.Nodes[0]]++
			case sim.Restart:
				require.Positive(t, down[op.Nodes[0]], "restart of %s before its crash", op.Nodes[0])
				down[op.Nodes[0]]--
			default:
				t.Fatalf("unexpected fault %T", s.Op)
			}
		}
		for id, c := range down {
			require.Zero(t, c, "%s left crashed", id)
		}
	})
}

// TestCanaryLayout: the default layout's canary is the first service's
// last (v2) instance, and one instance has none.
func TestCanaryLayout(t *testing.T) {
	sc, err := scenarios.Lookup("mesh-outlier")
	require.NoError(t, err)
	p, err := scenarios.ResolveParams(sc, nil)
	require.NoError(t, err)
	require.Equal(t, sim.NodeID("svc-1-3"), layout(p).canary)
	p, err = scenarios.ResolveParams(sc, map[string]string{"instances": "1"})
	require.NoError(t, err)
	require.Empty(t, layout(p).canary)
}
