package scenarios

import (
	"fmt"
	"time"

	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/nodes/raftkv"
	"github.com/sofasim/sofasim/sim"
)

// The raftkv scenarios: a 3- or 5-member raftkv cluster with the KV store,
// Jepsen-style single-threaded clients doing get, put, append, delete and CAS on a
// few keys, checked for linearizability per key and for liveness.
func init() {
	for _, v := range []struct {
		name, desc string
		families   []string
		episodes   int
	}{
		{"raftkv-basic", "raftkv cluster, KV workload, no faults", nil, 0},
		{"raftkv-partitions", "raftkv under partitions of every shape (leader isolated, majority/minority, bridge, ring, one-way), clogs and loss",
			[]string{FamilyPartition, FamilyNet}, 6},
		{"raftkv-crashes", "raftkv under crashes and restarts of one, several or all members (torn writes), pauses and disk faults",
			[]string{FamilyCrash, FamilyPause, FamilyDisk}, 6},
		{"raftkv-chaos", "raftkv under everything: partitions, crashes, pauses, clock jumps and skew, disk faults, loss and clogs",
			[]string{FamilyPartition, FamilyCrash, FamilyPause, FamilyClock, FamilyDisk, FamilyNet}, 10},
	} {
		Register(raftkvScenario(v.name, v.desc, v.families, v.episodes))
	}
}

func raftkvScenario(name, desc string, families []string, episodes int) *Scenario {
	return &Scenario{
		Name:        name,
		Description: desc,
		Params: []Param{
			{Name: "members", Default: "5", Usage: "raft members (3 or 5)", Min: 3, Max: 5},
			{Name: "clients", Default: "10", Usage: "workload clients", Min: 1, Max: 1000},
			{Name: "keys", Default: "5", Usage: "keys the workload touches", Min: 1, Max: 1000},
			{Name: "ops", Default: "300", Usage: "most operations in a plan", Min: 1, Max: 100000},
			{Name: "snapshot-every", Default: "64", Usage: "applied entries between raft snapshots (small, so compaction and snapshot transfer are exercised)", Min: 1, Max: 1000000},
			{Name: "duration", Default: "60s", Usage: "safety phase (virtual time)", Kind: "duration"},
			{Name: "liveness", Default: "30s", Usage: "liveness bound after faults heal", Kind: "duration"},
		},
		Bugs:    raftkv.Bugs,
		OpKinds: KVOpKinds,
		Nodes: func(p Params) []sim.NodeID {
			return append(raftkvMembers(p.Int("members")), clientIDs(p.Int("clients"))...)
		},
		Clients: func(p Params) int { return p.Int("clients") },
		Draw: func(t *rapid.T, p Params) Draft {
			d := p.Duration("duration")
			members := raftkvMembers(p.Int("members"))
			return Draft{
				Duration: sim.Duration(d),
				Liveness: sim.Duration(p.Duration("liveness")),
				Ops:      DrawKVOps(t, KVSpec{Clients: p.Int("clients"), Keys: p.Int("keys"), MaxOps: p.Int("ops"), Duration: d}),
				Faults: DrawFaults(t, NemesisSpec{Members: members, All: append(members, clientIDs(p.Int("clients"))...),
					Families: families, Duration: d, MaxEpisode: episodes}),
			}
		},
		Build: buildRaftkv,
	}
}

func raftkvMembers(n int) []sim.NodeID {
	if n != 3 && n != 5 {
		n = 5
	}
	out := make([]sim.NodeID, n)
	for i := range out {
		out[i] = sim.NodeID(fmt.Sprintf("kv-%d", i+1))
	}
	return out
}

func clientIDs(n int) []sim.NodeID {
	out := make([]sim.NodeID, n)
	for i := range out {
		out[i] = sim.NodeID(fmt.Sprintf("client-%d", i))
	}
	return out
}

// raftkvSystem is a built raftkv scenario.
type raftkvSystem struct {
	w       *sim.World
	members []sim.NodeID
	rec     *checkers.Recorder
	drivers []*Driver
}

