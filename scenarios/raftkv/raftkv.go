// Package raftkv holds the raftkv scenarios: a 3- or 5-member raftkv
// cluster running the KV store, Jepsen-style single-threaded clients doing
// get, put, append, delete and CAS on a few keys, checked for
// linearizability per key (porcupine) and liveness. Importing the package
// registers the scenarios.
package raftkv

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"

	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/checkers"
	rkcheck "github.com/sofasim/sofasim/checkers/raftkv"
	kv "github.com/sofasim/sofasim/nodes/raftkv"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

func init() {
	for _, v := range []struct {
		name, desc string
		families   []string
		episodes   int
		mustReach  []string
	}{
		{"raftkv-basic", "raftkv cluster, KV workload, no faults", nil, 0, nil},
		{"raftkv-partitions", "raftkv under partitions of every shape (leader isolated, majority/minority, bridge, ring, one-way), clogs and loss",
			[]string{scenarios.FamilyPartition, scenarios.FamilyNet}, 6, partitionStates},
		{"raftkv-crashes", "raftkv under crashes and restarts of one, several or all members (torn writes), pauses and disk faults",
			[]string{scenarios.FamilyCrash, scenarios.FamilyPause, scenarios.FamilyDisk}, 6, restartStates},
		{"raftkv-chaos", "raftkv under everything: partitions, crashes, pauses, clock jumps and skew, disk faults, loss and clogs",
			[]string{scenarios.FamilyPartition, scenarios.FamilyCrash, scenarios.FamilyPause, scenarios.FamilyClock, scenarios.FamilyDisk, scenarios.FamilyNet}, 10,
			append(append([]string{}, restartStates...), partitionStates...)},
	} {
		scenarios.Register(scenario(v.name, v.desc, v.families, v.episodes, v.mustReach))
	}
}

// The states the raftkv scenarios must reach (coverage marks in
// nodes/raftkv): what their planted bugs, and bugs like them, need.
var (
	// restarts: a restart replays client writes (dedup lost), with a WAL
	// margin behind the snapshot (double apply), or a torn WAL tail to cut
	// (a sync failed partway), votes and leads again, or follows a crash
	// right after a vote (votes not durable); a failover under slow disks
	// commits a client's retry twice (dedup at apply)
	restartStates = []string{"raftkv/restart-from-disk", "raftkv/restart-replays-client-writes", "raftkv/restart-with-wal-margin",
		"raftkv/restart-with-torn-wal", "raftkv/vote-after-restart", "raftkv/leader-after-restart", "raftkv/crash-right-after-vote",
		"raftkv/retry-committed-twice"}
	// partitions: a leader deposed with writes in flight, whose retries
	// are answered from the session table; a lagging follower sent a snapshot
	partitionStates = []string{"raftkv/deposed-with-pending-writes", "raftkv/retry-answered-from-session", "raftkv/snapshot-sent"}
)

// Params are the raftkv scenarios' parameters.
var Params = []scenarios.Param{
	scenarios.OneOf("members", 5, []int{3, 5}, "raft members"),
	scenarios.Int("clients", 10, 1, 1000, "workload clients"),
	scenarios.Int("keys", 5, 1, 1000, "keys the workload touches"),
	scenarios.Int("ops", 300, 1, 100000, "most operations drawn (an impatient read may bring up to 9 polling reads more; hand-offs are extra)"),
	scenarios.Int("snapshot-every", 16, 1, 1000000, "applied entries between raft snapshots (small, so compaction and snapshot transfer are exercised)"),
	scenarios.Dur("duration", 60*time.Second, "safety phase (virtual time)"),
	scenarios.Dur("liveness", 30*time.Second, "liveness bound after faults heal"),
}

