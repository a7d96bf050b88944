package mesh

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/sim"
)

// Topology describes a mesh to build into a world.
type Topology struct {
	Services []ServiceTopo
	// Clients are client pods (identity ClientService, default "client")
	// that generate Load; Intruders are client pods with identity
	// "intruder" that no service allows.
	Clients, Intruders int
	ClientService      string
	Load               LoadConfig // Targets default to every service
	Pilots             int        // default 2
	App                AppConfig  // default for every instance
	Config             *MeshConfig
	// Registry, if set, is the real registry (its servers are added);
	// otherwise a Catalog node serves discovery.
	Registry *registry.Config
	Pilot    PilotConfig // Discovery, Config and Observer are filled in
	Sidecar  SidecarConfig
	Observer Observer
}

// ServiceTopo is one service's instances; Versions[i] labels instance i
// (default "v1").
type ServiceTopo struct {
	Name      string
	Instances int
	Versions  []string
	App       *AppConfig // overrides Topology.App
}

// Mesh is a built topology: the node ids and the operator's handles.
type Mesh struct {
	W         *sim.World
	Pilots    []sim.NodeID
	Apps      map[string][]sim.NodeID // by service
	AppIDs    []sim.NodeID            // every instance, in build order
	Clients   []sim.NodeID            // client and intruder pods
	Catalog   sim.NodeID
	Registry  []sim.NodeID // the registry's servers
	config    *MeshConfig
	serviceOf map[sim.NodeID]string
	// What AddInstance needs.
	disc DiscoveryFactory
	sc   SidecarConfig
	obs  Observer
	app  map[string]AppConfig
}

// Node ids.
const CatalogID sim.NodeID = "catalog"

// Build adds the topology's nodes to the world.
func Build(w *sim.World, t Topology) *Mesh {
	m := &Mesh{W: w, Apps: map[string][]sim.NodeID{}, config: t.Config, serviceOf: map[sim.NodeID]string{}, obs: t.Observer, app: map[string]AppConfig{}}
	if m.config == nil {
		var names []string
		for _, s := range t.Services {
			names = append(names, s.Name)
		}
		m.config = DefaultConfig(names)
	}
	var disc DiscoveryFactory
	if t.Registry != nil {
		registry.AddServers(w, *t.Registry)
		m.Registry = append(append(append([]sim.NodeID(nil), t.Registry.Metas...), t.Registry.Data...), t.Registry.Sessions...)
		disc = RegistryDiscovery(t.Registry.Sessions)
	} else {
		m.Catalog = CatalogID
		w.AddNode(CatalogID, func() sim.Node { return &Catalog{} })
		disc = CatalogDiscovery(CatalogID)
	}
	if t.Pilots <= 0 {
		t.Pilots = 2
	}
	for i := 1; i <= t.Pilots; i++ {
		id := sim.NodeID(fmt.Sprintf("pilot-%d", i))
		m.Pilots = append(m.Pilots, id)
		pc := t.Pilot
		pc.Discovery, pc.Observer = disc, t.Observer
		pc.Config = func() *MeshConfig { return m.config }
		w.AddNode(id, func() sim.Node { return NewPilot(pc) })
	}
	sc := t.Sidecar
	sc.Pilots = m.Pilots
	m.disc, m.sc = disc, sc
	for _, s := range t.Services {
		app := t.App
		if s.App != nil {
			app = *s.App
		}
		m.app[s.Name] = app
		for i := 0; i < s.Instances; i++ {
			v := "v1"
			if i < len(s.Versions) {
				v = s.Versions[i]
			}
			m.AddInstance(s.Name, v)
		}
	}
	load := t.Load
	if len(load.Targets) == 0 {
		for _, s := range t.Services {
			load.Targets = append(load.Targets, s.Name)
		}
	}
	client := t.ClientService
	if client == "" {
		client = "client"
	}
	for i := 1; i <= t.Clients+t.Intruders; i++ {
		svc, id := client, sim.NodeID(fmt.Sprintf("client-%d", i))
		if i > t.Clients {
			svc, id = "intruder", sim.NodeID(fmt.Sprintf("intruder-%d", i-t.Clients))
		}
		l := load
		pc := PodConfig{Service: svc, Load: &l, Sidecar: sc, Observer: t.Observer}
		m.Clients = append(m.Clients, id)
		m.serviceOf[id] = svc
		w.AddNode(id, func() sim.Node { return NewPod(pc) })
	}
	return m
}

// AddInstance adds (deploys) one more instance of a service, now or before
// the run: scale-out. It returns the new pod's id.
func (m *Mesh) AddInstance(service, version string) sim.NodeID {
	id := sim.NodeID(fmt.Sprintf("%s-%d", service, len(m.Apps[service])+1))
	a := m.app[service]
	pc := PodConfig{Service: service, Version: version, App: &a, Sidecar: m.sc, Discovery: m.disc, Observer: m.obs}
	m.Apps[service] = append(m.Apps[service], id)
	m.AppIDs = append(m.AppIDs, id)
	m.serviceOf[id] = service
	m.W.AddNode(id, func() sim.Node { return NewPod(pc) })
	return id
}

