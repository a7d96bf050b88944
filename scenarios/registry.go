package scenarios

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/nodes/raftkv"
	regnode "github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/sim"
)

// Registry workload operation kinds.
const (
	OpRegPublish   = "publish"
	OpRegUnpublish = "unpublish"
	OpRegSubscribe = "subscribe"
)

// RegistryOpKinds lists the registry workload operation kinds.
var RegistryOpKinds = []string{OpRegPublish, OpRegUnpublish, OpRegSubscribe}

// Registry-specific nemesis families.
const (
	familyClientCrash = "client-crash" // a client crashes for good
	familyClientCut   = "client-cut"   // a client and one session server are cut off from each other
	// familyPushFlaky: a steady share of pushes fails for most of the
	// workload (a flaky client network), not just in short windows.
	familyPushFlaky = "push-flaky"
	// familySessionStall: a session server stops for 3.5 to 10 seconds (a
	// stop-the-world GC pause): its connections stay open, its clients'
	// pings time out and they move to another session server.
	familySessionStall = "session-stall"
	// familyClockStepFailover: a data server's clock is stepped minutes
	// ahead (a bad NTP source), then the server fails and restarts: the
	// new slot leaders' clocks are far behind the versions it handed out.
	familyClockStepFailover = "clock-step-failover"
)

func registryOwnFamily(f string) bool {
	switch f {
	case familyClientCrash, familyClientCut, familyPushFlaky, familySessionStall, familyClockStepFailover:
		return true
	}
	return false
}

// The registry scenarios: meta + data + session servers and many clients
// publishing and subscribing across many services.
func init() {
	for _, v := range []struct {
		name, desc string
		families   []string
		servers    []string // nemesis targets: "meta", "data", "session"
		episodes   int
	}{
		{"registry-basic", "service registry, publish/subscribe workload; pushes fail now and then or at a steady rate, and clients crash",
			[]string{FamilyFailpoint, familyPushFlaky, familyClientCrash}, nil, 4},
		{"registry-session-failover", "service registry under session server crashes, pauses, stalls of seconds (clients time out their pings and move) and client-session cuts: clients reconnect and re-register",
			[]string{FamilyCrash, FamilyPause, familySessionStall, familyClientCut, familyClientCrash}, []string{"session"}, 6},
		{"registry-data-failover", "service registry under data server crashes, pauses, partitions, clock jumps and clocks stepped minutes ahead before a failover: slots migrate to new leaders",
			[]string{FamilyCrash, FamilyPause, FamilyPartition, FamilyClock, familyClockStepFailover}, []string{"data"}, 6},
		{"registry-meta-failover", "service registry under meta server crashes, partitions and pauses: the meta leader changes",
			[]string{FamilyCrash, FamilyPause, FamilyPartition}, []string{"meta"}, 6},
		{"registry-chaos", "service registry under everything: crashes, pauses, partitions, clock faults, loss, push failures, client crashes and cuts",
			[]string{FamilyCrash, FamilyPause, FamilyPartition, FamilyClock, FamilyNet, FamilyFailpoint, familyPushFlaky, familySessionStall, familyClockStepFailover, familyClientCrash, familyClientCut},
			[]string{"meta", "data", "session"}, 8},
	} {
		Register(registryScenario(v.name, v.desc, v.families, v.servers, v.episodes))
	}
}

