package rehearsal

import (
	"fmt"
	"slices"
	"time"

	"github.com/sofasim/sofasim/nodes/coordinator"
	"github.com/sofasim/sofasim/nodes/mesh"
	"github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/sim"
)

// harness is one rehearsal's world: the whole stack built from the file.
type harness struct {
	f      *File
	w      *sim.World
	m      *Metrics
	rate   *Rate
	warmup time.Duration
	reg    registry.Config
	co     coordinator.Config
	mcfg   *mesh.MeshConfig
	pilots []sim.NodeID
	// Every node's zone; app pods by service; databases by service.
	zone    map[sim.NodeID]string
	apps    map[string][]sim.NodeID
	dbs     map[string][]sim.NodeID
	clients []sim.NodeID
	// gateways, when the traffic has them; isClient marks client nodes.
	gateways []sim.NodeID
	isClient map[sim.NodeID]bool
	drills   []DrillMark
	every    time.Duration // sampling interval
}

// Warmup is the time the stack gets to start (elections, registrations,
// xDS) before the traffic's 0s.
const Warmup = 10 * time.Second

// DefaultSampleEvery: worker pools are sampled this often.
const DefaultSampleEvery = 250 * time.Millisecond

func build(f *File, seed uint64, every time.Duration) *harness {
	w := sim.NewWorld(sim.Config{Seed: seed})
	var names []string
	for _, s := range f.Services {
		names = append(names, s.Name)
	}
	h := &harness{f: f, w: w, warmup: Warmup, every: every, rate: newRate(f.Traffic, seed),
		zone: map[sim.NodeID]string{}, apps: map[string][]sim.NodeID{}, dbs: map[string][]sim.NodeID{}}
	h.m = newMetrics(w, h.warmup, names)
	zoneOf := func(i int) string { return f.Zones[i%len(f.Zones)] }
	ids := func(prefix string, n int) []sim.NodeID {
		var out []sim.NodeID
		for i := range n {
			id := sim.NodeID(fmt.Sprintf("%s-%d", prefix, i+1))
			h.zone[id] = zoneOf(i)
			out = append(out, id)
		}
		return out
	}

	// The registry: discovery for the mesh and the coordinator, sized for
	// quick failovers as the mesh scenarios' is (raft, 3 s leases, a dead
	// session's publishers dropped with the table): the rehearsals' SLOs
	// and drill graces were calibrated on it, before SOFARegistry's 30 s
	// data-side session lease became the registry's default.
	h.reg = registry.Config{Metas: ids("meta", f.Registry.Metas), Data: ids("data", f.Registry.Data), Sessions: ids("session", f.Registry.Sessions), Slots: 64,
		EvictWithTable: true}
	registry.AddServers(w, h.reg)

	// The coordinator: raft TCs that publish themselves, one RM per database.
	var rms []sim.NodeID
	for _, s := range f.Services {
		if s.Resource != "" {
			h.dbs[s.Name] = ids(s.Name+"-db", s.DBs)
			rms = append(rms, h.dbs[s.Name]...)
		}
	}
	h.co = coordinator.Config{TCs: ids("tc", f.Coordinator.TCs), RMs: rms, Store: coordinator.StoreRaft, Registry: h.reg.Sessions,
		TxTimeout: time.Duration(f.Coordinator.TxTimeout), SnapshotEvery: 20_000, GroupCommit: time.Millisecond, Accounts: f.Coordinator.accounts(), Items: f.Coordinator.items(), Balance: 1_000_000_000, Stock: 1_000_000_000}
	if f.Coordinator.TCs == 1 {
		h.co.Store = coordinator.StoreFile
	}
	coordinator.AddServers(w, h.co)

	// The mesh: pilots fed by the registry, sidecars everywhere.
	h.mcfg = meshConfig(f, names)
	disc := mesh.RegistryDiscovery(h.reg.Sessions)
	h.pilots = ids("pilot", f.Mesh.Pilots)
	for _, id := range h.pilots {
		pc := mesh.PilotConfig{Discovery: disc, Observer: h.m, Config: func() *mesh.MeshConfig { return h.mcfg }}
		w.AddNode(id, func() sim.Node { return mesh.NewPilot(pc) })
	}
	sc := mesh.SidecarConfig{Pilots: h.pilots}
	for i := range f.Services {
		s := &f.Services[i]
		app := mesh.AppConfig{Workers: s.Workers, Queue: s.Queue, ReadyAfter: 500 * time.Millisecond, DrainTime: 2 * time.Second}
		for _, z := range f.Zones {
			for n := range s.Instances[z] {
				id := sim.NodeID(fmt.Sprintf("%s-%s-%d", s.Name, z, n+1))
				h.zone[id] = z
				h.apps[s.Name] = append(h.apps[s.Name], id)
				pc := mesh.PodConfig{Service: s.Name, Version: "v1", App: &app, Sidecar: sc, Discovery: disc, Observer: h.m}
				w.AddNode(id, func() sim.Node { return &appPod{h: h, svc: s, pc: pc} })
			}
		}
	}
	// Clients stand for users on the internet, gateways for the ingress
	// tier: in no zone. Both call the mesh as "client".
	pc := mesh.PodConfig{Service: "client", Sidecar: sc, Observer: h.m}
	for i := range f.Traffic.Gateways {
		id := sim.NodeID(fmt.Sprintf("gateway-%d", i+1))
		h.gateways = append(h.gateways, id)
		w.AddNode(id, func() sim.Node { return &gateway{h: h, pc: pc} })
	}
	h.isClient = map[sim.NodeID]bool{}
	for i := range f.Traffic.Clients {
		id := sim.NodeID(fmt.Sprintf("client-%d", i+1))
		h.clients = append(h.clients, id)
		h.isClient[id] = true
		var gw sim.NodeID
		if len(h.gateways) > 0 {
			gw = h.gateways[i%len(h.gateways)]
		}
		w.AddNode(id, func() sim.Node {
			g := &loadGen{h: h, pc: pc, clients: int64(f.Traffic.Clients)}
			if gw != "" {
				g.user = &user{gw: gw}
			}
			return g
		})
	}
	w.AddNode("probe-pub", func() sim.Node { return &probe{h: h, pub: true} })
	w.AddNode("probe-sub", func() sim.Node { return &probe{h: h} })
	h.scheduleDrills()
	h.sample()
	return h
}