func buildRaftkv(w *sim.World, plan *Plan, p Params) (System, error) {
	if m := p.Int("members"); m != 3 && m != 5 {
		return nil, fmt.Errorf("raftkv: members must be 3 or 5, not %d", m)
	}
	members := raftkvMembers(p.Int("members"))
	raftkv.AddServers(w, raftkv.ServerConfig{Peers: members, SnapshotEvery: uint64(p.Int("snapshot-every")), CatchUpEntries: 16})
	sys := &raftkvSystem{w: w, members: members, rec: &checkers.Recorder{Model: "kv"}}
	now := w.Now
	for i, ops := range SplitOps(plan.Ops, p.Int("clients")) {
		// Every client ends with a read issued when the faults heal: a
		// cluster that never recovers fails the liveness check even if
		// all planned ops timed out before.
		ops = append(ops, Op{Client: i, At: plan.Duration, Kind: OpGet, Key: fmt.Sprintf("k%d", i%p.Int("keys"))})
		d := &Driver{Client: i, Ops: ops, Rec: sys.rec, Now: now}
		sys.drivers = append(sys.drivers, d)
		w.AddNode(clientIDs(p.Int("clients"))[i], func() sim.Node { return &kvClient{driver: d, servers: members} })
	}
	return sys, nil
}

func (s *raftkvSystem) Members() []sim.NodeID { return s.members }

// Leader is the member that believes it leads in the highest term.
func (s *raftkvSystem) Leader() sim.NodeID {
	var lead sim.NodeID
	var term uint64
	for _, id := range s.members {
		srv, ok := s.w.Node(id).(*raftkv.Server)
		if !ok || s.w.Paused(id) {
			continue
		}
		if st := srv.Status(); st.Role == "leader" && st.Term >= term {
			lead, term = id, st.Term
		}
	}
	return lead
}

func (s *raftkvSystem) Done() bool {
	for _, d := range s.drivers {
		if !d.Done() {
			return false
		}
	}
	return true
}

func (s *raftkvSystem) History() checkers.History { return s.rec.History() }

func (s *raftkvSystem) Checkers() []checkers.Checker {
	return []checkers.Checker{checkers.Linearizable{Model: "kv"}}
}

// kvClient is a workload client node: a Driver feeding a raftkv.Client.
// The client nodes never crash, so the driver lives across the run; were a
// client restarted, its pending op would stay unknown, as it should.
type kvClient struct {
	sim.BaseNode
	env     *sim.Env
	driver  *Driver
	servers []sim.NodeID
	client  *raftkv.Client
}

func (c *kvClient) Start(env *sim.Env) {
	c.env = env
	c.client = raftkv.NewClient(env, raftkv.ClientConfig{Servers: c.servers, OpTimeout: 2 * time.Second})
	c.driver.Exec = c.exec
	c.driver.running = false // a restarted client abandons its pending op
	c.driver.Pump(env)
}

func (c *kvClient) exec(op Op, done func(checkers.Output, bool)) {
	kop := raftkv.Op{Key: op.Key, Value: op.Value, Expected: op.Expected, ExpectAbsent: op.Absent}
	switch op.Kind {
	case OpGet:
		kop.Kind = raftkv.OpGet
	case OpPut:
		kop.Kind = raftkv.OpPut
	case OpDelete:
		kop.Kind = raftkv.OpDelete
	case OpCAS:
		kop.Kind = raftkv.OpCAS
	case OpAppend:
		kop.Kind = raftkv.OpAppend
	}
	c.client.Do(kop, func(r raftkv.Result) {
		if r.Err != nil {
			// The client gave up (timeout): a write's outcome is unknown;
			// a read read nothing, but it did not finish either, which the
			// liveness check must see.
			done(checkers.Output{}, true)
			return
		}
		done(checkers.Output{Value: r.Value, Found: r.Found, OK: r.OK}, false)
	})
}

func (c *kvClient) Message(conn sim.ConnID, from sim.NodeID, msg any) {
	c.client.HandleMessage(conn, from, msg)
}

func (c *kvClient) Connected(conn sim.ConnID, peer sim.NodeID) { c.client.HandleConnected(conn, peer) }

func (c *kvClient) Closed(conn sim.ConnID, peer sim.NodeID) { c.client.HandleClosed(conn, peer) }

func (c *kvClient) Timer(id sim.TimerID, tag any) {
	if IsDriverTick(tag) {
		c.driver.Pump(c.env)
		return
	}
	c.client.HandleTimer(id, tag)
}
