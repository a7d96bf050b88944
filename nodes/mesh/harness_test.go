package mesh

import (
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/sim"
)

// traceTo, when set, receives the full trace of the worlds built (debugging).
var traceTo io.Writer

// testMesh is a test world: 3 services x 3 instances behind sidecars, two
// pilots, a registry (the Catalog, or the real one), client pods with load
// generators, and a recorder of every observed event.
type testMesh struct {
	w    *sim.World
	m    *Mesh
	rec  *Recorder
	o    meshOpts
	topo Topology
	// healAt: faults are over; quietAt: the load stopped and the run is
	// quiet from here on (convergence is judged after it).
	healAt, endAt time.Duration
	crashed       map[sim.NodeID][]time.Duration // crash (and restart) times per node
	drained       map[sim.NodeID]time.Duration
}

type meshOpts struct {
	seed      uint64
	instances int // per service (default 3)
	clients   int // default 3
	intruders int
	rate      int // per client (default 50/s)
	pilots    int
	registry  bool          // the real registry instead of the Catalog
	duration  time.Duration // of the load (default 20s)
	bugs      []string
	topo      func(*Topology)
	// chaos schedules the nemesis (nil: none).
	chaos func(tm *testMesh)
}

var testServices = []string{"svc-a", "svc-b", "svc-c"}

// testConfig is DefaultConfig plus a canary: svc-a's instance 3 is v2 and
// "/api/" goes 80/20 to subsets v1 and v2 with a prefix rewrite.
func testConfig() *MeshConfig {
	cfg := DefaultConfig(testServices)
	a := &cfg.Services[0]
	a.Subsets = []Subset{{"v1", "v1"}, {"v2", "v2"}}
	a.Routes = []RouteSpec{{Name: "api", Match: Match{Prefix: "/api/"}, Split: []Split{{"v1", 80}, {"v2", 20}},
		Timeout: time.Second, Retry: a.DefaultRetry, PrefixRewrite: "/api/v1/"}}
	for i := range cfg.Services {
		cfg.Services[i].DefaultRetry.RetryOn = append(cfg.Services[i].DefaultRetry.RetryOn, RetryOn5xx)
		cfg.Services[i].Policy.RetryBudget = &RetryBudget{Percent: 20, MinConcurrency: 1}
	}
	return cfg
}

func newTestMesh(t testing.TB, o meshOpts) *testMesh {
	if o.instances == 0 {
		o.instances = 3
	}
	if o.clients == 0 {
		o.clients = 3
	}
	if o.rate == 0 {
		o.rate = 50
	}
	if o.duration == 0 {
		o.duration = 20 * time.Second
	}
	w := sim.NewWorld(sim.Config{Seed: o.seed, Trace: traceTo})
	tm := &testMesh{w: w, rec: NewRecorder(w), o: o, crashed: map[sim.NodeID][]time.Duration{}, drained: map[sim.NodeID]time.Duration{}}
	topo := Topology{Clients: o.clients, Intruders: o.intruders, Pilots: o.pilots, Observer: tm.rec, Config: testConfig(),
		App:  AppConfig{Workers: 8, Queue: 16, ServiceTime: Dist{Min: 2 * time.Millisecond, Max: 20 * time.Millisecond, TailPPM: 10_000, TailMax: 200 * time.Millisecond}, ReadyAfter: 300 * time.Millisecond},
		Load: LoadConfig{Rate: o.rate, Paths: []string{"/", "/api/orders", "/api/users"}, IdempotentPPM: 700_000, Users: 50, Start: time.Second, Stop: o.duration, Timeout: 5 * time.Second}}
	for _, s := range testServices {
		st := ServiceTopo{Name: s, Instances: o.instances}
		if s == "svc-a" {
			st.Versions = []string{"v1", "v1", "v2"}
		}
		topo.Services = append(topo.Services, st)
	}
	if o.registry {
		topo.Registry = &registry.Config{Metas: []sim.NodeID{"meta-1", "meta-2", "meta-3"}, Data: []sim.NodeID{"data-1", "data-2"},
			Sessions: []sim.NodeID{"session-1", "session-2"}, Slots: 16}
	}
	if o.topo != nil {
		o.topo(&topo)
	}
	tm.topo = topo
	tm.m = Build(w, topo)
	for _, b := range o.bugs {
		require.NoError(t, w.Inject(sim.ArmFailpoint{Failpoint: b}))
	}
	tm.healAt = o.duration - 4*time.Second
	tm.endAt = o.duration + 6*time.Second
	if o.chaos != nil {
		o.chaos(tm)
	}
	return tm
}