func registryScenario(name, desc string, families, targets []string, episodes int) *Scenario {
	return &Scenario{
		Name:        name,
		Description: desc,
		Params: []Param{
			{Name: "metas", Default: "3", Usage: "meta servers (3 or 5)", Min: 3, Max: 5},
			{Name: "data", Default: "3", Usage: "data servers", Min: 1, Max: 100},
			{Name: "sessions", Default: "3", Usage: "session servers", Min: 1, Max: 1000},
			{Name: "clients", Default: "12", Usage: "clients", Min: 1, Max: 100000},
			{Name: "services", Default: "6", Usage: "dataInfoIds the clients use", Min: 1, Max: 100000},
			{Name: "ops", Default: "120", Usage: "most workload operations in a plan (beyond each client's first subscribe and publish)", Min: 0, Max: 1000000},
			{Name: "slots", Default: "256", Usage: "slots in the slot table", Min: 1, Max: 65536},
			{Name: "duration", Default: "30s", Usage: "safety phase (virtual time)", Kind: "duration"},
			{Name: "liveness", Default: "40s", Usage: "liveness bound after faults heal", Kind: "duration"},
		},
		Bugs:       regnode.Bugs,
		Failpoints: []string{regnode.FailPush},
		OpKinds:    RegistryOpKinds,
		Nodes: func(p Params) []sim.NodeID {
			t := regTopology(p)
			return append(regMembers(t), clientIDs(p.Int("clients"))...)
		},
		Clients: func(p Params) int { return p.Int("clients") },
		Draw: func(t *rapid.T, p Params) Draft {
			d := p.Duration("duration")
			topo := regTopology(p)
			var members []sim.NodeID
			for _, g := range targets {
				switch g {
				case "meta":
					members = append(members, topo.Metas...)
				case "data":
					members = append(members, topo.Data...)
				case "session":
					members = append(members, topo.Sessions...)
				}
			}
			clients := clientIDs(p.Int("clients"))
			return Draft{
				Duration: sim.Duration(d),
				Liveness: sim.Duration(p.Duration("liveness")),
				Ops:      drawRegistryOps(t, p.Int("clients"), p.Int("services"), p.Int("ops"), d),
				Faults:   drawRegistryFaults(t, families, members, topo, clients, d, episodes),
			}
		},
		Build: buildRegistry,
	}
}

func regTopology(p Params) regnode.Config {
	ids := func(prefix string, n int) []sim.NodeID {
		out := make([]sim.NodeID, n)
		for i := range out {
			out[i] = sim.NodeID(fmt.Sprintf("%s-%d", prefix, i+1))
		}
		return out
	}
	m := p.Int("metas")
	if m != 3 && m != 5 {
		m = 3
	}
	return regnode.Config{Metas: ids("meta", m), Data: ids("data", p.Int("data")), Sessions: ids("session", p.Int("sessions")), Slots: p.Int("slots")}
}

func regMembers(c regnode.Config) []sim.NodeID {
	return append(append(append([]sim.NodeID(nil), c.Metas...), c.Data...), c.Sessions...)
}

func (s *registrySystem) members() []sim.NodeID { return regMembers(s.cfg) }

// drawRegistryOps: every client subscribes to one service and publishes one
// publisher early; then random publishes (new or updated), unpublishes and
// subscribes in the first 70% of the run, leaving a quiet period.
func drawRegistryOps(t *rapid.T, clients, services, maxOps int, d time.Duration) []Op {
	var ops []Op
	svc := func() string { return fmt.Sprintf("svc-%d", rapid.IntRange(0, services-1).Draw(t, "service")) }
	for c := 0; c < clients; c++ {
		at := sim.Duration(time.Duration(rapid.Int64Range(500, 3000).Draw(t, "first-ms")) * time.Millisecond)
		ops = append(ops, Op{Client: c, At: at, Kind: OpRegSubscribe, Key: svc(), Value: "s0"},
			Op{Client: c, At: at, Kind: OpRegPublish, Key: svc(), Value: "p0"})
	}
	n := 0
	if maxOps > 0 {
		n = rapid.IntRange(0, maxOps).Draw(t, "ops")
	}
	window := int64(d) * 7 / 10 / int64(time.Millisecond)
	for i := 0; i < n; i++ {
		op := Op{
			Client: rapid.IntRange(0, clients-1).Draw(t, "client"),
			At:     sim.Duration(time.Duration(rapid.Int64Range(3000, max(3001, window)).Draw(t, "at")) * time.Millisecond),
			Kind:   rapid.SampledFrom([]string{OpRegPublish, OpRegPublish, OpRegPublish, OpRegUnpublish, OpRegSubscribe}).Draw(t, "kind"),
			Key:    svc(),
		}
		switch op.Kind {
		case OpRegSubscribe:
			op.Value = fmt.Sprintf("s%d", rapid.IntRange(1, 2).Draw(t, "sub"))
		default:
			op.Value = fmt.Sprintf("p%d", rapid.IntRange(0, 2).Draw(t, "pub"))
		}
		ops = append(ops, op)
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].At < ops[j].At })
	return ops
}

