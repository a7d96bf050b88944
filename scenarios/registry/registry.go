// Package registry holds the service registry scenarios: meta, data and
// session servers (nodes/registry) and many clients publishing and
// subscribing across many services, their workload, their own nemesis
// families and the build of the system; checkers/registry judges them.
// Importing the package registers the scenarios.
package registry

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/checkers"
	regcheck "github.com/sofasim/sofasim/checkers/registry"
	regnode "github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

func init() {
	for _, v := range []struct {
		name, desc string
		families   []string
		servers    []string // nemesis targets: "meta", "data", "session"
		episodes   int
	}{
		{"registry-basic", "service registry, publish/subscribe workload; pushes fail now and then or at a steady rate, and clients crash",
			[]string{scenarios.FamilyFailpoint, familyPushFlaky, familyClientCrash}, nil, 4},
		{"registry-session-failover", "service registry under session server crashes, pauses, stalls of seconds (clients miss their heartbeats and move) and client-session cuts: clients reconnect and re-register",
			[]string{scenarios.FamilyCrash, scenarios.FamilyPause, familySessionStall, familyClientCut, familyClientCrash, familyMemberOutage}, []string{"session"}, 6},
		{"registry-data-failover", "service registry under data server crashes, pauses, partitions, clock jumps and clocks stepped minutes ahead before a failover: slots migrate to new leaders",
			[]string{scenarios.FamilyCrash, scenarios.FamilyPause, scenarios.FamilyPartition, scenarios.FamilyClock, familyClockStepFailover, familyMemberOutage}, []string{"data"}, 6},
		{"registry-meta-failover", "service registry under meta server and lock database crashes, partitions, pauses and clock jumps, and a meta leader cut off or stalled past the 20 s lock: the lock is taken over and the new leader re-learns the slot table",
			[]string{scenarios.FamilyCrash, scenarios.FamilyPause, scenarios.FamilyPartition, scenarios.FamilyClock, familyMetaOutage}, []string{"meta"}, 6},
		{"registry-chaos", "service registry under everything: crashes, pauses, partitions, clock faults, loss, push failures, client crashes and cuts",
			[]string{scenarios.FamilyCrash, scenarios.FamilyPause, scenarios.FamilyPartition, scenarios.FamilyClock, scenarios.FamilyNet, scenarios.FamilyFailpoint, familyPushFlaky, familySessionStall, familyClockStepFailover, familyClientCrash, familyClientCut, familyMetaOutage, familyMemberOutage},
			[]string{"meta", "data", "session"}, 8},
	} {
		scenarios.Register(scenario(v.name, v.desc, v.families, v.servers, v.episodes))
	}
}

// Params are the registry scenarios' parameters.
var Params = []scenarios.Param{
	scenarios.OneOf("metas", 3, []int{3, 5}, "meta servers"),
	scenarios.Int("data", 3, 1, 100, "data servers"),
	scenarios.Int("sessions", 3, 1, 1000, "session servers"),
	scenarios.Int("clients", 12, 1, 100000, "clients"),
	scenarios.Int("services", 6, 1, 100000, "dataInfoIds the clients use"),
	scenarios.Int("ops", 120, 0, 1000000, "most workload operations in a plan (beyond each client's first subscribe and publish)"),
	scenarios.Int("slots", 256, 1, 65536, "slots in the slot table"),
	scenarios.Dur("duration", 30*time.Second, "safety phase (virtual time)"),
	scenarios.Dur("liveness", 90*time.Second, "liveness bound after faults heal (a meta leader lost at the heal is replaced after the 20 s lock and warms up 30 s before it moves slots)"),
	scenarios.Dur("propagation-bound", 1*time.Second, "away from faults, a change reaches every subscriber within this (under push=pipeline at least the 3 s merge maximum + 500 ms debounce + 1 s)"),
	scenarios.Dur("failover-bound", 30*time.Second, "away from meta and network faults, a slot of a data server that went down is led again within this (the 20 s meta lease, then the new leaders' migration from every session, which a lost answer holds until the next 6 s sync)"),
	scenarios.Choice("push", regnode.PushPipeline, []string{regnode.PushPipeline, regnode.PushImmediate}, "the session's pushes: SOFARegistry's pipeline (changes merged 1-3 s, 500 ms debounce, 3 retries then the version scan, breaker) or at once with retries forever (the model before issue 14)"),
	scenarios.Choice("election", regnode.ElectionDB, []string{regnode.ElectionDB, regnode.ElectionRaft}, "how the meta leader is elected: a lock row in a database (SOFARegistry v6; the table lives in the leader's memory) or raft among the metas (the table in their log)"),
	scenarios.Choice("version", regnode.VersionRepair, []string{regnode.VersionRepair, regnode.VersionNextID}, "how a data server numbers datum versions: max(last+1, clock, highest a session reported + 1) (repair), or SOFARegistry's nextId (the clock << 15 | sequence, refused while the clock is behind the last id; a leader whose clock lags stays below what subscribers hold)"),
	livenessParam, heartbeatParam,
	scenarios.Dur("follower-sync", 180*time.Second, "a slot's follower compares its datums' versions with the leader's this often and is sent what differs (SOFARegistry's 180 s; registry-data-failover's default is 5 s, as a follower left behind by a failover is repaired only by it, which a 30-90 s run at 180 s never sees)"),
}

