package rehearsal

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func small(t *testing.T) *File {
	b, err := os.ReadFile("testdata/small.yaml")
	require.NoError(t, err)
	f, err := Parse(b)
	require.NoError(t, err)
	return f
}

// The same file and seed give the same run, to the byte; another seed
// another run. The small rehearsal meets its SLOs with every invariant.
func TestRehearsalIsDeterministic(t *testing.T) {
	f := small(t)
	a := Run(f, Options{})
	b := Run(f, Options{})
	require.Equal(t, a.Fingerprint, b.Fingerprint)
	require.Equal(t, a.Services, b.Services)
	require.Equal(t, a.System, b.System)
	require.Equal(t, a.Drills, b.Drills)
	c := Run(f, Options{Seed: 99})
	require.NotEqual(t, a.Fingerprint, c.Fingerprint)

	require.Empty(t, a.Correctness)
	require.Empty(t, a.Unjudged)
	require.Len(t, a.Drills, 2)
	cart := a.service("cart")
	require.Greater(t, cart.Requests, int64(300))
	require.True(t, a.Verdict.Met, "%v", a.Verdict.Violations)
	// Every layer carried load: transactions committed, the probe measured
	// pushes, the pilots pushed configuration.
	var commits, pushes int64
	for i := range a.Seconds {
		commits += a.System.Commits[i]
		pushes += a.System.XDSPushes[i]
	}
	require.Greater(t, commits, int64(300))
	require.Positive(t, pushes)
	require.Positive(t, a.System.PushP99[a.Seconds-1])
}

// An underprovisioned service shows as a violation named by service,
// second and metric, with the service that gave way named as its cause,
// and the report still judges the invariants.
func TestOverloadIsNamed(t *testing.T) {
	f := small(t)
	f.Services[1].Workers = 1 // order: one worker, held across the transaction
	f.Services[1].Queue = 2
	r := Run(f, Options{})
	require.False(t, r.Verdict.Met)
	require.Equal(t, "cart", r.Verdict.First.Service)
	// Users see cart fail; what gave way is order, below it.
	require.Contains(t, r.Verdict.Cause, "bottleneck: order,", r.Verdict.Cause)
	require.Empty(t, r.Correctness)
	order := r.service("order")
	require.Greater(t, order.PeakUtil, 0.9)
}

// Users behind ingress gateways: the same traffic reaches the services,
// the SLOs and invariants hold, and runs still reproduce.
func TestGatewaysCarryTheTraffic(t *testing.T) {
	f := small(t)
	f.Traffic.Clients, f.Traffic.Gateways = 40, 2
	a, b := Run(f, Options{}), Run(f, Options{})
	require.Equal(t, a.Fingerprint, b.Fingerprint)
	require.Empty(t, a.Correctness)
	require.True(t, a.Verdict.Met, "%v", a.Verdict.Violations)
	cart := a.service("cart")
	require.Greater(t, cart.Requests, int64(300))
	require.InDelta(t, float64(cart.Requests), float64(a.service("order").Requests), float64(cart.Requests)/20, "every cart request calls order")
}

// The built-in rehearsal, what `sofasim rehearse` runs with no file, meets
// its SLOs with every invariant through all its drills: a newcomer's first
// run is a baseline, and a change to a system that breaks it shows here.
func TestDefaultRehearsalMeetsItsSLOs(t *testing.T) {
	if testing.Short() {
		t.Skip("a 125 s virtual rehearsal")
	}
	r := Run(Default(), Options{})
	require.Equal(t, r.Fingerprint, Run(Default(), Options{}).Fingerprint, "the same rehearsal twice")
	require.Empty(t, r.Correctness)
	require.True(t, r.Verdict.Met, "%v %s", r.Verdict.Violations, r.Verdict.Cause)
}