func drawRegistryFaults(t *rapid.T, families []string, members []sim.NodeID, topo regnode.Config, clients []sim.NodeID, d time.Duration, episodes int) []Step {
	var generic, own []string
	for _, f := range families {
		if registryOwnFamily(f) {
			own = append(own, f)
		} else if len(members) > 0 || f == FamilyFailpoint || f == FamilyNet {
			generic = append(generic, f)
		}
	}
	all := append(regMembers(topo), clients...)
	var steps []Step
	if len(generic) > 0 {
		ms := members
		if len(ms) == 0 {
			ms = regMembers(topo)
		}
		steps = DrawFaults(t, NemesisSpec{Members: ms, All: all, Families: generic, Duration: d, MaxEpisode: episodes,
			Failpoints: []string{regnode.FailPush}})
	}
	if len(own) > 0 {
		window := int64(d) * 7 / 10 / int64(time.Millisecond)
		n := rapid.IntRange(0, episodes).Draw(t, "client-episodes")
		for i := 0; i < n; i++ {
			at := sim.Duration(time.Duration(rapid.Int64Range(2000, window).Draw(t, "at")) * time.Millisecond)
			c := rapid.SampledFrom(clients).Draw(t, "client")
			switch rapid.SampledFrom(own).Draw(t, "client-family") {
			case familyClientCrash:
				steps = append(steps, Step{Fault: sim.Fault{At: at, Op: sim.Crash{Nodes: []sim.NodeID{c}}}})
			case familyPushFlaky:
				ppm := rapid.Int64Range(50_000, 400_000).Draw(t, "push-fail-ppm")
				until := sim.Duration(time.Duration(window) * time.Millisecond * 8 / 7)
				steps = append(steps, Step{Fault: sim.Fault{At: at, Op: sim.ArmFailpoint{Failpoint: regnode.FailPush, ProbabilityPPM: ppm}}},
					Step{Fault: sim.Fault{At: max(at, until), Op: sim.DisarmFailpoint{Failpoint: regnode.FailPush}}})
			case familySessionStall:
				s := rapid.SampledFrom(topo.Sessions).Draw(t, "session")
				length := sim.Duration(time.Duration(rapid.Int64Range(3500, 10_000).Draw(t, "stall-ms")) * time.Millisecond)
				steps = append(steps, Step{Fault: sim.Fault{At: at, Op: sim.Pause{Nodes: []sim.NodeID{s}}}},
					Step{Fault: sim.Fault{At: at + length, Op: sim.Resume{Nodes: []sim.NodeID{s}}}})
			case familyClockStepFailover:
				ds := rapid.SampledFrom(topo.Data).Draw(t, "data")
				jump := sim.Duration(time.Duration(rapid.Int64Range(60, 600).Draw(t, "step-s")) * time.Second)
				crash := at + sim.Duration(time.Duration(rapid.Int64Range(500, 5000).Draw(t, "crash-after-ms"))*time.Millisecond)
				down := sim.Duration(time.Duration(rapid.Int64Range(1000, 8000).Draw(t, "down-ms")) * time.Millisecond)
				steps = append(steps, Step{Fault: sim.Fault{At: at, Op: sim.ClockJump{Nodes: []sim.NodeID{ds}, Jump: jump}}},
					Step{Fault: sim.Fault{At: crash, Op: sim.Crash{Nodes: []sim.NodeID{ds}}}},
					Step{Fault: sim.Fault{At: crash + down, Op: sim.Restart{Nodes: []sim.NodeID{ds}}}})
			case familyClientCut:
				s := rapid.SampledFrom(topo.Sessions).Draw(t, "session")
				length := sim.Duration(time.Duration(rapid.Int64Range(1000, 8000).Draw(t, "ms")) * time.Millisecond)
				steps = append(steps, Step{Fault: sim.Fault{At: at, Op: sim.Partition{Cuts: sim.Split([]sim.NodeID{c}, []sim.NodeID{s})}}},
					Step{Fault: sim.Fault{At: at + length, Op: sim.Heal{}}})
			}
		}
	}
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].At < steps[j].At })
	return steps
}

