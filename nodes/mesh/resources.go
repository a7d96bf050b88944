package mesh

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// xDS resource types, sent in this order on a push (clusters before the
// endpoints that fill them, listeners before the routes they name, and
// clusters before the routes that reference them: Envoy's ADS ordering).
const (
	TypeCluster  = "CDS"
	TypeEndpoint = "EDS"
	TypeListener = "LDS"
	TypeRoute    = "RDS"
)

// Types lists the xDS types in push order.
var Types = []string{TypeCluster, TypeEndpoint, TypeListener, TypeRoute}

// Load-balancing policies.
const (
	LBRoundRobin   = "round_robin"
	LBWeightedRR   = "weighted_round_robin"
	LBRandom       = "random"
	LBLeastRequest = "least_request"
	LBRingHash     = "ring_hash"
)

// Retry-on conditions (Envoy's x-envoy-retry-on).
const (
	RetryOn5xx            = "5xx"             // any 5xx, local or upstream
	RetryOnGatewayError   = "gateway-error"   // 502, 503, 504
	RetryOnReset          = "reset"           // the connection broke before a response
	RetryOnConnectFailure = "connect-failure" // the connection could not be opened
	RetryOnRefused        = "refused"         // a 5xx from an upstream that says it did not run the request
)

// Cluster is a CDS resource: how to talk to a set of hosts.
type Cluster struct {
	Name string
	LB   string
	// HashHeader is the request header ring hash hashes (default: the request id).
	HashHeader  string
	HealthCheck *HealthCheck
	Outlier     *Outlier
	// PanicThreshold in percent: below this share of healthy hosts the LB
	// ignores health (0 disables panic mode, Istio's default).
	PanicThreshold int
	Breakers       Breakers
	RetryBudget    *RetryBudget
}

// HealthCheck is an active health check: a probe every Interval, a host is
// unhealthy after UnhealthyThreshold failed probes in a row and healthy
// again after HealthyThreshold good ones.
type HealthCheck struct {
	Interval                             time.Duration
	UnhealthyThreshold, HealthyThreshold int
}

// Outlier is passive outlier detection: a host that answers Consecutive5xx
// gateway errors in a row is ejected for BaseEjection times the number of
// its ejections, while at most MaxEjectionPercent of the hosts are ejected.
type Outlier struct {
	Consecutive5xx     int
	BaseEjection       time.Duration
	MaxEjectionPercent int
}

// Breakers are circuit-breaker thresholds; zero means the default (1024).
type Breakers struct {
	MaxConnections, MaxPending, MaxRequests, MaxRetries int
}

const defaultBreaker = 1024

func (b Breakers) limit(v int) int {
	if v <= 0 {
		return defaultBreaker
	}
	return v
}

// RetryBudget limits concurrent retries to Percent of the cluster's active
// requests, and at least MinConcurrency.
type RetryBudget struct {
	Percent, MinConcurrency int
}

// Limit is the number of concurrent retries the budget allows.
func (b *RetryBudget) Limit(activeRequests int) int {
	return max(b.MinConcurrency, b.Percent*activeRequests/100)
}

// Endpoint is one host of a cluster, as the registry publishes it.
type Endpoint struct {
	Addr    sim.NodeID
	Weight  int
	Version string // subset label
	Epoch   uint32 // the instance's incarnation: its identity certificate
}

// ClusterLoadAssignment is an EDS resource: a cluster's endpoints.
type ClusterLoadAssignment struct {
	Cluster   string
	Endpoints []Endpoint // sorted by Addr
}

// Listener is an LDS resource. The outbound listener names its route
// configuration; the inbound listener carries the inbound filters.
type Listener struct {
	Name        string
	RouteConfig string
	Authz       *Authz
	RateLimit   *RateLimit
}

// Authz allows callers by identity (the caller's service). Empty allows all.
type Authz struct{ Allow []string }

// RateLimit is a local token bucket: PerSecond tokens a second, Burst at most.
type RateLimit struct{ PerSecond, Burst int }

// RouteConfig is an RDS resource.
type RouteConfig struct {
	Name         string
	VirtualHosts []VirtualHost
}

// VirtualHost matches requests by their service (authority).
type VirtualHost struct {
	Name    string
	Domains []string
	Routes  []Route
}

// Route matches a request and sends it to weighted clusters.
type Route struct {
	Name     string
	Match    Match
	Clusters []WeightedCluster
	Timeout  time.Duration
	Retry    *RetryPolicy
	Fault    *Fault
	// PrefixRewrite replaces Match.Prefix in the path sent upstream.
	PrefixRewrite string
}

// Match is a path prefix (or exact path) and exact header values.
type Match struct {
	Prefix  string
	Path    string
	Headers []Header
}

// Header is one request header.
type Header struct{ Name, Value string }

// WeightedCluster is one branch of a weighted split.
type WeightedCluster struct {
	Cluster string
	Weight  int
}

