package main

// A small scenario for the CLI's tests, registered from test code only:
// one durable key-value server and a few clients that run the KV
// workload through scenarios.Driver. Its planted bugs make the
// linearizability checker fail (stale-read) or a node panic (panic).
// Test-only parameters make the harness crash or hang on one seed, for
// the sweep's worker-failure tests.

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/scenarios"
	kvw "github.com/sofasim/sofasim/scenarios/raftkv"
	"github.com/sofasim/sofasim/sim"
)

const (
	testScenario  = "testonly-kv"
	bugStaleRead  = "bug/testonly/stale-read"
	bugPanic      = "bug/testonly/panic-on-delete"
	testServer    = sim.NodeID("server")
	testLogFile   = "kv.log"
	testOpTimeout = 500 * time.Millisecond
)

func init() {
	scenarios.Register(scenarios.Define(scenarios.Spec[kvw.Op, checkers.History]{
		Name:        testScenario,
		Description: "test only: one durable key-value server and its clients under crashes, pauses and network faults",
		Params: []scenarios.Param{
			scenarios.Int("clients", 3, 1, 8, "workload clients"),
			scenarios.Int("ops", 30, 1, 5000, "most operations drawn"),
			scenarios.Int("faults", 3, 0, 50, "most fault episodes drawn"),
			scenarios.Dur("duration", 10*time.Second, "virtual duration of the safety phase"),
			scenarios.Int("exit_seed", 0, 0, 1<<30, "test only: the harness exits on this seed (0: never)"),
			scenarios.Int("hang_seed", 0, 0, 1<<30, "test only: the harness hangs on this seed (0: never)"),
			scenarios.Int("panic_seed", 0, 0, 1<<30, "test only: the harness panics on this seed (0: never)"),
		},
		Bugs: []sim.Bug{
			{Name: bugStaleRead, Description: "a get returns the value the key had before its last write"},
			{Name: bugPanic, Description: "the server panics on delete"},
		},
		OpKinds: kvw.OpKinds,
		Kind:    func(op kvw.Op) string { return op.Kind },
		Nodes:   testNodes,
		Clients: func(p scenarios.Values) int { return p.Int("clients") },
		Draw: func(t *rapid.T, p scenarios.Values) scenarios.Draft[kvw.Op] {
			d := p.Duration("duration")
			return scenarios.Draft[kvw.Op]{
				Duration: sim.Duration(d),
				Liveness: sim.Duration(10 * time.Second),
				Ops:      kvw.DrawOps(t, kvw.Spec{Clients: p.Int("clients"), Keys: 3, MaxOps: p.Int("ops"), Duration: d}),
				Faults: scenarios.DrawFaults(t, scenarios.NemesisSpec{
					Members: []sim.NodeID{testServer}, All: testNodes(p), Duration: d, MaxEpisode: p.Int("faults"),
					Families: []string{scenarios.FamilyCrash, scenarios.FamilyPause, scenarios.FamilyNet},
				}),
			}
		},
		Build: buildTestKV,
	}))
}

func testNodes(p scenarios.Values) []sim.NodeID {
	ids := []sim.NodeID{testServer}
	for i := 0; i < p.Int("clients"); i++ {
		ids = append(ids, sim.NodeID(fmt.Sprintf("c%d", i)))
	}
	return ids
}

// testKV is the built system.
type testKV struct {
	w       *sim.World
	rec     *checkers.Recorder
	drivers []*scenarios.Driver[kvw.Op]
	clients []*kvClient
}