// registrySystem is a built registry scenario.
type registrySystem struct {
	w       *sim.World
	cfg     regnode.Config
	rec     *checkers.RegRecorder
	clients []*regClient
	dead    map[int]bool
	healAt  time.Duration
	quiet   time.Duration // converged since (0: not)
	lastSl  map[sim.NodeID]string
	lastMt  map[sim.NodeID]string
	pending map[int]checkers.RegEvent // meta store operations not finished yet
	// clientEvs counts client events and deaths; convAt is the count the
	// converged verdict was computed at (-1: never).
	clientEvs, convAt int
	converged         bool
	lean              *regLean // benchmarks only
	nextOp            int
}

// metaProbeID is the harness client that reads the meta store's table
// epoch through raft (linearizable reads) for the meta-store check.
const metaProbeID = sim.NodeID("meta-probe")

// ProposeTable records the start of a meta leader's table proposal.
func (s *registrySystem) ProposeTable(node sim.NodeID, expected uint64) int {
	return s.startMetaOp(checkers.RegEvent{Kind: checkers.RegMetaOp, Op: "cas", Node: string(node), Expected: expected})
}

// ProposeDone records its outcome.
func (s *registrySystem) ProposeDone(id int, known, applied bool) {
	ev, ok := s.pending[id]
	if !ok {
		return
	}
	ev.Unknown, ev.OK = !known, applied
	s.endMetaOp(id, ev)
}

func (s *registrySystem) startMetaOp(ev checkers.RegEvent) int {
	s.nextOp++
	ev.Call, ev.Client = int64(s.w.Now()), -2
	s.pending[s.nextOp] = ev
	return s.nextOp
}

func (s *registrySystem) endMetaOp(id int, ev checkers.RegEvent) {
	delete(s.pending, id)
	ev.T = int64(s.w.Now())
	s.rec.Record(ev)
}

// metaProbe reads the table through the meta servers' raft every 500ms.
type metaProbe struct {
	sim.BaseNode
	sys    *registrySystem
	env    *sim.Env
	client *raftkv.Client
}

type probeTick struct{}

func (p *metaProbe) Start(env *sim.Env) {
	p.env = env
	p.client = raftkv.NewClient(env, raftkv.ClientConfig{Servers: p.sys.cfg.Metas, ClientID: 1})
	env.SetTimer(500*time.Millisecond, probeTick{})
}

func (p *metaProbe) Timer(id sim.TimerID, tag any) {
	if _, ok := tag.(probeTick); !ok {
		p.client.HandleTimer(id, tag)
		return
	}
	p.env.SetTimer(500*time.Millisecond, probeTick{})
	if p.client.Busy() {
		return
	}
	op := p.sys.startMetaOp(checkers.RegEvent{Kind: checkers.RegMetaOp, Op: "read", Node: string(metaProbeID)})
	p.client.Read([]byte("table"), func(resp []byte, err error) {
		ev := p.sys.pending[op]
		var t regnode.Table
		if err != nil || json.Unmarshal(resp, &t) != nil {
			delete(p.sys.pending, op) // a read with no answer changed nothing: drop it
			return
		}
		ev.Epoch = t.Epoch
		p.sys.endMetaOp(op, ev)
	})
}

