package registry

// registry-multidc: two data centres, dc2 syncing dc1's data
// (nodes/registry/multidc.go). Publishers live in dc1, subscribers of dc1's
// datums in dc2; the nemesis cuts and clogs the inter-DC link (either
// direction or both) and restarts data servers on either side; after the
// heal every dc2 subscriber must hold dc1's publishers within a bound.

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/checkers"
	regcheck "github.com/sofasim/sofasim/checkers/registry"
	regnode "github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

// The data centres: dc2 syncs dc1.
const (
	mdLocal  = "dc1"
	mdRemote = "dc2"
)

// MDOp is a multi-DC workload operation: a publish or unpublish of Reg in
// Service in the client's own data centre, a dc2 client's subscription to
// dc1's datum of Service (DC "dc2": to its own data centre's), or the
// console's switch drill (multidc_drills.go), set back after For.
type MDOp struct {
	scenarios.OpTiming
	Kind    string       `json:"kind"`
	Service string       `json:"service"`
	Reg     string       `json:"reg"`
	DC      string       `json:"dc,omitempty"`
	Drill   string       `json:"drill,omitempty"`
	For     sim.Duration `json:"for,omitempty"`
}

// MDOpKinds are the multi-DC operation kinds.
var MDOpKinds = append([]string{OpPublish, OpUnpublish, OpSubscribe}, mdDrillKinds()...)

func mdDrillKinds() []string {
	var out []string
	for _, d := range regcheck.MultiDCDrills {
		out = append(out, OpDrill+"/"+d)
	}
	return out
}

// MDParams are registry-multidc's parameters.
var MDParams = []scenarios.Param{
	scenarios.Int("data", 2, 1, 100, "data servers in each data centre"),
	scenarios.Int("sessions", 2, 1, 1000, "session servers in each data centre"),
	scenarios.Int("publishers", 3, 1, 1000, "publishing clients in dc1"),
	scenarios.Int("subscribers", 3, 1, 1000, "clients in dc2 subscribing to dc1's datums"),
	scenarios.Int("services", 3, 1, 1000, "dataInfoIds"),
	scenarios.Int("ops", 30, 0, 100000, "most publishes and unpublishes in a plan (beyond each publisher's first)"),
	scenarios.Int("slots", 16, 1, 65536, "slots in each slot table"),
	scenarios.Dur("duration", 30*time.Second, "safety phase (virtual time)"),
	scenarios.Dur("liveness", 60*time.Second, "liveness bound after faults heal"),
	scenarios.Dur("propagation-bound", 1500*time.Millisecond, "away from faults (3 s before a change to 3 s after its deadline), a dc1 change reaches every dc2 subscriber already pushed the datum within this (announced at once, fetched within the 200 ms watch), plus under push=pipeline the merge maximum and the push debounce"),
	scenarios.Dur("converge-bound", 20*time.Second, "after its last change and the last fault, dc1's datum reaches every dc2 subscriber within this (a sync in flight at the heal times out after 3 s, the next whole-slot sync follows 6 s after the last, a restarted data server re-learns both tables first)"),
	scenarios.Choice("election", regnode.ElectionDB, []string{regnode.ElectionDB, regnode.ElectionRaft}, "how each data centre elects its meta leader"),
	scenarios.Choice("push", regnode.PushPipeline, []string{regnode.PushPipeline, regnode.PushImmediate}, "the sessions' pushes: SOFARegistry's pipeline or at once (the model before issue 14)"),
	livenessParam, heartbeatParam,
	scenarios.Dur("switch-reload", 2*time.Second, "data and session servers read the multi-DC switches this often (SOFARegistry's is 60 s, the nodes' default, which a 30 s run would never see act)"),
}

