package mesh

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/sim"
)

func testCluster(lb string, n int) *cluster {
	c := &cluster{cfg: Cluster{Name: "c", LB: lb}}
	var eps []Endpoint
	for i := 1; i <= n; i++ {
		eps = append(eps, Endpoint{Addr: sim.NodeID(fmt.Sprintf("h%d", i)), Weight: i, Epoch: 1})
	}
	c.setHosts(eps)
	return c
}

func TestRoundRobinSpreadsEvenly(t *testing.T) {
	c := testCluster(LBRoundRobin, 3)
	r := rand.New(rand.NewPCG(1, 2))
	got := map[sim.NodeID]int{}
	for i := 0; i < 300; i++ {
		h, _ := c.pick(r, "", false)
		got[h.ep.Addr]++
	}
	assert.Equal(t, map[sim.NodeID]int{"h1": 100, "h2": 100, "h3": 100}, got)
}

func TestWeightedRoundRobinFollowsWeights(t *testing.T) {
	c := testCluster(LBWeightedRR, 3) // weights 1, 2, 3
	r := rand.New(rand.NewPCG(1, 2))
	got := map[sim.NodeID]int{}
	for i := 0; i < 600; i++ {
		h, _ := c.pick(r, "", false)
		got[h.ep.Addr]++
	}
	assert.Equal(t, map[sim.NodeID]int{"h1": 100, "h2": 200, "h3": 300}, got)
}

func TestLeastRequestPrefersIdleHost(t *testing.T) {
	c := testCluster(LBLeastRequest, 2)
	c.hosts[0].active = 10
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 50; i++ {
		h, _ := c.pick(r, "", false)
		require.Equal(t, sim.NodeID("h2"), h.ep.Addr)
	}
}

// Ring hash: a key keeps its host, and removing a host moves only the keys
// it had.
func TestRingHashIsConsistent(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(2, 6).Draw(rt, "hosts")
		c := testCluster(LBRingHash, n)
		r := rand.New(rand.NewPCG(1, 2))
		before := map[string]sim.NodeID{}
		for i := 0; i < 50; i++ {
			k := fmt.Sprintf("u%d", i)
			h, _ := c.pick(r, k, false)
			again, _ := c.pick(r, k, false)
			require.Equal(rt, h, again)
			before[k] = h.ep.Addr
		}
		gone := rapid.IntRange(0, n-1).Draw(rt, "gone")
		c.hosts[gone].ejected = true
		for k, was := range before { //detlint:allow each key is checked on its own
			h, _ := c.pick(r, k, false)
			if was != c.hosts[gone].ep.Addr {
				require.Equal(rt, was, h.ep.Addr, "key %s moved", k)
			} else {
				require.NotEqual(rt, was, h.ep.Addr)
			}
		}
	})
}

// The balancer skips unavailable hosts unless the available share is
// below the panic threshold; the single-host bug skips the check.
func TestPickHealthAndPanic(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 6).Draw(rt, "hosts")
		lb := rapid.SampledFrom([]string{LBRoundRobin, LBWeightedRR, LBRandom, LBLeastRequest, LBRingHash}).Draw(rt, "lb")
		c := testCluster(lb, n)
		c.cfg.PanicThreshold = rapid.IntRange(0, 100).Draw(rt, "panic")
		avail := 0
		for _, h := range c.hosts {
			h.ejected = rapid.Bool().Draw(rt, "ejected")
			h.unhealthy = rapid.Bool().Draw(rt, "unhealthy")
			if h.available() {
				avail++
			}
		}
		r := rand.New(rand.NewPCG(3, 4))
		h, v := c.pick(r, "k", false)
		panicMode := avail*100 < c.cfg.PanicThreshold*n
		require.Equal(rt, panicMode, v.panic)
		switch {
		case panicMode:
			require.NotNil(rt, h)
		case avail == 0:
			require.Nil(rt, h)
		default:
			require.True(rt, h.available())
		}
		if n == 1 {
			h, _ := c.pick(r, "k", true)
			require.Equal(rt, c.hosts[0], h)
		}
	})
}

