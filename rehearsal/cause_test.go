package rehearsal

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The cause names the deepest saturated service, the services failing
// above it, and uneven load when one instance holds most of the queue.
func TestCauseNamesTheDeepestSaturatedService(t *testing.T) {
	f := Default()
	svc := func(name string, inst int, util, queue float64, maxQ, ok, failed int64) ServiceSeries {
		return ServiceSeries{Name: name, Instances: inst, Util: []float64{util}, Queue: []float64{queue},
			MaxQueue: []int64{maxQ}, Goodput: []int64{ok}, Failed: []int64{failed}}
	}
	r := &Result{Seconds: 1, Services: []ServiceSeries{
		svc("cart", 6, 0.5, 0, 0, 60, 40),
		svc("order", 6, 0.95, 30, 6, 60, 40),
		svc("inventory", 3, 0.1, 0, 0, 100, 0),
		svc("payment", 3, 0.3, 0, 0, 100, 0),
		svc("account", 3, 0.92, 2, 1, 100, 0),
	}, System: SystemSeries{CommitP99: []float64{120}, Rollbacks: []int64{7}}}
	c := r.cause(f, 0)
	require.Contains(t, c, "bottleneck: account,", "account is deeper than order")
	require.Contains(t, c, "order (95% of workers busy, 30 queued)")
	require.Contains(t, c, "failed calls: cart 40.0%, order 40.0%")
	require.Contains(t, c, "commit p99 120ms, 7 rollbacks")
	require.NotContains(t, c, "unevenly")

	// Round robin in lockstep: the mean pool idle, one instance queueing.
	r.Services = []ServiceSeries{svc("cart", 60, 0.05, 87, 80, 1500, 236)}
	c = r.cause(f, 0)
	require.Contains(t, c, "bottleneck: cart,")
	require.Contains(t, c, "up to 80 at one instance: load spread unevenly")

	r.Services = []ServiceSeries{svc("cart", 6, 0.2, 0, 0, 100, 3)}
	require.Contains(t, r.cause(f, 0), "no worker pool saturated; failed calls: cart 2.9%")
}

func TestCallDepths(t *testing.T) {
	require.Equal(t, map[string]int{"cart": 0, "order": 1, "inventory": 2, "payment": 2, "account": 3}, callDepths(Default()))
}