func scenario(name, desc string, families []string, episodes int, mustReach []string) *scenarios.Scenario {
	return scenarios.Define(scenarios.Spec[Op, checkers.History]{
		Name:        name,
		Description: desc,
		MustReach:   mustReach,
		Params:      Params,
		Bugs:        kv.Bugs,
		OpKinds:     append(slices.Clip(OpKinds), KindTransferLeader),
		Kind:        func(op Op) string { return op.Kind },
		Nodes: func(p scenarios.Values) []sim.NodeID {
			return append(members(p.Int("members")), scenarios.ClientIDs(p.Int("clients"))...)
		},
		Clients: func(p scenarios.Values) int { return p.Int("clients") },
		Draw: func(t *rapid.T, p scenarios.Values) scenarios.Draft[Op] {
			d := p.Duration("duration")
			ms := members(p.Int("members"))
			clients := scenarios.ClientIDs(p.Int("clients"))
			ops := DrawOps(t, Spec{Clients: p.Int("clients"), Keys: p.Int("keys"), MaxOps: p.Int("ops"), Duration: d})
			faults := scenarios.DrawFaults(t, scenarios.NemesisSpec{Members: ms, All: append(append([]sim.NodeID(nil), ms...), clients...),
				Families: families, Duration: d, MaxEpisode: episodes})
			faults = superviseExits(t, faults)
			if slices.Contains(families, scenarios.FamilyPartition) {
				faults = append(faults, drawMinorityWithClients(t, ms, clients, d)...)
			}
			if slices.Contains(families, scenarios.FamilyPause) {
				faults = append(faults, drawLeaderStalls(t, ms, d)...)
			}
			if slices.Contains(families, scenarios.FamilyNet) {
				faults = append(faults, drawReplyClogs(t, ms, clients, ops, d)...)
			}
			if slices.Contains(families, scenarios.FamilyCrash) {
				handoffs, crashes := drawHandoffCrashes(t, ms, d)
				ops = append(ops, handoffs...)
				faults = append(faults, crashes...)
				if slices.Contains(families, scenarios.FamilyDisk) {
					faults = append(faults, drawSlowFailovers(t, ms, ops)...)
				}
				slices.SortStableFunc(ops, func(a, b Op) int { return cmp.Compare(a.At, b.At) })
			}
			slices.SortStableFunc(faults, func(a, b scenarios.Step) int { return cmp.Compare(a.At, b.At) })
			return scenarios.Draft[Op]{Duration: sim.Duration(d), Liveness: sim.Duration(p.Duration("liveness")), Ops: ops, Faults: faults}
		},
		Build: build,
	})
}

func members(n int) []sim.NodeID {
	out := make([]sim.NodeID, n)
	for i := range out {
		out[i] = sim.NodeID(fmt.Sprintf("kv-%d", i+1))
	}
	return out
}

// system is a built raftkv scenario.
type system struct {
	w       *sim.World
	members []sim.NodeID
	rec     *checkers.Recorder
	proto   *protocol
	drivers []*scenarios.Driver[Op]
}

func build(w *sim.World, plan *scenarios.Plan, p scenarios.Values, ops []Op) (scenarios.System[checkers.History], error) {
	ms := members(p.Int("members"))
	proto := &protocol{w: w, voted: map[sim.NodeID]rkcheck.Event{}, ticked: map[sim.NodeID]time.Duration{}, acked: map[sim.NodeID]rkcheck.Event{}}
	for _, id := range ms {
		cfg := kv.ServerConfig{ID: id, Peers: ms, SnapshotEvery: uint64(p.Int("snapshot-every")), CatchUpEntries: 16,
			Observe: proto.observe, DigestEvery: digestEvery, NewStateMachine: proto.stateMachines(id)}
		w.AddNode(id, func() sim.Node { return &member{Server: kv.NewServer(cfg), p: proto} })
	}
	sys := &system{w: w, members: ms, rec: &checkers.Recorder{Model: "kv"}, proto: proto}
	ids := scenarios.ClientIDs(p.Int("clients"))
	for i, own := range scenarios.SplitOps(ops, len(ids)) {
		var admin []Op
		own = slices.DeleteFunc(own, func(op Op) bool {
			if op.Kind == KindTransferLeader {
				admin = append(admin, op)
			}
			return op.Kind == KindTransferLeader
		})
		// Every client ends with a read issued when the faults heal: a
		// cluster that never recovers fails the liveness check even if
		// all planned ops timed out before.
		own = append(own, Op{OpTiming: scenarios.OpTiming{Client: i, At: plan.Duration}, Kind: checkers.KindGet, Key: fmt.Sprintf("k%d", i%p.Int("keys"))})
		c := &client{idx: i, servers: ms, rec: sys.rec, proto: proto, now: w.Now, opTimeout: min(opTimeout, p.Duration("liveness")/3),
			healAt: time.Duration(plan.Duration), impatient: map[sim.Duration]*kv.Client{}, admin: admin, requests: map[*kv.Client]uint64{}}
		c.driver = &scenarios.Driver[Op]{Ops: own, Now: w.Now, Exec: c.exec}
		sys.drivers = append(sys.drivers, c.driver)
		w.AddNode(ids[i], func() sim.Node { return c })
	}
	return sys, nil
}