func TestOutlierRespectsMaxEjectionPercent(t *testing.T) {
	c := testCluster(LBRoundRobin, 4)
	c.cfg.Outlier = &Outlier{Consecutive5xx: 2, BaseEjection: time.Second, MaxEjectionPercent: 50}
	ejected := 0
	for _, h := range c.hosts {
		for i := 0; i < 2; i++ {
			if c.outlierResult(h, true, false) {
				ejected++
			}
		}
	}
	assert.Equal(t, 2, ejected)
	assert.Equal(t, 2, c.ejectedCount())
	// A success resets the count.
	h := c.hosts[3]
	c.outlierResult(h, true, false)
	c.outlierResult(h, false, false)
	assert.Equal(t, 0, h.consec)
	// The bug ejects beyond the limit.
	assert.True(t, c.outlierResult(h, true, true) || c.outlierResult(h, true, true))
	assert.Equal(t, 3, c.ejectedCount())
	assert.Equal(t, 2*time.Second, c.ejectionTime(&host{ejections: 2}))
}

func TestRetriableOnlyWhenSafe(t *testing.T) {
	p := &RetryPolicy{RetryOn: []string{RetryOn5xx, RetryOnReset, RetryOnConnectFailure, RetryOnRefused}, NumRetries: 2}
	sent := &attempt{sent: true}
	unsent := &attempt{}
	reset := Response{Status: StatusBadGateway, Flag: FlagReset}
	refused := Response{Status: StatusUnavailable, Flag: FlagQueueFull, NotExecuted: true}
	connect := Response{Status: StatusUnavailable, Flag: FlagConnectFailure, NotExecuted: true}
	assert.True(t, retriable(p, sent, reset, true))
	assert.False(t, retriable(p, sent, reset, false), "a non-idempotent request that may have run")
	assert.True(t, retriable(p, sent, refused, false), "the upstream says it did not run")
	assert.True(t, retriable(p, unsent, connect, false))
	assert.False(t, retriable(p, sent, Response{Status: StatusError}, false))
	assert.True(t, retriable(p, sent, Response{Status: StatusError}, true))
	for _, f := range []string{FlagNoCluster, FlagNoHealthy, FlagOverflow, FlagRouteTimeout, FlagFaultAbort} {
		assert.False(t, retriable(p, unsent, Response{Status: StatusUnavailable, Flag: f}, true), f)
	}
	gw := &RetryPolicy{RetryOn: []string{RetryOnGatewayError}}
	assert.False(t, retriable(gw, sent, Response{Status: StatusError}, true))
	assert.True(t, retriable(gw, sent, Response{Status: StatusTimeout, Flag: FlagPerTryTimeout}, true))
	assert.Equal(t, 3, (&RetryBudget{Percent: 20, MinConcurrency: 3}).Limit(10))
	assert.Equal(t, 4, (&RetryBudget{Percent: 20, MinConcurrency: 3}).Limit(20))
}

func TestValidateRejectsBadResources(t *testing.T) {
	good := BuildSnapshot(testConfig(), nil, "svc-a")
	for _, typ := range Types {
		require.NoError(t, good[typ].Validate(), typ)
	}
	bad := []*Resources{
		{Clusters: []Cluster{{Name: "a", LB: "magic"}}},
		{Clusters: []Cluster{{Name: "a", LB: LBRandom}, {Name: "a", LB: LBRandom}}},
		{Clusters: []Cluster{{Name: "a", LB: LBRandom, Outlier: &Outlier{Consecutive5xx: 1, BaseEjection: 1, MaxEjectionPercent: 150}}}},
		{Clusters: []Cluster{{Name: "a", LB: LBRandom, PanicThreshold: 101}}},
		{Endpoints: []ClusterLoadAssignment{{Cluster: "a", Endpoints: []Endpoint{{Addr: "x", Weight: -1}}}}},
		{Routes: []RouteConfig{{Name: "r", VirtualHosts: []VirtualHost{{Name: "v", Routes: []Route{{Name: "x", Clusters: []WeightedCluster{{"a", 0}}}}}}}}},
		{Routes: []RouteConfig{{Name: "r", VirtualHosts: []VirtualHost{{Name: "v", Routes: []Route{{Name: "x", Clusters: []WeightedCluster{{"a", 1}}, Retry: &RetryPolicy{NumRetries: 11}}}}}}}},
		{Listeners: []Listener{{Name: "in", RateLimit: &RateLimit{}}}},
	}
	for i, r := range bad {
		assert.Error(t, r.Validate(), "case %d", i)
	}
}