func init() {
	scenarios.Register(scenarios.Define(scenarios.Spec[MDOp, *regcheck.History]{
		Name:        "registry-multidc",
		Description: "two registry data centres, dc2 syncing dc1's published data slot by slot; the inter-DC link is cut (one way or both) and clogged, and data servers restart on either side: dc2's subscribers must converge to dc1's data after the heal",
		Params:      MDParams,
		Bugs:        regnode.MultiDCBugs,
		MustReach:   []string{"registry/multidc-slot-synced", "registry/multidc-sync-timeout", "registry/multidc-push-held"},
		OpKinds:     MDOpKinds,
		Kind: func(op MDOp) string {
			if op.Kind == OpDrill {
				return OpDrill + "/" + op.Drill
			}
			return op.Kind
		},
		Nodes: func(p scenarios.Values) []sim.NodeID {
			dc1, dc2 := mdTopology(p)
			return append(append(append(members(dc1), members(dc2)...), scenarios.ClientIDs(p.Int("publishers")+p.Int("subscribers"))...), mdConsoleID)
		},
		Clients: func(p scenarios.Values) int { return p.Int("publishers") + p.Int("subscribers") },
		Draw: func(t *rapid.T, p scenarios.Values) scenarios.Draft[MDOp] {
			d := p.Duration("duration")
			dc1, dc2 := mdTopology(p)
			ops := drawMDOps(t, p.Int("publishers"), p.Int("subscribers"), p.Int("services"), p.Int("ops"), d)
			faults := drawMDFaults(t, dc1, dc2, d)
			ops = append(ops, drawMDDrills(t, p.Int("publishers"), p.Int("services"), d, mdLag(p))...) // drawn last: the draws before keep their values
			slices.SortStableFunc(ops, func(a, b MDOp) int { return int(a.At - b.At) })
			return scenarios.Draft[MDOp]{
				Duration: sim.Duration(d), Liveness: sim.Duration(p.Duration("liveness")),
				Ops: ops, Faults: faults,
			}
		},
		Build: func(w *sim.World, plan *scenarios.Plan, p scenarios.Values, ops []MDOp) (scenarios.System[*regcheck.History], error) {
			return buildMD(w, plan, p, ops), nil
		},
	}))
}

func mdTopology(p scenarios.Values) (dc1, dc2 regnode.Config) {
	dc := func(prefix, name string) regnode.Config {
		ids := func(role string, n int) []sim.NodeID {
			out := make([]sim.NodeID, n)
			for i := range out {
				out[i] = sim.NodeID(fmt.Sprintf("%s%s-%d", prefix, role, i+1))
			}
			return out
		}
		c := regnode.Config{Metas: ids("meta", 3), Data: ids("data", p.Int("data")), Sessions: ids("session", p.Int("sessions")), Slots: p.Int("slots"),
			Election: p.String("election"), Lease: regnode.RealMetaLease, Push: regnode.PushConfig{Mode: p.String("push")}, MultiDC: regnode.MultiDCConfig{DataCenter: name, SwitchReload: p.Duration("switch-reload")},
			ClientLiveness: clientLiveness(p)}
		if c.Election == regnode.ElectionDB {
			c.LockDB = sim.NodeID(prefix + "lockdb")
		}
		return c
	}
	dc1, dc2 = dc("", mdLocal), dc(mdRemote+"-", mdRemote)
	dc2.MultiDC.Remotes = []regnode.RemoteDC{{Name: mdLocal, Metas: dc1.Metas}}
	return dc1, dc2
}