func (s *system) Members() []sim.NodeID { return s.members }

// Leader is the member that believes it leads in the highest term.
func (s *system) Leader() sim.NodeID {
	var lead sim.NodeID
	var term uint64
	for _, id := range s.members {
		srv, ok := s.w.Node(id).(*member)
		if !ok || s.w.Paused(id) {
			continue
		}
		if st := srv.Status(); st.Role == "leader" && st.Term >= term {
			lead, term = id, st.Term
		}
	}
	return lead
}

func (s *system) Done() bool {
	for _, d := range s.drivers {
		if !d.Done() {
			return false
		}
	}
	return true
}

func (s *system) History() checkers.History { return s.rec.History() }

func (s *system) Checkers(b scenarios.Bounds) []checkers.Checker {
	s.proto.settle(s.members)
	return append([]checkers.Checker{checkers.Linearizable{Model: "kv"},
		checkers.Liveness{HealedAt: b.HealAt, Bound: b.Liveness, End: b.End}}, s.proto.checkers()...)
}

// client is a workload client node: a driver feeding a raftkv client. The
// client nodes never crash, so the driver lives across the run; were a
// client restarted, its pending op would stay unknown, as it should.
type client struct {
	sim.BaseNode
	idx     int
	env     *sim.Env
	driver  *scenarios.Driver[Op]
	servers []sim.NodeID
	rec     *checkers.Recorder
	proto   *protocol
	now     func() time.Duration
	kv      *kv.Client
	// impatient are the clients of reads with their own patience, one
	// session each; every op still waits for the previous one
	impatient map[sim.Duration]*kv.Client
	healAt    time.Duration // from here on every op is patient: liveness judges them
	// admin are the operator's requests this client makes at their
	// times, on its own session, whatever its workload is waiting for
	admin   []Op
	adminKV *kv.Client
	kvs     []*kv.Client // all's answer, until a client is added
	// from is the server whose message is being handled, and resp the
	// response: the one that answered, when an op completes
	from sim.NodeID
	resp *kv.Response
	// requests counts the requests made on each kv client: the sequence
	// number of its request in flight, which answers-match compares with
	// the response the client took for it
	requests map[*kv.Client]uint64
	// opTimeout: at most a third of the liveness bound, so that the final
	// read, queued behind an operation still retrying at the heal, has time
	// to finish
	opTimeout time.Duration
}

func (c *client) Start(env *sim.Env) {
	c.env, c.kvs = env, nil
	c.kv = kv.NewClient(env, kv.ClientConfig{Servers: c.servers, OpTimeout: c.opTimeout})
	if len(c.admin) > 0 {
		c.adminKV = kv.NewClient(env, kv.ClientConfig{Servers: c.servers, OpTimeout: time.Second, ClientID: adminClientID})
		for i, op := range c.admin {
			env.SetTimer(max(time.Duration(op.At)-c.now(), 0), adminTimer(i))
		}
	}
	c.driver.Start(env)
}

// adminClientID tells the admin session apart from the impatient ones
// (1, 2, ...).
const adminClientID = 1 << 20

// adminTimer tags the timer of the client's admin request i.
type adminTimer int

// runAdmin makes an operator's request; its outcome is the nemesis's, not
// the history's.
func (c *client) runAdmin(op Op) {
	c.adminKV.TransferLeader(sim.NodeID(op.Value), func(error) {})
}