func TestBuildSnapshotTranslatesConfig(t *testing.T) {
	eps := map[string][]Endpoint{"svc-a": {{Addr: "a1", Version: "v1"}, {Addr: "a2", Version: "v1"}, {Addr: "a3", Version: "v2"}}}
	s := BuildSnapshot(testConfig(), eps, "svc-a")
	var names []string
	for _, c := range s[TypeCluster].Clusters {
		names = append(names, c.Name)
	}
	assert.Equal(t, []string{"outbound|svc-a", "outbound|svc-a|v1", "outbound|svc-a|v2", "outbound|svc-b", "outbound|svc-c"}, names)
	byName := map[string][]sim.NodeID{}
	for _, a := range s[TypeEndpoint].Endpoints {
		byName[a.Cluster] = addrs(a.Endpoints)
	}
	assert.Equal(t, []sim.NodeID{"a1", "a2", "a3"}, byName["outbound|svc-a"])
	assert.Equal(t, []sim.NodeID{"a1", "a2"}, byName["outbound|svc-a|v1"])
	assert.Equal(t, []sim.NodeID{"a3"}, byName["outbound|svc-a|v2"])
	assert.Empty(t, byName["outbound|svc-b"])
	vh := s[TypeRoute].Routes[0].VirtualHosts[0]
	assert.Equal(t, "svc-a", vh.Name)
	assert.Equal(t, []string{"api", "default"}, []string{vh.Routes[0].Name, vh.Routes[1].Name})
	assert.Equal(t, []WeightedCluster{{"outbound|svc-a|v1", 80}, {"outbound|svc-a|v2", 20}}, vh.Routes[0].Clusters)
	in := s[TypeListener].Listeners[1]
	assert.Equal(t, InboundListener, in.Name)
	assert.Equal(t, []string{"client", "svc-a", "svc-b", "svc-c"}, in.Authz.Allow)
	// The translation is a function of its inputs.
	assert.Equal(t, s.Digests(), BuildSnapshot(testConfig(), eps, "svc-a").Digests())
	assert.NotEqual(t, s.Digests()[TypeListener], BuildSnapshot(testConfig(), eps, "client").Digests()[TypeListener])
}

func TestDistIsWithinBounds(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		lo := time.Duration(rapid.Int64Range(0, 1e9).Draw(rt, "min"))
		hi := lo + time.Duration(rapid.Int64Range(0, 1e9).Draw(rt, "span"))
		tail := hi + time.Duration(rapid.Int64Range(0, 1e9).Draw(rt, "tail"))
		d := Dist{Min: lo, Max: hi, TailPPM: rapid.Int64Range(0, 1_000_000).Draw(rt, "ppm"), TailMax: tail}
		r := rand.New(rand.NewPCG(rapid.Uint64().Draw(rt, "seed"), 1))
		for i := 0; i < 20; i++ {
			v := d.draw(r)
			require.GreaterOrEqual(rt, v, lo)
			require.LessOrEqual(rt, v, tail)
		}
	})
}

func TestEndpointEncodingRoundTrips(t *testing.T) {
	ep := Endpoint{Addr: "svc-a-1", Weight: 3, Version: "v2", Epoch: 7}
	got, ok := parseEndpoint(formatEndpoint(ep))
	require.True(t, ok)
	assert.Equal(t, ep, got)
}