// drawMDOps: each publisher publishes one registration at the start, then
// updates, unpublishes and republishes drawn over the run; each subscriber
// subscribes to every service, some late. dc2's clients also publish the
// same dataInfoIds in dc2 and subscribe to dc2's datums too, so a session
// and a client hold both data centres' datum of one dataInfoId (their
// versions come from different servers and must be kept apart); drawn
// last, so the other draws stay.
func drawMDOps(t *rapid.T, pubs, subs, services, n int, d time.Duration) []MDOp {
	svc := func(i int) string { return Service(i % services) }
	var ops []MDOp
	for c := 0; c < pubs; c++ {
		ops = append(ops, MDOp{OpTiming: scenarios.OpTiming{Client: c, At: sim.Duration(time.Duration(c) * 100 * time.Millisecond)}, Kind: OpPublish, Service: svc(c), Reg: "p0"})
	}
	for c := 0; c < subs; c++ {
		late := rapid.IntRange(0, int(d/time.Second)-1).Draw(t, fmt.Sprintf("sub-%d-at", c))
		if rapid.IntRange(0, 2).Draw(t, fmt.Sprintf("sub-%d-late", c)) > 0 {
			late = 0 // most subscribe at the start
		}
		for s := 0; s < services; s++ {
			at := sim.Duration(time.Duration(late)*time.Second + time.Duration(s)*10*time.Millisecond)
			ops = append(ops, MDOp{OpTiming: scenarios.OpTiming{Client: pubs + c, At: at}, Kind: OpSubscribe, Service: svc(s)},
				MDOp{OpTiming: scenarios.OpTiming{Client: pubs + c, At: at + sim.Duration(time.Millisecond)}, Kind: OpSubscribe, Service: svc(s), DC: mdRemote})
		}
		ops = append(ops, MDOp{OpTiming: scenarios.OpTiming{Client: pubs + c, At: sim.Duration(time.Duration(c) * 100 * time.Millisecond)}, Kind: OpPublish, Service: svc(c), Reg: "l0"})
	}
	// Counts and times are spread (rapid's ranges lean to their minimum):
	// changes bunched in the first second, before the first remote sync,
	// would leave the steady cross-DC path unjudged.
	count := int(scenarios.Spread(t, int64(n/3), int64(n), "changes"))
	for i := 0; i < count; i++ {
		c := rapid.IntRange(0, pubs-1).Draw(t, "change-client")
		kind := rapid.SampledFrom([]string{OpPublish, OpPublish, OpUnpublish}).Draw(t, "change-kind")
		at := time.Duration(scenarios.SpreadMs(t, 500, int64(d/time.Millisecond), "change-at"))
		ops = append(ops, MDOp{OpTiming: scenarios.OpTiming{Client: c, At: sim.Duration(at)}, Kind: kind,
			Service: svc(rapid.IntRange(0, services-1).Draw(t, "change-service")), Reg: fmt.Sprintf("p%d", rapid.IntRange(0, 1).Draw(t, "change-reg"))})
	}
	local := int(scenarios.Spread(t, int64(n/6), int64(n/2), "local-changes"))
	for i := 0; i < local; i++ {
		c := rapid.IntRange(0, subs-1).Draw(t, "local-client")
		kind := rapid.SampledFrom([]string{OpPublish, OpPublish, OpUnpublish}).Draw(t, "local-kind")
		at := scenarios.SpreadMs(t, 500, int64(d/time.Millisecond), "local-at")
		ops = append(ops, MDOp{OpTiming: scenarios.OpTiming{Client: pubs + c, At: at}, Kind: kind, Service: svc(c), Reg: "l0"})
	}
	slices.SortStableFunc(ops, func(a, b MDOp) int { return int(a.At - b.At) })
	return ops
}

// drawMDFaults: one to three episodes: the inter-DC link cut (dc1 -> dc2,
// dc2 -> dc1 or both) until a heal, clogged for a while, or a data server
// of either data centre crashed and restarted.
func drawMDFaults(t *rapid.T, dc1, dc2 regnode.Config, d time.Duration) []scenarios.Step {
	a, b := members(dc1), members(dc2)
	step := func(at time.Duration, op sim.FaultOp) scenarios.Step {
		return scenarios.Step{Fault: sim.Fault{At: sim.Duration(at), Op: op}}
	}
	var out []scenarios.Step
	n := rapid.IntRange(1, 3).Draw(t, "episodes")
	for i := 0; i < n; i++ {
		at := time.Duration(rapid.IntRange(2, int(d/time.Second)-2).Draw(t, "episode-at")) * time.Second
		length := time.Duration(rapid.IntRange(1, 20).Draw(t, "episode-seconds")) * time.Second
		end := min(at+length, d-time.Second)
		switch rapid.SampledFrom([]string{"cut", "cut", "clog", "restart"}).Draw(t, "episode-kind") {
		case "cut":
			var cuts []sim.Cut
			switch rapid.IntRange(0, 2).Draw(t, "cut-direction") {
			case 0:
				cuts = []sim.Cut{{From: a, To: b}, {From: b, To: a}}
			case 1:
				cuts = []sim.Cut{{From: a, To: b}}
			default:
				cuts = []sim.Cut{{From: b, To: a}}
			}
			out = append(out, step(at, sim.Partition{Cuts: cuts}), step(end, sim.Heal{}))
		case "clog":
			out = append(out, step(at, sim.Clog{Cuts: []sim.Cut{{From: a, To: b}, {From: b, To: a}}, For: sim.Duration(length)}))
		case "restart":
			node := rapid.SampledFrom(append(append([]sim.NodeID(nil), dc1.Data...), dc2.Data...)).Draw(t, "restart-node")
			out = append(out, step(at, sim.Crash{Nodes: []sim.NodeID{node}}), step(end, sim.Restart{Nodes: []sim.NodeID{node}}))
		}
	}
	slices.SortStableFunc(out, func(x, y scenarios.Step) int { return int(x.At - y.At) })
	return out
}