// DefaultConfig is a production-like configuration: round robin, active
// health checks, outlier detection (5 consecutive 5xx, 1s base ejection,
// 50% at most), panic mode off, retries of gateway errors, resets and
// refusals (2 retries, 300ms per try) within a retry budget (25%, at least
// 3), 1s route timeouts, and callers limited to clients and the services.
func DefaultConfig(services []string) *MeshConfig {
	cfg := &MeshConfig{}
	allow := append([]string{"client"}, services...)
	for _, name := range services {
		cfg.Services = append(cfg.Services, ServiceSpec{
			Name: name,
			Policy: Cluster{LB: LBRoundRobin,
				HealthCheck:    &HealthCheck{Interval: 500 * time.Millisecond, UnhealthyThreshold: 2, HealthyThreshold: 2},
				Outlier:        &Outlier{Consecutive5xx: 5, BaseEjection: time.Second, MaxEjectionPercent: 50},
				PanicThreshold: 0,
				RetryBudget:    &RetryBudget{Percent: 25, MinConcurrency: 3}},
			DefaultTimeout: time.Second,
			DefaultRetry: &RetryPolicy{RetryOn: []string{RetryOnGatewayError, RetryOnReset, RetryOnConnectFailure, RetryOnRefused},
				NumRetries: 2, PerTryTimeout: 300 * time.Millisecond, BackoffBase: 25 * time.Millisecond, BackoffMax: 250 * time.Millisecond},
			Allow: allow,
		})
	}
	return cfg
}

// Config is the operator's configuration now.
func (m *Mesh) Config() *MeshConfig { return m.config }

// SetConfig replaces the configuration: live pilots get it now, restarted
// ones read it at start.
func (m *Mesh) SetConfig(cfg *MeshConfig) {
	m.config = cfg
	for _, id := range m.Pilots {
		if p := m.Pilot(id); p != nil {
			p.SetConfig(cfg)
		}
	}
}

// Pod returns a live pod, or nil.
func (m *Mesh) Pod(id sim.NodeID) *Pod {
	p, _ := m.W.Node(id).(*Pod)
	return p
}

// Pilot returns a live pilot, or nil.
func (m *Mesh) Pilot(id sim.NodeID) *Pilot {
	p, _ := m.W.Node(id).(*Pilot)
	return p
}

// Drain starts the graceful shutdown of an instance.
func (m *Mesh) Drain(id sim.NodeID) {
	if p := m.Pod(id); p != nil {
		p.Drain()
	}
}

// StopLoad stops every client's load generator.
func (m *Mesh) StopLoad() {
	for _, id := range m.Clients {
		if p := m.Pod(id); p != nil {
			p.StopLoad()
		}
	}
}

// ServiceOf returns a pod's service identity.
func (m *Mesh) ServiceOf(id sim.NodeID) string { return m.serviceOf[id] }

// Truth is the endpoints the registry should hold: the live, published
// instances, by service (sorted by address). Every configured service has
// an entry.
func (m *Mesh) Truth() map[string][]Endpoint {
	out := map[string][]Endpoint{}
	for _, s := range m.config.ServiceNames() {
		out[s] = nil
	}
	for _, id := range m.AppIDs {
		p := m.Pod(id)
		if p == nil || m.W.Paused(id) || p.app.State() != StatePublished {
			continue
		}
		svc := m.serviceOf[id]
		out[svc] = append(out[svc], p.app.Endpoint())
	}
	for s := range out { //detlint:allow each list is sorted on its own
		slices.SortFunc(out[s], func(a, b Endpoint) int { return cmpAddr(a.Addr, b.Addr) })
	}
	return out
}

// Divergence lists, for every live sidecar, how its state differs from
// what the configuration and the true endpoints make of it: the applied
// digest of each xDS type, and the hosts each cluster really holds. An
// empty list after a quiet period is convergence.
func (m *Mesh) Divergence() []string {
	truth := m.Truth()
	var out []string
	ids := append(append([]sim.NodeID(nil), m.AppIDs...), m.Clients...)
	for _, id := range ids {
		p := m.Pod(id)
		if p == nil {
			continue
		}
		want := BuildSnapshot(m.config, truth, m.serviceOf[id])
		got := p.sc.Applied()
		for _, t := range Types {
			if d := want[t].Digest(); got[t].Digest != d {
				out = append(out, fmt.Sprintf("%s: %s version %q digest %x, want %x", id, t, got[t].Version, got[t].Digest, d))
			}
		}
		hosts := p.sc.ClusterHosts()
		for _, a := range want[TypeEndpoint].Endpoints {
			if !slices.Equal(hosts[a.Cluster], a.Endpoints) && !(len(hosts[a.Cluster]) == 0 && len(a.Endpoints) == 0) {
				out = append(out, fmt.Sprintf("%s: cluster %s holds %v, want %v", id, a.Cluster, addrs(hosts[a.Cluster]), addrs(a.Endpoints)))
			}
		}
		for _, name := range slices.Sorted(maps.Keys(hosts)) {
			if !slices.ContainsFunc(want[TypeCluster].Clusters, func(c Cluster) bool { return c.Name == name }) {
				out = append(out, fmt.Sprintf("%s: stale cluster %s", id, name))
			}
		}
	}
	return out
}

func addrs(eps []Endpoint) []sim.NodeID {
	out := []sim.NodeID{}
	for _, e := range eps {
		out = append(out, e.Addr)
	}
	return out
}