// paramsFor: Params with the defaults scenario name changes.
func paramsFor(name string) []scenarios.Param {
	out := slices.Clone(Params)
	for i := range out {
		if out[i].Name == "follower-sync" && name == "registry-data-failover" {
			out[i].Default = (5 * time.Second).String()
		}
		if out[i].Name == "heartbeat-interval" && (name == "registry-session-failover" || name == "registry-chaos") {
			out[i].Default = compressedHeartbeat.String()
		}
	}
	return out
}

func scenario(name, desc string, families, targets []string, episodes int) *scenarios.Scenario {
	return scenarios.Define(scenarios.Spec[Op, *regcheck.History]{
		Name:        name,
		Description: desc,
		MustReach:   mustReach[name],
		Params:      paramsFor(name),
		Bugs:        regnode.Bugs,
		Failpoints:  []string{regnode.FailPush},
		OpKinds:     OpKinds,
		Kind:        func(op Op) string { return op.Kind },
		Nodes: func(p scenarios.Values) []sim.NodeID {
			return append(members(topology(p)), scenarios.ClientIDs(p.Int("clients"))...)
		},
		Clients: func(p scenarios.Values) int { return p.Int("clients") },
		Draw: func(t *rapid.T, p scenarios.Values) scenarios.Draft[Op] {
			d := p.Duration("duration")
			topo := topology(p)
			var targetted []sim.NodeID
			for _, g := range targets {
				switch g {
				case "meta":
					targetted = append(targetted, topo.Metas...)
					if topo.Election == regnode.ElectionDB {
						targetted = append(targetted, topo.LockDB) // it crashes, stalls and skews too
					}
				case "data":
					targetted = append(targetted, topo.Data...)
				case "session":
					targetted = append(targetted, topo.Sessions...)
				}
			}
			clients := scenarios.ClientIDs(p.Int("clients"))
			ops := drawOps(t, p.Int("clients"), p.Int("services"), p.Int("ops"), d)
			faults := drawFaults(t, families, targetted, topo, clients, d, episodes)
			ops = append(ops, failoverOps(t, ops, faults, topo, p.Int("clients"), p.Int("services"), d-3*time.Second)...)
			if name == "registry-meta-failover" { // drawn last: the draws before keep their values
				faults = append(faults, memberRestartInOutage(t, faults, topo, d)...)
				sort.SliceStable(faults, func(i, j int) bool { return faults[i].At < faults[j].At })
			}
			sort.SliceStable(ops, func(i, j int) bool { return ops[i].At < ops[j].At })
			return scenarios.Draft[Op]{
				Duration: sim.Duration(d),
				Liveness: sim.Duration(p.Duration("liveness")),
				Ops:      ops,
				Faults:   faults,
			}
		},
		Build: func(w *sim.World, plan *scenarios.Plan, p scenarios.Values, ops []Op) (scenarios.System[*regcheck.History], error) {
			sys := build(w, plan, p, ops, false)
			sys.setBounds(p)
			return sys, nil
		},
	})
}