func (p *metaProbe) Message(conn sim.ConnID, from sim.NodeID, msg any) {
	p.client.HandleMessage(conn, from, msg)
}
func (p *metaProbe) Connected(conn sim.ConnID, peer sim.NodeID) { p.client.HandleConnected(conn, peer) }
func (p *metaProbe) Closed(conn sim.ConnID, peer sim.NodeID)    { p.client.HandleClosed(conn, peer) }

// regLean is the benchmarks' recording: instead of every push with its
// publishers (which grows with pushes x publishers), the last push per
// subscriber and the virtual latency from each publish to each subscriber
// first receiving it. The checkers need the full recording.
type regLean struct {
	last    map[string]*regnode.Datum // "client/sub" -> last push
	pubAt   map[string]time.Duration  // "pub=data" -> when it was published
	latency []time.Duration
}

// push compares the datum with the subscriber's previous one (both sorted
// by registerId): a publisher whose data is new to the subscriber was
// delivered now.
func (l *regLean) push(client int, sub string, d *regnode.Datum, now time.Duration) {
	k := strconv.Itoa(client) + "/" + sub
	prev := l.last[k]
	l.last[k] = d
	var old []regnode.PubData
	if prev != nil {
		old = prev.Pubs
	}
	j := 0
	for _, p := range d.Pubs {
		for j < len(old) && old[j].RegID < p.RegID {
			j++
		}
		if j < len(old) && old[j].RegID == p.RegID && old[j].Data == p.Data {
			continue
		}
		if t, ok := l.pubAt[p.RegID+"="+p.Data]; ok {
			l.latency = append(l.latency, now-t)
		}
	}
}

// events is the recorded history with each subscriber's last push added.
func (l *regLean) events(rec []checkers.RegEvent, end time.Duration) []checkers.RegEvent {
	out := append([]checkers.RegEvent(nil), rec...)
	keys := make([]string, 0, len(l.last))
	for k := range l.last {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cl, sub, _ := strings.Cut(k, "/")
		n, _ := strconv.Atoi(cl)
		d := l.last[k]
		ev := checkers.RegEvent{Kind: checkers.RegPush, T: int64(end), Client: n, DataID: d.DataID, RegID: sub, Version: d.Version}
		for _, p := range d.Pubs {
			ev.Pubs = append(ev.Pubs, p.RegID+"="+p.Data)
			ev.PubVers = append(ev.PubVers, p.Version)
		}
		out = append(out, ev)
	}
	return out
}

func buildRegistry(w *sim.World, plan *Plan, p Params) (System, error) {
	return buildRegistryWith(w, plan, p, false)
}

func buildRegistryWith(w *sim.World, plan *Plan, p Params, lean bool) (System, error) {
	cfg := regTopology(p)
	sys := &registrySystem{w: w, cfg: cfg, rec: &checkers.RegRecorder{}, dead: map[int]bool{},
		healAt: time.Duration(plan.Duration), lastSl: map[sim.NodeID]string{}, lastMt: map[sim.NodeID]string{}, pending: map[int]checkers.RegEvent{}, convAt: -1}
	cfg.Observer = sys
	if lean {
		sys.lean = &regLean{last: map[string]*regnode.Datum{}, pubAt: map[string]time.Duration{}}
	}
	regnode.AddServers(w, cfg)
	w.AddNode(metaProbeID, func() sim.Node { return &metaProbe{sys: sys} })
	ids := clientIDs(p.Int("clients"))
	for i, ops := range SplitOps(plan.Ops, p.Int("clients")) {
		c := &regClient{idx: i, ops: ops, sys: sys, live: map[string]string{}}
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
						sys.rec.Record(checkers.RegEvent{Kind: checkers.RegClientDead, T: int64(at), Client: i})
						sys.clientEvs++
					}
				})
			}
		}
	}
	w.At(sys.healAt, func() { sys.rec.Record(checkers.RegEvent{Kind: checkers.RegHeal, T: int64(sys.healAt), Client: -1}) })
	end := time.Duration(plan.Duration + plan.Liveness)
	var sample func()
	sample = func() {
		sys.sample()
		if w.Now()+250*time.Millisecond <= end {
			w.After(250*time.Millisecond, sample)
		}
	}
	w.At(250*time.Millisecond, sample)
	return sys, nil
}