// mdSystem is the two data centres and their clients.
type mdSystem struct {
	w           *sim.World
	dc1, dc2    regnode.Config
	rec         *regcheck.History
	clients     []*mdClient
	bound       int64
	propagation int64
	lag         int64 // a switch's lag: reload period + a provide poll + 1 s
	console     *mdConsole
	evs         int // client events, for Done
	convAt      int
	conv        bool
	quiet       time.Duration
}

func buildMD(w *sim.World, plan *scenarios.Plan, p scenarios.Values, ops []MDOp) *mdSystem {
	dc1, dc2 := mdTopology(p)
	s := &mdSystem{w: w, dc1: dc1, dc2: dc2, rec: &regcheck.History{}, bound: int64(p.Duration("converge-bound")), convAt: -1,
		propagation: int64(p.Duration("propagation-bound") + dc2.Push.PushBound()), lag: int64(mdLag(p))}
	regnode.AddServers(w, dc1)
	regnode.AddServers(w, dc2)
	pubs := p.Int("publishers")
	ids := scenarios.ClientIDs(pubs + p.Int("subscribers"))
	var work, drills []MDOp
	for _, op := range ops {
		if op.Kind == OpDrill {
			drills = append(drills, op)
		} else {
			work = append(work, op)
		}
	}
	addMDConsole(w, s, drills)
	for i, own := range scenarios.SplitOps(work, len(ids)) {
		c := &mdClient{idx: i, sys: s, sessions: dc1.Sessions, liveness: dc1.ClientLiveness, dc: mdLocal, follows: map[string]string{}, followDC: map[string]string{}, live: map[string]string{}}
		if i >= pubs {
			c.sessions, c.dc = dc2.Sessions, mdRemote
		}
		c.driver = &scenarios.Driver[MDOp]{Ops: own, Now: w.Now, Exec: c.exec}
		s.clients = append(s.clients, c)
		w.AddNode(ids[i], func() sim.Node { return c })
	}
	heal := time.Duration(plan.Duration)
	w.At(heal, func() { s.rec.Record(regcheck.Event{Kind: regcheck.Heal, T: int64(heal), Client: -1}) })
	return s
}

// mdLag is a switch's lag: the reload period + a provide poll + 1 s.
func mdLag(p scenarios.Values) time.Duration { return p.Duration("switch-reload") + 2*time.Second }

func (s *mdSystem) Members() []sim.NodeID { return append(members(s.dc1), members(s.dc2)...) }
func (s *mdSystem) Leader() sim.NodeID    { return "" }

// Done: every operation ran and every dc2 subscriber has held dc1's data
// for 2 s.
func (s *mdSystem) Done() bool {
	if !s.console.driver.Done() {
		return false
	}
	for _, c := range s.clients {
		if !c.driver.Done() {
			return false
		}
	}
	if s.convAt != s.evs {
		s.convAt, s.conv = s.evs, regcheck.MultiDCConverged(s.rec.Events)
		s.quiet = s.w.Now()
	}
	return s.conv && s.w.Now()-s.quiet >= 2*time.Second
}