// setBounds reads the time bounds; under push=pipeline the propagation
// bound is at least the merge maximum + the push debounce + 1 s.
func (s *system) setBounds(p scenarios.Values) {
	s.propagation, s.failover = int64(p.Duration("propagation-bound")), int64(p.Duration("failover-bound"))
	if b := s.cfg.Push.PushBound(); b > 0 {
		s.propagation = max(s.propagation, int64(b+time.Second))
	}
}

func topology(p scenarios.Values) regnode.Config {
	ids := func(prefix string, n int) []sim.NodeID {
		out := make([]sim.NodeID, n)
		for i := range out {
			out[i] = sim.NodeID(fmt.Sprintf("%s-%d", prefix, i+1))
		}
		return out
	}
	c := regnode.Config{Metas: ids("meta", p.Int("metas")), Data: ids("data", p.Int("data")), Sessions: ids("session", p.Int("sessions")), Slots: p.Int("slots"),
		Election: p.String("election"), Lease: regnode.RealMetaLease, Push: regnode.PushConfig{Mode: p.String("push")},
		FollowerSyncInterval: p.Duration("follower-sync"), Version: p.String("version"), ClientLiveness: clientLiveness(p)}
	if c.Election == regnode.ElectionDB {
		c.LockDB = lockDBID
	}
	return c
}

// lockDBID is the lock database of election=db.
const lockDBID = sim.NodeID("lockdb")

func members(c regnode.Config) []sim.NodeID {
	out := append(append(append([]sim.NodeID(nil), c.Metas...), c.Data...), c.Sessions...)
	if c.Election == regnode.ElectionDB {
		out = append(out, c.LockDB)
	}
	return out
}

// system is a built registry scenario.
type system struct {
	w       *sim.World
	cfg     regnode.Config
	rec     *regcheck.History
	clients []*client
	dead    map[int]bool
	healAt  time.Duration
	quiet   time.Duration // converged since (0: not)
	lastSl  map[sim.NodeID]string
	lastMt  map[sim.NodeID]string
	pending map[int]regcheck.Event // meta store operations not finished yet
	// clientEvs counts client events and deaths; convAt is the count the
	// converged verdict was computed at (-1: never).
	clientEvs, convAt int
	converged         bool
	lean              *regLean // benchmarks only
	nextOp            int
	// the time bounds of the propagation and failover checkers
	propagation, failover int64
	locks                 lockOps // election=db: the metas' lock statements
	lastMeta              map[sim.NodeID]regcheck.Event
	outageFrom            int64            // election=db: no meta serves since (-1: one does)
	outages               []regcheck.Event // election=db: past election outages
}

// build adds the servers, the meta probe and the clients; lean records
// only what the benchmarks measure.
func build(w *sim.World, plan *scenarios.Plan, p scenarios.Values, ops []Op, lean bool) *system {
	return buildWith(w, plan, p, ops, lean, topology(p))
}

