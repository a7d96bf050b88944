// Package mesh holds the service mesh scenarios: application pods with
// sidecars, client pods generating load, Pilot-like control-plane
// replicas fed by the service registry (nodes/mesh), the operator's
// operations (deploys, scaling, drains, configuration changes, flash
// crowds), the mesh's own nemesis families and the build of the system;
// checkers/mesh judges them. Importing the package registers the
// scenarios.
package mesh

import (
	"fmt"
	"slices"
	"time"

	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/checkers"
	meshcheck "github.com/sofasim/sofasim/checkers/mesh"
	meshnode "github.com/sofasim/sofasim/nodes/mesh"
	"github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

// variant is what distinguishes the mesh scenarios.
type variant struct {
	name, desc string
	ops        []string // operation kinds the plan draws (uniformly: repeat one to weight it)
	maxOps     int
	families   []string
	targets    []string // generic families hit "pilots", "apps", "registry"
	episodes   int
	overload   bool // small instances and tight circuit breakers
	followUp   bool // the operator reacts to the incident once the faults are over
	canaryOdds int  // the mesh families pick the v2 canary this many times as often as another instance
}

var variants = []variant{
	{name: "mesh-basic", desc: "3 services x 3 instances behind sidecars, 2 pilots fed by the registry, clients and an intruder sending requests; configuration changes, no faults",
		ops: []string{OpConfig}, maxOps: 2},
	{name: "mesh-xds-churn", desc: "deploys, scale-out and scale-in (drains), configuration changes (policies, weights, retries, new subsets and routes, a bad rule fixed later) and control-plane crashes, stops and restarts, then perhaps a post-incident change (outlier tuning, a bad rule, a scale-in)",
		ops: []string{OpDeploy, OpScaleOut, OpDrain, OpDrain, OpConfig, OpConfig, OpConfig}, maxOps: 8,
		families: []string{scenarios.FamilyCrash, scenarios.FamilyPause, familyPilotRestart}, targets: []string{"pilots"}, episodes: 4, followUp: true},
	{name: "mesh-outlier", desc: "crashing, crash-looping, restarting, stopped, slow and grey-failing instances (errors or latency while passing health checks; the v2 canary most often): outlier detection, health checks, retries",
		ops: []string{OpDrain}, maxOps: 1,
		families: []string{scenarios.FamilyCrash, scenarios.FamilyPause, familyGreyError, familyGreySlow, familyInstanceRestart, familyCrashLoop}, targets: []string{"apps"}, episodes: 5, canaryOdds: 4},
	{name: "mesh-overload", desc: "flash crowds against small instances, retries and tight circuit breakers, with slow and failing instances: a retry storm must not become metastable",
		ops: []string{OpFlashCrowd}, maxOps: 2,
		families: []string{familyGreyError, familyGreySlow}, episodes: 2, overload: true},
	{name: "mesh-chaos", desc: "everything at once: operations, control-plane, instance and registry crashes and stops, partitions, loss and clogs, grey failures",
		ops: OpKinds, maxOps: 8,
		families: []string{scenarios.FamilyCrash, scenarios.FamilyPause, scenarios.FamilyPartition, scenarios.FamilyNet, familyGreyError, familyGreySlow, familyInstanceRestart, familyPilotRestart},
		targets:  []string{"pilots", "apps", "registry"}, episodes: 6},
}

func init() {
	for _, v := range variants {
		scenarios.Register(scenario(v))
	}
}

// Params are the mesh scenarios' parameters.
var Params = []scenarios.Param{
	scenarios.Int("services", 3, 1, 1000, "services"),
	scenarios.Int("instances", 3, 1, 100, "instances per service (the first service's last one is a v2 canary)"),
	scenarios.Int("clients", 3, 1, 10000, "client pods"),
	scenarios.Int("intruders", 1, 0, 100, "client pods with an identity no service allows"),
	scenarios.Int("rate", 50, 1, 10000, "requests a second per client pod"),
	scenarios.Int("crowd", 4, 1, 100, "pods in a flash crowd"),
	scenarios.OneOf("pilots", 2, []int{1, 2, 3, 4, 5}, "control-plane replicas"),
	scenarios.OneOf("registry", 1, []int{0, 1}, "1: discovery through the real registry (3 meta, 2 data, 2 session servers); 0: a one-node catalog (faster)"),
	scenarios.Dur("duration", 20*time.Second, "safety phase (virtual time)"),
	scenarios.Dur("liveness", 15*time.Second, "liveness phase: the load goes on, goodput is judged from 3s after the heal, then 6s of quiet"),
}

func scenario(v variant) *scenarios.Scenario {
	return scenarios.Define(scenarios.Spec[Op, *meshcheck.History]{
		Name:        v.name,
		Description: v.desc,
		Params:      Params,
		Bugs:        meshnode.Bugs,
		Failpoints:  []string{meshnode.FailAppError, meshnode.FailAppSlow},
		OpKinds:     OpKinds,
		Kind:        func(op Op) string { return op.Kind },
		Nodes:       func(p scenarios.Values) []sim.NodeID { return layout(p).all() },
		Clients:     func(scenarios.Values) int { return 1 },
		Draw: func(t *rapid.T, p scenarios.Values) scenarios.Draft[Op] {
			d := p.Duration("duration")
			l := layout(p)
			n := nemesis{families: v.families, episodes: v.episodes, all: l.all(), apps: l.apps, appsOf: l.appsOf, pilots: l.pilots, serviceOf: l.serviceOf}
			n.suspects = l.apps
			if l.canary != "" && v.canaryOdds > 1 {
				n.suspects = append(slices.Clone(l.apps), slices.Repeat([]sim.NodeID{l.canary}, v.canaryOdds-1)...)
			}
			for _, g := range v.targets {
				switch g {
				case "pilots":
					n.members = append(n.members, l.pilots...)
				case "apps":
					n.members = append(n.members, l.apps...)
				case "registry":
					n.members = append(n.members, l.registry...)
				}
			}
			ops := drawOps(t, v.ops, v.maxOps, l.services, p.Int("instances"), d)
			faults := drawFaults(t, n, d)
			if v.followUp {
				ops = drawFollowUp(t, ops, faults, l.services, p.Int("instances"), d)
			}
			return scenarios.Draft[Op]{
				Duration: sim.Duration(d),
				Liveness: sim.Duration(p.Duration("liveness")),
				Ops:      ops,
				Faults:   faults,
			}
		},
		Build: func(w *sim.World, plan *scenarios.Plan, p scenarios.Values, ops []Op) (scenarios.System[*meshcheck.History], error) {
			sys := build(w, plan, p, ops, v.overload, nil)
			sys.targets = v.targets
			return sys, nil
		},
	})
}

// names is the node layout a set of parameters builds (as mesh.Build
// names them).
type names struct {
	services  []string
	registry  []sim.NodeID
	pilots    []sim.NodeID
	apps      []sim.NodeID
	appsOf    map[string][]sim.NodeID
	serviceOf map[sim.NodeID]string
	clients   []sim.NodeID
	canary    sim.NodeID // the first service's v2 instance, alone in its subset ("" with one instance)
}

func layout(p scenarios.Values) names {
	l := names{appsOf: map[string][]sim.NodeID{}, serviceOf: map[sim.NodeID]string{}}
	for i := 0; i < p.Int("services"); i++ {
		s := fmt.Sprintf("svc-%d", i+1)
		l.services = append(l.services, s)
		for j := 1; j <= p.Int("instances"); j++ {
			id := sim.NodeID(fmt.Sprintf("%s-%d", s, j))
			l.apps = append(l.apps, id)
			l.appsOf[s] = append(l.appsOf[s], id)
			l.serviceOf[id] = s
		}
	}
	if n := p.Int("instances"); n >= 2 && len(l.services) > 0 {
		l.canary = l.appsOf[l.services[0]][n-1]
	}
	if p.Int("registry") == 1 {
		rc := registryConfig()
		l.registry = append(append(append(l.registry, rc.Metas...), rc.Data...), rc.Sessions...)
	} else {
		l.registry = []sim.NodeID{meshnode.CatalogID}
	}
	for i := 1; i <= p.Int("pilots"); i++ {
		l.pilots = append(l.pilots, sim.NodeID(fmt.Sprintf("pilot-%d", i)))
	}
	for i := 1; i <= p.Int("clients"); i++ {
		l.clients = append(l.clients, sim.NodeID(fmt.Sprintf("client-%d", i)))
	}
	for i := 1; i <= p.Int("intruders"); i++ {
		l.clients = append(l.clients, sim.NodeID(fmt.Sprintf("intruder-%d", i)))
	}
	return l
}

func (l names) all() []sim.NodeID {
	return append(append(append(append([]sim.NodeID(nil), l.registry...), l.pilots...), l.apps...), l.clients...)
}

// registryConfig is a small registry sized for quick failovers (raft
// election, 3 s leases): a mesh run lasts 35 s, and with SOFARegistry's 30 s
// data-side session lease a drained instance whose session crashed before
// passing on its unpublish would stay in discovery past the end
// (EvictWithTable drops a session's publishers once it leaves the table).
func registryConfig() registry.Config {
	return registry.Config{Metas: []sim.NodeID{"meta-1", "meta-2", "meta-3"}, Data: []sim.NodeID{"data-1", "data-2"},
		Sessions: []sim.NodeID{"session-1", "session-2"}, Slots: 16, EvictWithTable: true}
}

// meshConfig is the operator's first configuration: production-like
// defaults (nodes/mesh.DefaultConfig) plus retries of 5xx within a 20%
// budget, and on the first service a canary route ("/api/" 80/20 to
// subsets v1 and v2, with a prefix rewrite).
func meshConfig(services []string, canary, overload bool) *meshnode.MeshConfig {
	cfg := meshnode.DefaultConfig(services)
	for i := range cfg.Services {
		s := &cfg.Services[i]
		rp := *s.DefaultRetry
		rp.RetryOn = append(rp.RetryOn, meshnode.RetryOn5xx)
		s.DefaultRetry = &rp
		s.Policy.RetryBudget = &meshnode.RetryBudget{Percent: 20, MinConcurrency: 1}
		if overload { // tight enough that a flash crowd trips them (max requests 48 never was)
			s.Policy.Breakers = meshnode.Breakers{MaxConnections: 64, MaxRequests: 8, MaxPending: 4, MaxRetries: 6}
		}
	}
	if canary {
		a := &cfg.Services[0]
		a.Subsets = []meshnode.Subset{{Name: "v1", Version: "v1"}, {Name: "v2", Version: "v2"}}
		a.Routes = []meshnode.RouteSpec{{Name: "api", Match: meshnode.Match{Prefix: "/api/"}, Split: []meshnode.Split{{Subset: "v1", Weight: 80}, {Subset: "v2", Weight: 20}},
			Timeout: time.Second, Retry: a.DefaultRetry, PrefixRewrite: "/api/v1/"}}
	}
	return cfg
}

// quiet is the end of a run without load: answers in flight arrive and
// sidecars settle before convergence is judged.
const quiet = 6 * time.Second

// system is a built mesh scenario.
type system struct {
	w          *sim.World
	m          *meshnode.Mesh
	rec        *recorder
	l          names
	end        time.Duration
	cfgVersion int
	drained    map[sim.NodeID]bool
	version    map[sim.NodeID]string // each instance's version label
	first      *meshnode.MeshConfig  // the first configuration
	targets    []string              // what the nemesis hits: "pilots", "apps", "registry"
}

// build adds the mesh, the crowd pods and the operator; obs, when set,
// replaces the recorder (benchmarks).
func build(w *sim.World, plan *scenarios.Plan, p scenarios.Values, ops []Op, overload bool, obs meshnode.Observer) *system {
	l := layout(p)
	end := time.Duration(plan.Duration + plan.Liveness)
	sys := &system{w: w, rec: &recorder{w: w, h: &meshcheck.History{Records: make([]meshcheck.Record, 0, 1<<15)}}, l: l, end: end, drained: map[sim.NodeID]bool{}, version: map[sim.NodeID]string{}}
	if obs == nil {
		obs = sys.rec
	}
	canary := p.Int("instances") >= 2
	app := meshnode.AppConfig{Workers: 8, Queue: 16, ReadyAfter: 300 * time.Millisecond, DrainTime: time.Second,
		ServiceTime: meshnode.Dist{Min: 2 * time.Millisecond, Max: 20 * time.Millisecond, TailPPM: 10_000, TailMax: 200 * time.Millisecond}}
	if overload {
		app.Workers, app.Queue = 4, 8
	}
	load := meshnode.LoadConfig{Rate: p.Int("rate"), Paths: []string{"/", "/api/orders", "/api/users"}, IdempotentPPM: 700_000, Users: 50,
		Start: time.Second, Stop: end - quiet, Timeout: 5 * time.Second}
	topo := meshnode.Topology{Clients: p.Int("clients"), Intruders: p.Int("intruders"), Pilots: p.Int("pilots"), App: app, Load: load,
		Config: meshConfig(l.services, canary, overload), Observer: obs}
	for i, s := range l.services {
		st := meshnode.ServiceTopo{Name: s, Instances: p.Int("instances")}
		for j, id := range l.appsOf[s] {
			v := "v1"
			if i == 0 && canary && j == st.Instances-1 {
				v = "v2"
			}
			st.Versions = append(st.Versions, v)
			sys.version[id] = v
		}
		topo.Services = append(topo.Services, st)
	}
	if p.Int("registry") == 1 {
		rc := registryConfig()
		topo.Registry = &rc
	}
	sys.m, sys.first = meshnode.Build(w, topo), topo.Config
	sys.rec.add(operatorID, policies(topo.Config, 1))
	sys.cfgVersion = 1
	for _, id := range append(append([]sim.NodeID(nil), sys.m.AppIDs...), sys.m.Clients...) {
		sys.rec.add(id, meshcheck.Deployed{Service: sys.m.ServiceOf(id)})
	}
	// Flash crowds: client pods whose load runs for the operation's span.
	for i, op := range ops {
		if op.Kind != OpFlashCrowd {
			continue
		}
		for j := 0; j < p.Int("crowd"); j++ {
			id := sim.NodeID(fmt.Sprintf("crowd-%d-%d", i, j+1))
			lc := load
			lc.Rate, lc.Targets, lc.Start, lc.Stop = max(1, op.Rate), []string{op.Service}, time.Duration(op.At), time.Duration(op.At+op.For)
			pc := meshnode.PodConfig{Service: "client", Load: &lc, Sidecar: meshnode.SidecarConfig{Pilots: sys.m.Pilots}, Observer: obs}
			w.AddNode(id, func() sim.Node { return meshnode.NewPod(pc) })
			sys.rec.add(id, meshcheck.Deployed{Service: "client"})
		}
	}
	w.AddNode(operatorID, func() sim.Node {
		return &operator{sys: sys, driver: &scenarios.Driver[Op]{Ops: ops, Now: w.Now, Exec: sys.exec}}
	})
	// Crashes and restarts are recorded as the kernel applied them, so a
	// step aimed at "the leader" is recorded with the node it hit: right
	// after each step's time, the faults applied since the last look.
	seen := 0
	record := func() {
		applied := w.Faults()
		for _, f := range applied[seen:] {
			switch op := f.Fault.Op.(type) {
			case sim.Crash:
				for _, n := range op.Nodes {
					sys.rec.add(n, meshcheck.Crashed{})
				}
			case sim.Restart:
				for _, n := range op.Nodes {
					sys.rec.add(n, meshcheck.Restarted{})
				}
			}
		}
		seen = len(applied)
	}
	for _, s := range plan.Faults {
		w.At(time.Duration(s.At), func() { w.After(0, record) })
	}
	w.At(time.Duration(plan.Duration), func() { sys.rec.add(operatorID, meshcheck.Healed{}) })
	return sys
}

// Members are the nemesis's targets, what a fault aimed at "the leader"
// falls back to and what the liveness phase restarts.
func (s *system) Members() []sim.NodeID {
	var out []sim.NodeID
	for _, g := range s.targets {
		switch g {
		case "pilots":
			out = append(out, s.l.pilots...)
		case "apps":
			out = append(out, s.l.apps...)
		case "registry":
			out = append(out, s.l.registry...)
		}
	}
	return out
}

// Leader is the busiest control-plane replica (the one most sidecars
// stream from) when the nemesis targets pilots, so a fault aimed at "the
// leader" hits the control plane; otherwise none, and such a fault hits a
// member, which the episode's end resumes (pausing both pilots for good
// in an instance scenario would take the control plane away).
func (s *system) Leader() sim.NodeID {
	if !slices.Contains(s.targets, "pilots") {
		return ""
	}
	n := map[sim.NodeID]int{}
	for _, id := range append(append([]sim.NodeID(nil), s.m.AppIDs...), s.m.Clients...) {
		if p := s.m.Pod(id); p != nil && p.Sidecar() != nil && p.Sidecar().Pilot() != "" {
			n[p.Sidecar().Pilot()]++
		}
	}
	best := s.l.pilots[0]
	for _, id := range s.l.pilots {
		if n[id] > n[best] {
			best = id
		}
	}
	return best
}

// Done: the load has stopped and the quiet period passed.
func (s *system) Done() bool { return s.w.Now() >= s.end }

// History ends with the sidecars' divergence from the truth.
func (s *system) History() *meshcheck.History {
	h := &meshcheck.History{Records: append([]meshcheck.Record(nil), s.rec.h.Records...)}
	h.Add(s.w.Now(), operatorID, meshcheck.Ended{Divergence: s.m.Divergence()})
	return h
}

func (s *system) Checkers(scenarios.Bounds) []checkers.CheckerOf[*meshcheck.History] {
	return meshcheck.Checkers(meshcheck.DefaultBounds)
}