// History adds the faults' disturbances and an end marker.
func (s *mdSystem) History() *regcheck.History {
	h := &regcheck.History{Events: append([]regcheck.Event(nil), s.rec.Events...)}
	for _, p := range sim.Periods(s.w.Faults(), s.w.NodeIDs(), s.w.Now()) {
		if strings.HasPrefix(p.Failpoint, "bug/") { // a planted bug is the system under test, not a fault
			continue
		}
		h.Record(regcheck.Event{Kind: regcheck.Disturbed, T: int64(p.Start), Until: int64(p.End), Client: -1, Node: string(p.Node), Op: string(p.Kind)})
	}
	h.Record(regcheck.Event{Kind: regcheck.End, T: int64(s.w.Now()), Client: -1})
	return h
}

func (s *mdSystem) Checkers(scenarios.Bounds) []checkers.CheckerOf[*regcheck.History] {
	return []checkers.CheckerOf[*regcheck.History]{regcheck.MultiDCConverge{Bound: s.bound, Lag: s.lag},
		regcheck.MultiDCSwitches{Lag: s.lag, Settle: int64(mdSettle)},
		regcheck.MultiDCPropagation{Bound: s.propagation, Settle: int64(3 * time.Second), Lag: s.lag}}
}

// mdClient is a workload client of one data centre.
type mdClient struct {
	libHost
	idx      int
	sys      *mdSystem
	sessions []sim.NodeID
	liveness regnode.Liveness
	driver   *scenarios.Driver[MDOp]
	data     int
	dc       string            // the client's data centre
	follows  map[string]string // subscriber registerId -> the dataInfoId it follows
	followDC map[string]string // subscriber registerId -> the data centre whose datum it follows
	live     map[string]string // publisher registerId -> its dataInfoId
}

func (c *mdClient) record(ev regcheck.Event) {
	ev.T, ev.Client = int64(c.sys.w.Now()), c.idx
	c.sys.rec.Record(ev)
	c.sys.evs++
}

func (c *mdClient) Start(env *sim.Env) {
	c.env, c.pump = env, func(env *sim.Env) { c.driver.Pump(env) }
	c.client = regnode.NewClient(env, regnode.ClientConfig{Sessions: c.sessions, Liveness: c.liveness,
		OnPush: func(reg string, d *regnode.Datum) {
			ev := pushEvent(reg, c.follows[reg], d)
			ev.Node = c.followDC[reg]
			c.record(ev)
		}})
	c.driver.Start(env)
}

func (c *mdClient) exec(op MDOp, done func()) {
	defer done()
	switch op.Kind {
	case OpSubscribe:
		reg, id, dc := fmt.Sprintf("c%d-%s", c.idx, op.Service), regnode.RemoteID(mdLocal, op.Service), mdLocal
		if op.DC == mdRemote {
			reg, id, dc = reg+"-"+mdRemote, op.Service, mdRemote // dc2's own datum
		}
		c.follows[reg], c.followDC[reg] = op.Service, dc
		c.client.Subscribe(id, reg)
		c.record(regcheck.Event{Kind: regcheck.Subscribe, DataID: op.Service, RegID: reg, Node: dc})
	case OpPublish:
		c.data++
		reg, data := fmt.Sprintf("c%d-%s", c.idx, op.Reg), fmt.Sprintf("c%d-d%d", c.idx, c.data)
		if cur, ok := c.live[reg]; ok && cur != op.Service {
			return // a registration keeps its dataInfoId
		}
		c.live[reg] = op.Service
		v := c.client.Publish(op.Service, reg, data)
		c.record(regcheck.Event{Kind: regcheck.Publish, DataID: op.Service, RegID: reg, Data: data, Version: v, Node: c.dc})
	case OpUnpublish:
		reg := fmt.Sprintf("c%d-%s", c.idx, op.Reg)
		if cur, ok := c.live[reg]; !ok || cur != op.Service {
			return
		}
		delete(c.live, reg)
		c.client.Unpublish(reg)
		c.record(regcheck.Event{Kind: regcheck.Unpublish, DataID: op.Service, RegID: reg, Node: c.dc})
	}
}