// run runs the world to the end of the load plus a quiet period.
func (tm *testMesh) run() {
	tm.w.Run(sim.Limits{Until: tm.endAt})
}

// inject applies a fault at virtual time at.
func (tm *testMesh) inject(at time.Duration, f sim.Fault) {
	tm.w.At(at, func() {
		var nodes []sim.NodeID
		switch op := f.Op.(type) {
		case sim.Crash:
			nodes = op.Nodes
		case sim.Restart:
			nodes = op.Nodes
		}
		for _, n := range nodes {
			tm.crashed[n] = append(tm.crashed[n], at)
		}
		if err := tm.w.Inject(f.Op); err != nil {
			panic(err)
		}
	})
}

func (tm *testMesh) drain(at time.Duration, id sim.NodeID) {
	tm.w.At(at, func() {
		if _, ok := tm.drained[id]; !ok {
			tm.drained[id] = at
		}
		tm.m.Drain(id)
	})
}

// chaos is the default nemesis, drawn from the seed: an instance crashes
// and restarts, one drains (and is replaced by a restart later), a
// pilot restarts, grey failures (slow or failing instances, invisible to
// health checks) come and go, and the configuration changes (a policy
// tweak, and a bad destination rule fixed two seconds later while a new
// subset and route appear).
func chaos(tm *testMesh) {
	r := tm.w.Stream("nemesis")
	pick := func() sim.NodeID { return tm.m.AppIDs[r.IntN(len(tm.m.AppIDs))] }
	at := func(lo, hi time.Duration) time.Duration { return lo + time.Duration(r.Int64N(int64(hi-lo))) }
	// Grey failure: an instance answers errors, or two of one service do.
	grey := pick()
	greyAt := at(2*time.Second, 6*time.Second)
	nodes := []sim.NodeID{grey}
	if r.IntN(2) == 0 {
		svc := tm.m.ServiceOf(grey)
		for _, id := range tm.m.Apps[svc] {
			if id != grey && len(nodes) < 2 {
				nodes = append(nodes, id)
			}
		}
	}
	tm.inject(greyAt, sim.Fault{Op: sim.ArmFailpoint{Failpoint: FailAppError, Nodes: nodes, ProbabilityPPM: 600_000}})
	tm.inject(greyAt+3*time.Second, sim.Fault{Op: sim.DisarmFailpoint{Failpoint: FailAppError}})
	// A slow instance that then crashes with requests in flight, and
	// restarts (a new incarnation: a new identity).
	slow := pick()
	if r.IntN(3) == 0 {
		slow = "svc-a-3" // the single canary
	}
	slowAt := at(3*time.Second, 8*time.Second)
	tm.inject(slowAt, sim.Fault{Op: sim.ArmFailpoint{Failpoint: FailAppSlow, Nodes: []sim.NodeID{slow}, Value: "250"}})
	tm.inject(slowAt+time.Second+time.Millisecond, sim.Fault{Op: sim.DisarmFailpoint{Failpoint: FailAppSlow}})
	if r.IntN(2) == 0 {
		// Restarted at once (its address back before callers notice).
		tm.inject(slowAt+time.Second, sim.Fault{Op: sim.Restart{Nodes: []sim.NodeID{slow}}})
	} else {
		tm.inject(slowAt+time.Second, sim.Fault{Op: sim.Crash{Nodes: []sim.NodeID{slow}}})
		tm.inject(slowAt+time.Second+at(200*time.Millisecond, 2*time.Second), sim.Fault{Op: sim.Restart{Nodes: []sim.NodeID{slow}}})
	}
	// A drain, sometimes of the single canary; the drained pod is restarted
	// (redeployed) later.
	drained := pick()
	if r.IntN(2) == 0 {
		drained = "svc-a-3"
	}
	if drained != slow {
		dAt := at(4*time.Second, 9*time.Second)
		tm.drain(dAt, drained)
		if drained == "svc-a-3" || r.IntN(3) == 0 {
			tm.inject(dAt+5*time.Second, sim.Fault{Op: sim.Restart{Nodes: []sim.NodeID{drained}}})
		} else {
			// Scaled in: stopped for good once drained.
			tm.inject(dAt+4*time.Second, sim.Fault{Op: sim.Crash{Nodes: []sim.NodeID{drained}}})
		}
	}
	// A pilot restarts: its sidecars move to the other one and resync.
	tm.inject(at(5*time.Second, 12*time.Second), sim.Fault{Op: sim.Restart{Nodes: []sim.NodeID{tm.m.Pilots[r.IntN(len(tm.m.Pilots))]}}})
	// Configuration changes: policy tweaks (one late, after the endpoint
	// churn), and a bad destination rule.
	tweak := func() {
		cfg := cloneConfig(tm.m.Config())
		for i := range cfg.Services {
			o := *cfg.Services[i].Policy.Outlier
			o.BaseEjection += 500 * time.Millisecond
			cfg.Services[i].Policy.Outlier = &o
		}
		tm.m.SetConfig(cfg)
	}
	tm.w.At(at(6*time.Second, 9*time.Second), tweak)
	tm.w.At(tm.healAt-time.Second, tweak)
	badAt := at(tm.healAt-3*time.Second, tm.healAt-2*time.Second)
	tm.w.At(badAt, func() {
		cfg := cloneConfig(tm.m.Config())
		b := cfg.Service("svc-b")
		b.Subsets = append(slices.Clone(b.Subsets), Subset{"canary", "v1"})
		b.Routes = append(slices.Clone(b.Routes), RouteSpec{Name: "canary", Match: Match{Prefix: "/api/"}, Split: []Split{{"", 50}, {"canary", 50}}, Timeout: time.Second, Retry: b.DefaultRetry})
		c := cfg.Service("svc-c")
		o := *c.Policy.Outlier
		o.MaxEjectionPercent = 150 // invalid: the sidecars reject the clusters
		c.Policy.Outlier = &o
		tm.m.SetConfig(cfg)
	})
	tm.w.At(badAt+2*time.Second, func() {
		cfg := cloneConfig(tm.m.Config())
		c := cfg.Service("svc-c")
		o := *c.Policy.Outlier
		o.MaxEjectionPercent = 50
		c.Policy.Outlier = &o
		tm.m.SetConfig(cfg)
	})
}

// cloneConfig copies the service list (specs are replaced, never mutated).
func cloneConfig(c *MeshConfig) *MeshConfig {
	return &MeshConfig{Services: slices.Clone(c.Services)}
}

// runTwice runs a seed twice and requires the same fingerprint.
func runTwice(t *testing.T, o meshOpts) *testMesh {
	t.Helper()
	a := newTestMesh(t, o)
	a.run()
	b := newTestMesh(t, o)
	b.run()
	require.Equal(t, a.w.Fingerprint(), b.w.Fingerprint(), "seed %d: two runs differ", o.seed)
	require.Empty(t, a.w.Findings())
	return a
}

func (tm *testMesh) String() string {
	return fmt.Sprintf("seed %d bugs %v", tm.o.seed, tm.o.bugs)
}