func buildTestKV(w *sim.World, plan *scenarios.Plan, p scenarios.Values, all []kvw.Op) (scenarios.System[checkers.History], error) {
	on := func(param string) bool { n := p.Int(param); return n != 0 && uint64(n) == plan.Seed }
	switch {
	case on("exit_seed"):
		fmt.Fprintln(os.Stderr, "testonly-kv: exiting on purpose")
		os.Exit(42)
	case on("hang_seed"):
		time.Sleep(time.Hour)
	case on("panic_seed"):
		panic("testonly-kv: harness panic on purpose")
	}
	sys := &testKV{w: w, rec: &checkers.Recorder{Model: "kv"}}
	w.AddNode(testServer, func() sim.Node { return &kvServer{} })
	ops := scenarios.SplitOps(all, p.Int("clients"))
	sys.clients = make([]*kvClient, len(ops))
	for i := range ops {
		d := &scenarios.Driver[kvw.Op]{Ops: ops[i], Now: w.Now}
		d.Exec = func(op kvw.Op, done func()) {
			id := sys.rec.Invoke(int64(w.Now()), i, op.Key, checkers.Input{Kind: op.Kind, Value: op.Value, Expected: op.Expected, ExpectAbsent: op.Absent})
			sys.clients[i].exec(op, func(out checkers.Output) {
				sys.rec.Complete(int64(w.Now()), id, out)
				done()
			})
		}
		sys.drivers = append(sys.drivers, d)
		w.AddNode(sim.NodeID(fmt.Sprintf("c%d", i)), func() sim.Node {
			c := &kvClient{idx: i, driver: d}
			sys.clients[i] = c
			return c
		})
	}
	return sys, nil
}

func (s *testKV) Members() []sim.NodeID { return []sim.NodeID{testServer} }

func (s *testKV) Leader() sim.NodeID {
	if s.w.Up(testServer) {
		return testServer
	}
	return ""
}

func (s *testKV) Done() bool {
	for _, d := range s.drivers {
		if !d.Done() {
			return false
		}
	}
	return true
}

func (s *testKV) History() checkers.History { return s.rec.History() }

func (s *testKV) Checkers(b scenarios.Bounds) []checkers.Checker {
	return []checkers.Checker{checkers.Linearizable{Model: "kv"}, checkers.Liveness{HealedAt: b.HealAt, Bound: b.Liveness, End: b.End}}
}

// Messages. A client retries a request until it is answered (after a
// timeout, or on a new connection); the server answers a retry from its
// table of each client's last answer and drops older duplicates, and its
// log keeps the writes' entries across crashes. So every operation
// completes once faults heal, exactly once.
type kvRequest struct {
	Client int
	ID     uint64
	Op     kvw.Op
}

type kvReply struct {
	ID  uint64
	Out checkers.Output
}

// kvServer keeps the store in memory and a log of writes on disk, synced
// before it answers.
type kvServer struct {
	sim.BaseNode
	env  *sim.Env
	data map[string]string
	prev map[string]string // a key's value before its last write (for the stale-read bug)
	last map[int]kvReply   // each client's last answer
}

func (s *kvServer) Start(env *sim.Env) {
	s.env = env
	s.data, s.prev, s.last = map[string]string{}, map[string]string{}, map[int]kvReply{}
	b, err := env.Disk().ReadFile(testLogFile)
	if err != nil {
		return
	}
	end := strings.LastIndexByte(string(b), '\n') + 1
	if end < len(b) {
		_ = env.Disk().Truncate(testLogFile, int64(end)) // a torn last record
		_ = env.Disk().Sync(testLogFile)
	}
	for _, line := range strings.Split(string(b[:end]), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 6 {
			continue
		}
		client, _ := strconv.Atoi(f[3])
		id, _ := strconv.ParseUint(f[4], 10, 64)
		s.set(f[1], f[2], f[0] == "P")
		s.last[client] = kvReply{ID: id, Out: checkers.Output{OK: f[5] == "ok"}}
	}
}

func (s *kvServer) set(key, value string, present bool) {
	if old, ok := s.data[key]; ok {
		s.prev[key] = old
	}
	if present {
		s.data[key] = value
	} else {
		delete(s.data, key)
	}
}