// sample records the data servers' slots and the meta servers' view when
// they change.
func (s *registrySystem) sample() {
	now := int64(s.w.Now())
	for _, id := range s.cfg.Data {
		d, ok := s.w.Node(id).(*regnode.DataServer)
		if !ok || !s.w.Up(id) {
			continue
		}
		st := d.Status()
		key := fmt.Sprint(st.Proc, st.Epoch, st.Leading)
		if s.lastSl[id] == key {
			continue
		}
		s.lastSl[id] = key
		s.rec.Record(checkers.RegEvent{Kind: checkers.RegSlots, T: now, Client: -1, Node: string(id), Inc: st.Proc.Inc, Epoch: st.Epoch, Slots: st.Leading})
	}
	for _, id := range s.cfg.Metas {
		m, ok := s.w.Node(id).(*regnode.MetaServer)
		if !ok || !s.w.Up(id) {
			continue
		}
		st := m.Status()
		key := fmt.Sprint(st.MetaLeader, st.Term, st.Epoch)
		if s.lastMt[id] == key {
			continue
		}
		s.lastMt[id] = key
		s.rec.Record(checkers.RegEvent{Kind: checkers.RegMeta, T: now, Client: -1, Node: string(id), Inc: uint32(s.w.Stats(id).Starts), Term: st.Term, Leader: st.MetaLeader, Epoch: st.Epoch})
	}
}

func (s *registrySystem) Members() []sim.NodeID { return s.members() }

// Leader is the acting meta leader.
func (s *registrySystem) Leader() sim.NodeID {
	for _, id := range s.cfg.Metas {
		if m, ok := s.w.Node(id).(*regnode.MetaServer); ok && s.w.Up(id) && !s.w.Paused(id) && m.Status().MetaLeader {
			return id
		}
	}
	return ""
}