// buildWith is build with the servers' configuration given.
func buildWith(w *sim.World, plan *scenarios.Plan, p scenarios.Values, ops []Op, lean bool, cfg regnode.Config) *system {
	sys := &system{w: w, cfg: cfg, rec: &regcheck.History{}, dead: map[int]bool{},
		healAt: time.Duration(plan.Duration), lastSl: map[sim.NodeID]string{}, lastMt: map[sim.NodeID]string{}, lastMeta: map[sim.NodeID]regcheck.Event{}, outageFrom: 0, pending: map[int]regcheck.Event{}, convAt: -1}
	cfg.Observer = sys
	if lean {
		sys.lean = newRegLean()
	}
	regnode.AddServers(w, cfg)
	if cfg.Election == regnode.ElectionRaft {
		w.AddNode(metaProbeID, func() sim.Node { return &metaProbe{sys: sys} }) // reads the raft meta store
	}
	ids := scenarios.ClientIDs(p.Int("clients"))
	now := w.Now // one method value for all the drivers, not one each
	for i, own := range scenarios.SplitOps(ops, len(ids)) {
		c := &client{idx: i, sys: sys}
		c.driver = scenarios.Driver[Op]{Ops: own, Now: now, Exec: c.exec}
		sys.clients = append(sys.clients, c)
		w.AddNode(ids[i], func() sim.Node { return c })
	}
	index := map[sim.NodeID]int{}
	for i, id := range ids {
		index[id] = i
	}
	for _, s := range plan.Faults {
		crash, ok := s.Op.(sim.Crash)
		if !ok {
			continue
		}
		for _, n := range crash.Nodes {
			if i, ok := index[n]; ok {
				at := time.Duration(s.At)
				w.At(at, func() {
					if !sys.dead[i] {
						sys.dead[i] = true
						sys.rec.Record(regcheck.Event{Kind: regcheck.ClientDead, T: int64(at), Client: i})
						sys.clientEvs++
					}
				})
			}
		}
	}
	w.At(sys.healAt, func() { sys.rec.Record(regcheck.Event{Kind: regcheck.Heal, T: int64(sys.healAt), Client: -1}) })
	end := time.Duration(plan.Duration + plan.Liveness)
	var sample func()
	sample = func() {
		sys.sample()
		if w.Now()+250*time.Millisecond <= end {
			w.After(250*time.Millisecond, sample)
		}
	}
	w.At(250*time.Millisecond, sample)
	return sys
}

// sample records the data servers' slots and the meta servers' view when
// they change.
func (s *system) sample() {
	now := int64(s.w.Now())
	for _, id := range s.cfg.Data {
		d, ok := s.w.Node(id).(*regnode.DataServer)
		if !ok || !s.w.Up(id) {
			if s.lastSl[id] != "down" && s.lastSl[id] != "" {
				s.lastSl[id] = "down"
				s.rec.Record(regcheck.Event{Kind: regcheck.DataDown, T: now, Client: -1, Node: string(id)})
			}
			continue
		}
		st := d.Status()
		key := fmt.Sprint(st.Proc, st.Epoch, st.Leading)
		if s.lastSl[id] == key {
			continue
		}
		s.lastSl[id] = key
		s.rec.Record(regcheck.Event{Kind: regcheck.Slots, T: now, Client: -1, Node: string(id), Inc: st.Proc.Inc, Epoch: st.Epoch, Slots: st.Leading})
	}
	s.sampleMetas(now)
}

func (s *system) Members() []sim.NodeID { return members(s.cfg) }

// Leader is the acting meta leader.
func (s *system) Leader() sim.NodeID {
	for _, id := range s.cfg.Metas {
		if m, ok := s.w.Node(id).(*regnode.MetaServer); ok && s.w.Up(id) && !s.w.Paused(id) && m.Status().MetaLeader {
			return id
		}
	}
	return ""
}

// Done: every client ran its operations and every live subscriber has
// held the expected publishers for 5 seconds.
func (s *system) Done() bool {
	if !s.metaServes() {
		return false
	}
	for _, c := range s.clients {
		if !s.dead[c.idx] && !c.driver.Done() {
			return false
		}
	}
	// Only client events (and deaths) change the verdict: recompute it
	// when there are new ones.
	if s.convAt != s.clientEvs {
		s.convAt, s.converged = s.clientEvs, regcheck.Converged(s.rec.Events)
	}
	if !s.converged {
		s.quiet = 0
		return false
	}
	if s.quiet == 0 {
		s.quiet = s.w.Now()
	}
	return s.w.Now()-s.quiet >= 5*time.Second
}