// meshConfig is the file's mesh policy for every service; callers are
// the clients and the services.
func meshConfig(f *File, names []string) *mesh.MeshConfig {
	m := f.Mesh
	cfg := &mesh.MeshConfig{}
	allow := append([]string{"client"}, names...)
	for _, s := range f.Services {
		lb := m.LB
		if lb == "" {
			lb = mesh.LBLeastRequest
		}
		pol := mesh.Cluster{LB: lb,
			Breakers: mesh.Breakers{MaxRequests: m.MaxRequests, MaxPending: m.MaxPending}}
		if m.HealthInterval > 0 {
			pol.HealthCheck = &mesh.HealthCheck{Interval: time.Duration(m.HealthInterval), UnhealthyThreshold: 2, HealthyThreshold: 2}
		}
		if m.Consecutive5xx > 0 {
			pol.Outlier = &mesh.Outlier{Consecutive5xx: m.Consecutive5xx, BaseEjection: time.Duration(m.BaseEjection), MaxEjectionPercent: m.MaxEjectionPct}
		}
		if m.RetryBudget > 0 {
			pol.RetryBudget = &mesh.RetryBudget{Percent: m.RetryBudget, MinConcurrency: m.RetryMin}
		}
		spec := mesh.ServiceSpec{Name: s.Name, Policy: pol, DefaultTimeout: time.Duration(s.Timeout), Allow: allow}
		if m.Retries > 0 {
			spec.DefaultRetry = &mesh.RetryPolicy{RetryOn: []string{mesh.RetryOnGatewayError, mesh.RetryOnReset, mesh.RetryOnConnectFailure, mesh.RetryOnRefused},
				NumRetries: m.Retries, PerTryTimeout: time.Duration(m.PerTryTimeout), BackoffBase: 25 * time.Millisecond, BackoffMax: 250 * time.Millisecond}
		}
		cfg.Services = append(cfg.Services, spec)
	}
	return cfg
}

// sample reads every instance's worker pool every h.every.
func (h *harness) sample() {
	h.w.After(h.every, func() {
		for _, s := range h.f.Services {
			for _, id := range h.apps[s.Name] {
				p, ok := h.w.Node(id).(*appPod)
				if !ok || p.pod == nil || p.pod.App() == nil || h.w.Paused(id) {
					continue
				}
				a := p.pod.App()
				h.m.sample(s.Name, a.Busy(), a.Queued(), s.Workers)
			}
		}
		h.m.sampled()
		h.sample()
	})
}

// nodesInZone lists every node of a zone, sorted.
func (h *harness) nodesInZone(z string) []sim.NodeID {
	var out []sim.NodeID
	for id, zz := range h.zone { //detlint:allow sorted below
		if zz == z {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}
