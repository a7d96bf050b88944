package mesh

import "github.com/sofasim/sofasim/sim"

// Planted bugs. Each is a failpoint evaluated with sim.Env.Failpoint in the
// real code path, off unless a scenario or the CLI arms it, and reproduces
// a real MOSN, Istio or Envoy incident. doc.go says which invariant each
// breaks.
const (
	// BugClusterUpdateWipesEndpoints: a CDS update of an existing cluster
	// builds it afresh with no hosts instead of carrying its endpoints
	// over; the endpoints come back only with the next EDS change (mosn#104).
	BugClusterUpdateWipesEndpoints = "bug/mesh/cluster-update-wipes-endpoints"
	// BugSingleHostIgnoresHealth: the load balancer of a one-host cluster
	// returns the host without looking at its health (mosn#1711).
	BugSingleHostIgnoresHealth = "bug/mesh/single-host-lb-ignores-health"
	// BugRetryRewritesRequest: the router applies the route's rewrite to the
	// request in place, so a retry sends the rewritten request rewritten
	// again (mosn#780).
	BugRetryRewritesRequest = "bug/mesh/retry-rewrites-request"
	// BugStalePoolMetadata: a connection pool keeps the host metadata it
	// was created with after EDS changed it (a restarted instance's new
	// identity), so its requests are refused forever (mosn#1708).
	BugStalePoolMetadata = "bug/mesh/stale-pool-host-metadata"
	// BugRouteBeforeCluster: the control plane pushes routes before the
	// clusters they reference and the sidecar applies them at once,
	// answering "no cluster" meanwhile (istio#1437).
	BugRouteBeforeCluster = "bug/mesh/route-before-cluster"
	// BugUnknownClusterNeverRecovers: endpoints that arrive for a cluster
	// the sidecar does not (yet) have are dropped; when the cluster appears
	// it stays empty until its endpoints change (istio#5376).
	BugUnknownClusterNeverRecovers = "bug/mesh/unknown-cluster-never-recovers"
	// BugDeletedInstanceKept: the control plane keeps an instance that left
	// the registry in the service's endpoints (istio#10580, envoy#6765).
	BugDeletedInstanceKept = "bug/mesh/deleted-instance-kept"
	// BugMaxEjectionIgnored: outlier detection ejects hosts beyond max
	// ejection percent (istio#20135).
	BugMaxEjectionIgnored = "bug/mesh/max-ejection-percent-ignored"
	// BugRetryBudgetOvershoot: retries waiting in their backoff are not
	// counted against the retry budget, so concurrent failures admit more
	// retries than it allows (envoy#30205).
	BugRetryBudgetOvershoot = "bug/mesh/retry-budget-overshoot"
)

// Failpoints that are not bugs: a nemesis arms them on chosen instances
// to make them grey-fail while passing health checks.
const (
	// FailAppSlow adds the armed value (milliseconds) to the service time.
	FailAppSlow = "mesh/app-slow"
	// FailAppError makes the request fail with a 500.
	FailAppError = "mesh/app-error"
)

// Bugs lists the mesh's planted bugs.
var Bugs = []sim.Bug{
	{Name: BugClusterUpdateWipesEndpoints, Description: "a cluster update drops the cluster's endpoints until the next endpoint change (mosn#104)"},
	{Name: BugSingleHostIgnoresHealth, Description: "the load balancer of a single-host cluster ignores the host's health (mosn#1711)"},
	{Name: BugRetryRewritesRequest, Description: "a retry sends the request as the first attempt rewrote it: the path is rewritten twice (mosn#780)"},
	{Name: BugStalePoolMetadata, Description: "a connection pool keeps stale host metadata after the endpoint changed: a restarted instance is called with its old identity (mosn#1708)"},
	{Name: BugRouteBeforeCluster, Description: "routes are pushed and applied before the clusters they reference: requests fail with no cluster (istio#1437)"},
	{Name: BugUnknownClusterNeverRecovers, Description: "endpoints for a not-yet-known cluster are dropped: the cluster stays empty after it appears (istio#5376)"},
	{Name: BugDeletedInstanceKept, Description: "an instance that left the registry stays in the endpoints pushed to sidecars (istio#10580, envoy#6765)"},
	{Name: BugMaxEjectionIgnored, Description: "outlier detection ejects more hosts than max ejection percent allows (istio#20135)"},
	{Name: BugRetryBudgetOvershoot, Description: "retries in backoff are not counted against the retry budget: concurrent failures overshoot it (envoy#30205)"},
}

// bug evaluates a planted bug's failpoint.
func bug(env *sim.Env, name string) bool {
	_, ok := env.Failpoint(name)
	return ok
}