// History ends with a marker of when recording stopped.
func (s *system) History() *regcheck.History {
	evs := append([]regcheck.Event(nil), s.rec.Events...)
	ids := make([]int, 0, len(s.pending))
	for id := range s.pending {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids { // proposals still open: their outcome is unknown
		ev := s.pending[id]
		ev.T, ev.Unknown = int64(s.w.Now()), true
		evs = append(evs, ev)
	}
	evs = append(evs, s.locks.unanswered()...)
	evs = append(evs, s.disturbed()...)
	evs = append(evs, s.electionOutages()...)
	return &regcheck.History{Events: append(evs, regcheck.Event{Kind: regcheck.End, T: int64(s.w.Now()), Client: -1})}
}

// disturbed lists where and when faults acted, for the time-bounded
// checkers; a client's own crash disturbs nothing but itself (no-ghost
// judges it). A partition that cuts only session servers from data servers
// is labelled regcheck.SessionDataCut: the sessions stay in the meta table,
// so the data servers' session lease must keep their publishers, and
// no-loss does not excuse it (sofa-registry#57).
func (s *system) disturbed() []regcheck.Event {
	sessionData := map[time.Duration]bool{}
	for _, f := range s.w.Faults() {
		if p, ok := f.Fault.Op.(sim.Partition); ok && s.onlySessionData(p) {
			sessionData[f.At] = true
		}
	}
	var out []regcheck.Event
	for _, p := range sim.Periods(s.w.Faults(), s.w.NodeIDs(), s.w.Now()) {
		if strings.HasPrefix(string(p.Node), "client-") && (p.Kind == sim.PeriodDown || p.Kind == sim.PeriodRestart) {
			continue
		}
		if strings.HasPrefix(p.Failpoint, "bug/") { // a planted bug is the system under test, not a fault
			continue
		}
		node := string(p.Node)
		if p.Kind == sim.PeriodPartitioned && sessionData[p.Start] {
			node = regcheck.SessionDataCut
		}
		out = append(out, regcheck.Event{Kind: regcheck.Disturbed, T: int64(p.Start), Until: int64(p.End), Client: -1, Node: node})
	}
	return out
}

// onlySessionData: every cut of p separates session servers from data
// servers and nothing else.
func (s *system) onlySessionData(p sim.Partition) bool {
	if len(p.Cuts) == 0 {
		return false
	}
	for _, c := range p.Cuts {
		for _, side := range [][]sim.NodeID{c.From, c.To} {
			for _, n := range side {
				if !slices.Contains(s.cfg.Sessions, n) && !slices.Contains(s.cfg.Data, n) {
					return false
				}
			}
		}
	}
	return true
}

func (s *system) Checkers(scenarios.Bounds) []checkers.CheckerOf[*regcheck.History] {
	// A dead client's publishers may outlive it by its session's meta
	// lease (when the session died too) and a table change.
	ghost := int64(s.cfg.Lease + 10*time.Second)
	// An open push breaker holds a flaky subscriber's pushes for its
	// silence after the last failure, then the next version scan pushes.
	pushLive := max(int64(30*time.Second), int64(s.cfg.Push.BreakerHold()+10*time.Second))
	// A datum missing a publisher for a moment reaches the subscribers
	// merged with what follows: the gap they see grows by the pipeline's
	// delay, but a repair alone waits only the two debounces.
	gap, alone := int64(time.Second), int64(0)
	if d := int64(s.cfg.Push.PushBound()); d > 0 {
		gap, alone = gap+d, gap+int64(s.cfg.Push.LoneBound())
	}
	// A reconnected client's first push may merge with the change a slot
	// move makes (the arranger balances a round a second, each move a
	// migration and a new version): under the pipeline it waits up to the
	// merge maximum and the push debounce.
	catchUp := max(int64(3*time.Second), int64(s.cfg.Push.PushBound()))
	out := append(regcheck.Checkers(ghost, pushLive, gap, alone),
		regcheck.Propagation{Bound: s.propagation, Settle: int64(3 * time.Second)}, regcheck.Failover{Bound: s.failover},
		regcheck.SubscribePush{Bound: int64(2500 * time.Millisecond), Settle: int64(5 * time.Second)},
		regcheck.CatchUp{Bound: catchUp, Settle: 0},
		regcheck.AckVisible{Bound: s.propagation + int64(time.Second), Settle: int64(3 * time.Second)})
	if s.cfg.Push.Mode == regnode.PushPipeline {
		out = append(out, regcheck.PushRate{Window: int64(800 * time.Millisecond), Max: 3}, regcheck.RetryCap{Retries: 3, Scan: int64(s.cfg.SyncInterval)})
	}
	if s.cfg.Election == regnode.ElectionDB {
		out = append(out, regcheck.MetaLease{ClockBound: (lockDuration / 2).Milliseconds()}, regcheck.LockDB{})
	}
	return out
}