// kinds maps the workload's kinds to raftkv's.
var kinds = map[string]kv.OpKind{}

func init() {
	for k := kv.OpGet; k <= kv.OpAppend; k++ {
		kinds[k.String()] = k
	}
}

func (c *client) exec(op Op, done func()) {
	call := int64(c.now())
	id := c.rec.Invoke(call, c.idx, op.Key, op.input())
	kop := kv.Op{Kind: kinds[op.Kind], Key: op.Key, Value: op.Value, Expected: op.Expected, ExpectAbsent: op.Absent}
	k := c.clientFor(op)
	c.requests[k]++
	req := c.requests[k] // the client numbers its requests 1, 2, ...
	k.Do(kop, func(r kv.Result) {
		now := int64(c.now())
		if r.Err == nil && c.resp != nil {
			c.proto.record(rkcheck.Event{Kind: rkcheck.Answered, Node: string(c.env.ID()), Peer: string(c.from),
				Session: c.resp.Session, Seq: c.resp.Seq, Index: req})
		}
		if r.Err != nil {
			// The client gave up (timeout): a write's outcome is unknown;
			// a read read nothing, but it did not finish either, which the
			// liveness check must see.
			c.rec.Unknown(now, id)
		} else {
			c.rec.Complete(now, id, checkers.Output{Value: r.Value, Found: r.Found, OK: r.OK})
			if op.Kind == checkers.KindGet && c.from != "" {
				c.proto.h.Events = append(c.proto.h.Events, rkcheck.Event{Kind: rkcheck.ClientRead, T: now, Node: string(c.from), Key: op.Key, Call: call})
			}
		}
		done()
	})
}

// clientFor is the kv client an op runs on: its read patience's own
// client while faults may be on, the patient one otherwise.
func (c *client) clientFor(op Op) *kv.Client {
	if op.Patience == 0 || c.now() >= c.healAt {
		return c.kv
	}
	k := c.impatient[op.Patience]
	if k == nil {
		k = kv.NewClient(c.env, kv.ClientConfig{Servers: c.servers, OpTimeout: time.Duration(op.Patience), ClientID: uint64(len(c.impatient) + 1)})
		c.impatient[op.Patience] = k
		c.kvs = nil
	}
	return k
}

// all is every kv client of this node, the patient one first, then the
// admin's, then the impatient ones by patience; built once per added
// client, since every message and timer asks.
func (c *client) all() []*kv.Client {
	if c.kvs != nil {
		return c.kvs
	}
	out := []*kv.Client{c.kv}
	if c.adminKV != nil {
		out = append(out, c.adminKV)
	}
	for _, p := range slices.Sorted(maps.Keys(c.impatient)) {
		out = append(out, c.impatient[p])
	}
	c.kvs = out
	return out
}

func (c *client) Message(conn sim.ConnID, from sim.NodeID, msg any) {
	c.from = from
	c.resp, _ = msg.(*kv.Response)
	for _, k := range c.all() {
		if k.HandleMessage(conn, from, msg) {
			break
		}
	}
	c.from, c.resp = "", nil
}

func (c *client) Connected(conn sim.ConnID, peer sim.NodeID) {
	for _, k := range c.all() {
		if k.HandleConnected(conn, peer) {
			return
		}
	}
}

func (c *client) Closed(conn sim.ConnID, peer sim.NodeID) {
	for _, k := range c.all() {
		if k.HandleClosed(conn, peer) {
			return
		}
	}
}

func (c *client) Timer(id sim.TimerID, tag any) {
	if scenarios.IsDriverTick(tag) {
		c.driver.Pump(c.env)
		return
	}
	if i, ok := tag.(adminTimer); ok {
		c.runAdmin(c.admin[i])
		return
	}
	for _, k := range c.all() {
		if k.HandleTimer(id, tag) {
			return
		}
	}
}

// opTimeout is how long a workload client retries one operation (same
// session and sequence number, so a write applies at most once) before it
// gives up and the outcome is unknown. Long enough that an outage leaves
// each client one unknown operation rather than one every few seconds:
// many open writes on one key make the linearizability search explode.
const opTimeout = 10 * time.Second // the default liveness bound is 30 s