// Done: every client ran its operations and every live subscriber has
// held the expected publishers for 5 seconds.
func (s *registrySystem) Done() bool {
	for _, c := range s.clients {
		if !s.dead[c.idx] && c.next < len(c.ops) {
			return false
		}
	}
	// Only client events (and deaths) change the verdict: recompute it
	// when there are new ones.
	if s.convAt != s.clientEvs {
		s.convAt, s.converged = s.clientEvs, checkers.RegConverged(s.rec.Events)
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
func (s *registrySystem) History() checkers.History {
	evs := append([]checkers.RegEvent(nil), s.rec.Events...)
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
	r := checkers.RegRecorder{Events: append(evs, checkers.RegEvent{Kind: checkers.RegEnd, T: int64(s.w.Now()), Client: -1})}
	return r.History()
}

func (s *registrySystem) Checkers() []checkers.Checker {
	return checkers.RegistryCheckers(int64(20*time.Second), int64(30*time.Second))
}

// regClient is a workload client node hosting the registry client library.
type regClient struct {
	sim.BaseNode
	idx    int
	ops    []Op
	next   int
	sys    *registrySystem
	env    *sim.Env
	client *regnode.Client
	data   int
	live   map[string]string // registerId -> dataInfoId of the client's current publishers
}

type regOpTick struct{}

func (c *regClient) record(ev checkers.RegEvent) {
	ev.T, ev.Client = int64(c.sys.w.Now()), c.idx
	c.sys.rec.Record(ev)
	c.sys.clientEvs++
}

func (c *regClient) Start(env *sim.Env) {
	c.env = env
	c.client = regnode.NewClient(env, regnode.ClientConfig{
		Sessions:       c.sys.cfg.Sessions,
		OnConnected:    func(s sim.NodeID) { c.record(checkers.RegEvent{Kind: checkers.RegConnect, Node: string(s)}) },
		OnDisconnected: func(s sim.NodeID) { c.record(checkers.RegEvent{Kind: checkers.RegDisconnect, Node: string(s)}) },
		OnPublishAck: func(reg string, v uint64) {
			c.record(checkers.RegEvent{Kind: checkers.RegPublishAck, RegID: reg, Version: v})
		},
		OnPush: func(reg string, d *regnode.Datum) {
			if l := c.sys.lean; l != nil {
				l.push(c.idx, reg, d, c.sys.w.Now())
				return
			}
			ev := checkers.RegEvent{Kind: checkers.RegPush, DataID: d.DataID, RegID: reg, Version: d.Version}
			for _, p := range d.Pubs {
				ev.Pubs = append(ev.Pubs, p.RegID+"="+p.Data)
				ev.PubVers = append(ev.PubVers, p.Version)
			}
			c.record(ev)
		},
	})
	c.pump()
}

func (c *regClient) pump() {
	for c.next < len(c.ops) {
		op := c.ops[c.next]
		if wait := time.Duration(op.At) - c.sys.w.Now(); wait > 0 {
			c.env.SetTimer(wait, regOpTick{})
			return
		}
		c.next++
		c.exec(op)
	}
}

func (c *regClient) exec(op Op) {
	reg := fmt.Sprintf("c%d-%s", c.idx, op.Value)
	if op.Kind == OpRegSubscribe {
		reg = fmt.Sprintf("c%d-%s-%s", c.idx, op.Value, op.Key) // one subscriber per service
	}
	switch op.Kind {
	case OpRegSubscribe:
		c.client.Subscribe(op.Key, reg)
		c.record(checkers.RegEvent{Kind: checkers.RegSubscribe, DataID: op.Key, RegID: reg})
	case OpRegPublish:
		// A publisher keeps its dataInfoId: an update changes the data only.
		dataID := op.Key
		if cur, ok := c.pubData(reg); ok {
			dataID = cur
		}
		c.data++
		data := fmt.Sprintf("c%d-d%d", c.idx, c.data)
		v := c.client.Publish(dataID, reg, data)
		c.live[reg] = dataID
		c.record(checkers.RegEvent{Kind: checkers.RegPublish, DataID: dataID, RegID: reg, Data: data, Version: v})
		if l := c.sys.lean; l != nil {
			l.pubAt[reg+"="+data] = c.sys.w.Now()
		}
	case OpRegUnpublish:
		dataID, ok := c.pubData(reg)
		if !ok {
			return
		}
		c.client.Unpublish(reg)
		delete(c.live, reg)
		c.record(checkers.RegEvent{Kind: checkers.RegUnpublish, DataID: dataID, RegID: reg})
	}
}

func (c *regClient) pubData(reg string) (string, bool) {
	id, ok := c.live[reg]
	return id, ok
}

func (c *regClient) Message(conn sim.ConnID, from sim.NodeID, msg any) {
	c.client.HandleMessage(conn, from, msg)
}
func (c *regClient) Connected(conn sim.ConnID, peer sim.NodeID) { c.client.HandleConnected(conn, peer) }
func (c *regClient) Closed(conn sim.ConnID, peer sim.NodeID)    { c.client.HandleClosed(conn, peer) }
func (c *regClient) Timer(id sim.TimerID, tag any) {
	if _, ok := tag.(regOpTick); ok {
		c.pump()
		return
	}
	c.client.HandleTimer(id, tag)
}