// RetryPolicy is a route's retry policy.
type RetryPolicy struct {
	RetryOn       []string
	NumRetries    int
	PerTryTimeout time.Duration
	BackoffBase   time.Duration
	BackoffMax    time.Duration
}

// Fault injects a delay or an abort into a share (ppm) of requests.
type Fault struct {
	DelayPPM    int64
	Delay       time.Duration
	AbortPPM    int64
	AbortStatus int
}

// Resources is one state-of-the-world set of one type.
type Resources struct {
	Clusters  []Cluster
	Endpoints []ClusterLoadAssignment
	Listeners []Listener
	Routes    []RouteConfig
}

// Digest hashes the resources (FNV-1a of their JSON form, which follows
// pointers): equal digests mean equal content, whatever the version.
func (r *Resources) Digest() uint64 {
	b, err := json.Marshal(r)
	if err != nil {
		panic(err) // plain data always marshals
	}
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

func (r *Resources) of(typ string) int {
	switch typ {
	case TypeCluster:
		return len(r.Clusters)
	case TypeEndpoint:
		return len(r.Endpoints)
	case TypeListener:
		return len(r.Listeners)
	}
	return len(r.Routes)
}

// Validate checks the resources of one type as a sidecar does before
// applying them: an error rejects the whole response.
func (r *Resources) Validate() error {
	seen := map[string]bool{}
	dup := func(kind, name string) error {
		if name == "" {
			return fmt.Errorf("%s without a name", kind)
		}
		if seen[name] {
			return fmt.Errorf("duplicate %s %q", kind, name)
		}
		seen[name] = true
		return nil
	}
	for _, c := range r.Clusters {
		if err := dup("cluster", c.Name); err != nil {
			return err
		}
		if err := c.validate(); err != nil {
			return fmt.Errorf("cluster %s: %v", c.Name, err)
		}
	}
	for _, a := range r.Endpoints {
		if err := dup("assignment", a.Cluster); err != nil {
			return err
		}
		for _, e := range a.Endpoints {
			if e.Addr == "" || e.Weight < 0 {
				return fmt.Errorf("assignment %s: bad endpoint %+v", a.Cluster, e)
			}
		}
	}
	for _, l := range r.Listeners {
		if err := dup("listener", l.Name); err != nil {
			return err
		}
		if l.RateLimit != nil && (l.RateLimit.PerSecond <= 0 || l.RateLimit.Burst <= 0) {
			return fmt.Errorf("listener %s: bad rate limit %+v", l.Name, *l.RateLimit)
		}
	}
	for _, rc := range r.Routes {
		if err := dup("route config", rc.Name); err != nil {
			return err
		}
		for _, vh := range rc.VirtualHosts {
			for _, rt := range vh.Routes {
				if err := rt.validate(); err != nil {
					return fmt.Errorf("route %s/%s: %v", vh.Name, rt.Name, err)
				}
			}
		}
	}
	return nil
}

func (c *Cluster) validate() error {
	if !slices.Contains([]string{LBRoundRobin, LBWeightedRR, LBRandom, LBLeastRequest, LBRingHash}, c.LB) {
		return fmt.Errorf("unknown lb policy %q", c.LB)
	}
	if c.PanicThreshold < 0 || c.PanicThreshold > 100 {
		return fmt.Errorf("panic threshold %d%%", c.PanicThreshold)
	}
	if o := c.Outlier; o != nil && (o.Consecutive5xx <= 0 || o.BaseEjection <= 0 || o.MaxEjectionPercent < 0 || o.MaxEjectionPercent > 100) {
		return fmt.Errorf("bad outlier detection %+v", *o)
	}
	if h := c.HealthCheck; h != nil && (h.Interval <= 0 || h.UnhealthyThreshold <= 0 || h.HealthyThreshold <= 0) {
		return fmt.Errorf("bad health check %+v", *h)
	}
	if b := c.RetryBudget; b != nil && (b.Percent < 0 || b.MinConcurrency < 0) {
		return fmt.Errorf("bad retry budget %+v", *b)
	}
	return nil
}

func (r *Route) validate() error {
	total := 0
	for _, wc := range r.Clusters {
		if wc.Cluster == "" || wc.Weight < 0 {
			return fmt.Errorf("bad weighted cluster %+v", wc)
		}
		total += wc.Weight
	}
	if total <= 0 {
		return fmt.Errorf("weights sum to %d", total)
	}
	if r.Timeout < 0 {
		return fmt.Errorf("negative timeout")
	}
	if p := r.Retry; p != nil && (p.NumRetries < 0 || p.NumRetries > 10 || p.PerTryTimeout < 0 || p.BackoffBase < 0 || p.BackoffMax < p.BackoffBase) {
		return fmt.Errorf("bad retry policy %+v", *p)
	}
	return nil
}

// referencedClusters lists the clusters the route configurations name.
func referencedClusters(rcs []RouteConfig) []string {
	var out []string
	for _, rc := range rcs {
		for _, vh := range rc.VirtualHosts {
			for _, rt := range vh.Routes {
				for _, wc := range rt.Clusters {
					out = append(out, wc.Cluster)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
