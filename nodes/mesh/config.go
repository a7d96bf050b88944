package mesh

import (
	"slices"
	"strings"
	"time"
)

// MeshConfig is the operator's configuration (Istio's VirtualServices,
// DestinationRules and AuthorizationPolicies in one value). The control
// plane translates it, with the registry's endpoints, into xDS resources.
// A MeshConfig is never mutated once handed over; changes replace it.
type MeshConfig struct {
	Services []ServiceSpec
}

// ServiceSpec configures one service.
type ServiceSpec struct {
	Name string
	// Subsets name instance versions (DestinationRule subsets).
	Subsets []Subset
	// Policy is the cluster template (DestinationRule traffic policy); its
	// Name is ignored.
	Policy Cluster
	// Routes are tried in order; a default route to the whole service
	// follows them.
	Routes []RouteSpec
	// DefaultTimeout and DefaultRetry apply to the default route.
	DefaultTimeout time.Duration
	DefaultRetry   *RetryPolicy
	// Allow lists the caller identities the service accepts (empty: all).
	Allow     []string
	RateLimit *RateLimit
}

// Subset selects the instances of one version.
type Subset struct{ Name, Version string }

// RouteSpec is one VirtualService route.
type RouteSpec struct {
	Name  string
	Match Match
	// Split sends shares of traffic to subsets ("" is the whole service).
	Split         []Split
	Timeout       time.Duration
	Retry         *RetryPolicy
	Fault         *Fault
	PrefixRewrite string
}

// Split is one weighted subset of a route.
type Split struct {
	Subset string
	Weight int
}

// Service returns the named service's spec, or nil.
func (c *MeshConfig) Service(name string) *ServiceSpec {
	for i := range c.Services {
		if c.Services[i].Name == name {
			return &c.Services[i]
		}
	}
	return nil
}

// ServiceNames lists the configured services, sorted.
func (c *MeshConfig) ServiceNames() []string {
	out := make([]string, 0, len(c.Services))
	for _, s := range c.Services {
		out = append(out, s.Name)
	}
	slices.Sort(out)
	return out
}

// ClusterName names the cluster of a service, or of one of its subsets.
func ClusterName(service, subset string) string {
	if subset == "" {
		return "outbound|" + service
	}
	return "outbound|" + service + "|" + subset
}

// Listener and route names.
const (
	OutboundListener = "outbound"
	InboundListener  = "inbound"
	OutboundRoutes   = "outbound"
)

// Snapshot is the full xDS state for one proxy, by type.
type Snapshot map[string]*Resources

// Digests returns each type's content digest.
func (s Snapshot) Digests() map[string]uint64 {
	out := map[string]uint64{}
	for _, t := range Types {
		out[t] = s[t].Digest()
	}
	return out
}

// BuildSnapshot translates the configuration and the endpoints (by service,
// sorted by address) into the xDS resources for a proxy of the given
// service. It is a pure function, so a checker can compute what every
// sidecar should converge to from the ground truth.
func BuildSnapshot(cfg *MeshConfig, eps map[string][]Endpoint, service string) Snapshot {
	s := buildShared(cfg, eps)
	s[TypeListener] = buildListeners(cfg, service)
	return s
}

// buildShared builds what every proxy gets alike: clusters, endpoints and
// routes.
func buildShared(cfg *MeshConfig, eps map[string][]Endpoint) Snapshot {
	s := Snapshot{TypeCluster: &Resources{}, TypeEndpoint: &Resources{}, TypeRoute: &Resources{}}
	rc := RouteConfig{Name: OutboundRoutes}
	for _, name := range cfg.ServiceNames() {
		spec := cfg.Service(name)
		addCluster := func(subset, version string) {
			c := spec.Policy
			c.Name = ClusterName(name, subset)
			if c.LB == "" {
				c.LB = LBRoundRobin
			}
			s[TypeCluster].Clusters = append(s[TypeCluster].Clusters, c)
			var hosts []Endpoint
			for _, e := range eps[name] {
				if version == "" || e.Version == version {
					hosts = append(hosts, e)
				}
			}
			s[TypeEndpoint].Endpoints = append(s[TypeEndpoint].Endpoints, ClusterLoadAssignment{Cluster: c.Name, Endpoints: hosts})
		}
		addCluster("", "")
		for _, sub := range spec.Subsets {
			addCluster(sub.Name, sub.Version)
		}
		vh := VirtualHost{Name: name, Domains: []string{name}}
		for _, r := range spec.Routes {
			rt := Route{Name: r.Name, Match: r.Match, Timeout: r.Timeout, Retry: r.Retry, Fault: r.Fault, PrefixRewrite: r.PrefixRewrite}
			for _, sp := range r.Split {
				rt.Clusters = append(rt.Clusters, WeightedCluster{Cluster: ClusterName(name, sp.Subset), Weight: sp.Weight})
			}
			vh.Routes = append(vh.Routes, rt)
		}
		vh.Routes = append(vh.Routes, Route{Name: "default", Match: Match{Prefix: "/"},
			Clusters: []WeightedCluster{{Cluster: ClusterName(name, ""), Weight: 1}}, Timeout: spec.DefaultTimeout, Retry: spec.DefaultRetry})
		rc.VirtualHosts = append(rc.VirtualHosts, vh)
	}
	s[TypeRoute].Routes = []RouteConfig{rc}
	return s
}

// buildListeners builds a proxy's listeners: the outbound one, and the
// inbound one of its service.
func buildListeners(cfg *MeshConfig, service string) *Resources {
	r := &Resources{Listeners: []Listener{{Name: OutboundListener, RouteConfig: OutboundRoutes}}}
	if spec := cfg.Service(service); spec != nil {
		in := Listener{Name: InboundListener, RateLimit: spec.RateLimit}
		if len(spec.Allow) > 0 {
			in.Authz = &Authz{Allow: slices.Sorted(slices.Values(spec.Allow))}
		}
		r.Listeners = append(r.Listeners, in)
	}
	return r
}

// matches reports whether the route matches the request.
func (m *Match) matches(r *Request) bool {
	if m.Path != "" && r.Path != m.Path {
		return false
	}
	if m.Prefix != "" && !strings.HasPrefix(r.Path, m.Prefix) {
		return false
	}
	for _, h := range m.Headers {
		if r.Header(h.Name) != h.Value {
			return false
		}
	}
	return true
}