func (s *kvServer) Message(c sim.ConnID, _ sim.NodeID, msg any) {
	req, ok := msg.(kvRequest)
	if !ok {
		return
	}
	if last, ok := s.last[req.Client]; ok && req.ID <= last.ID {
		if req.ID == last.ID {
			s.env.Send(c, last) // a retry of the request answered last
		}
		return // a stale duplicate
	}
	op := req.Op
	var out checkers.Output
	record, value := "", op.Value
	cur, found := s.data[op.Key]
	switch op.Kind {
	case checkers.KindGet:
		out = checkers.Output{Value: cur, Found: found}
		if old, ok := s.prev[op.Key]; ok && found {
			if _, fire := s.env.Failpoint(bugStaleRead); fire {
				out.Value = old
			}
		}
	case checkers.KindPut:
		record = "P\t" + op.Key + "\t" + op.Value
	case checkers.KindAppend:
		value = cur + op.Value
		record = "P\t" + op.Key + "\t" + value
	case checkers.KindDelete:
		if _, fire := s.env.Failpoint(bugPanic); fire {
			panic("planted bug: delete of " + op.Key)
		}
		record = "D\t" + op.Key + "\t"
	case checkers.KindCAS:
		if (op.Absent && !found) || (!op.Absent && found && cur == op.Expected) {
			out.OK = true
			record = "P\t" + op.Key + "\t" + op.Value
		}
	}
	if record != "" {
		ok := "-"
		if out.OK {
			ok = "ok"
		}
		line := fmt.Sprintf("%s\t%d\t%d\t%s\n", record, req.Client, req.ID, ok)
		if _, err := s.env.Disk().Append(testLogFile, []byte(line)); err == nil {
			if err := s.env.Disk().Sync(testLogFile); err != nil {
				s.env.Exit("sync failed: " + err.Error())
				return
			}
		}
		s.set(op.Key, value, op.Kind != checkers.KindDelete)
	}
	// Every answer is remembered, so that a duplicate that arrives after it
	// (retries pile up while the server is paused) is not applied again;
	// the log keeps the writes' across crashes, which drop pending duplicates.
	s.last[req.Client] = kvReply{ID: req.ID, Out: out}
	s.env.Trace("apply", op.Kind, op.Key)
	s.env.Send(c, kvReply{ID: req.ID, Out: out})
}

// kvClient sends its driver's operations to the server, one at a time,
// and retries each until it is answered.
type kvClient struct {
	sim.BaseNode
	env       *sim.Env
	idx       int
	driver    *scenarios.Driver[kvw.Op]
	conn      sim.ConnID
	connected bool
	nextID    uint64
	pending   *kvRequest
	timer     sim.TimerID
	done      func(checkers.Output)
}

type redialTick struct{}
type opTimeout struct{ id uint64 }

func (c *kvClient) Start(env *sim.Env) {
	c.env = env
	c.dial()
	c.driver.Start(env)
}

func (c *kvClient) dial() { c.conn, c.connected = c.env.Dial(testServer), false }

func (c *kvClient) Connected(conn sim.ConnID, _ sim.NodeID) {
	if conn == c.conn {
		c.connected = true
		c.send()
	}
}

func (c *kvClient) Closed(conn sim.ConnID, _ sim.NodeID) {
	if conn != c.conn {
		return
	}
	c.conn, c.connected = 0, false
	c.env.SetTimer(100*time.Millisecond, redialTick{})
}

func (c *kvClient) Message(_ sim.ConnID, _ sim.NodeID, msg any) {
	r, ok := msg.(kvReply)
	if !ok || c.pending == nil || r.ID != c.pending.ID {
		return
	}
	c.env.CancelTimer(c.timer)
	done := c.done
	c.pending, c.done = nil, nil
	done(r.Out)
}

func (c *kvClient) Timer(_ sim.TimerID, tag any) {
	switch t := tag.(type) {
	case redialTick:
		c.dial()
	case opTimeout:
		if c.pending != nil && t.id == c.pending.ID {
			c.send() // no answer yet: ask again
		}
	default:
		if scenarios.IsDriverTick(tag) {
			c.driver.Pump(c.env)
		}
	}
}

func (c *kvClient) exec(op kvw.Op, done func(checkers.Output)) {
	c.nextID++
	c.pending, c.done = &kvRequest{Client: c.idx, ID: c.nextID, Op: op}, done
	c.send()
}

// send sends the pending request if connected, and arms its retry timer.
func (c *kvClient) send() {
	if c.pending == nil {
		return
	}
	if c.connected {
		c.env.Send(c.conn, *c.pending)
	}
	c.env.CancelTimer(c.timer)
	c.timer = c.env.SetTimer(testOpTimeout, opTimeout{c.pending.ID})
}
