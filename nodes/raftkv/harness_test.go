package raftkv

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// traceTo, when set, receives the full trace of the worlds built (debugging).
var traceTo io.Writer

// cluster is a test world: servers, KV workload clients and a history.
type cluster struct {
	w       *sim.World
	cfg     ServerConfig
	servers []sim.NodeID
	clients []sim.NodeID
	hist    []porcupine.Operation
	stopAt  time.Duration // clients issue no new ops after this
	okOps   int
	unknown int
	failed  int
}

type clusterOpts struct {
	members int
	spares  int
	clients int
	keys    int
	think   time.Duration
	cfg     func(*ServerConfig)
	ccfg    func(*ClientConfig)
	opMix   func(r *rand.Rand) OpKind
	torn    bool
	// servers lists the servers client i knows (default: all).
	servers func(i int, all []sim.NodeID) []sim.NodeID
	bugs    []string // failpoints armed from the start
	// mixFor overrides opMix for some clients (nil: opMix).
	mixFor func(i int) func(r *rand.Rand) OpKind
}

func newCluster(seed uint64, o clusterOpts) *cluster {
	if o.keys == 0 {
		o.keys = 3
	}
	if o.think == 0 {
		o.think = 20 * time.Millisecond
	}
	w := sim.NewWorld(sim.Config{Seed: seed, TornWrites: o.torn, Trace: traceTo})
	c := &cluster{w: w, stopAt: time.Duration(math.MaxInt64)}
	for i := 0; i < o.members+o.spares; i++ {
		c.servers = append(c.servers, sim.NodeID(fmt.Sprintf("s%d", i+1)))
	}
	c.cfg = ServerConfig{Peers: c.servers[:o.members], Spares: c.servers[o.members:], SnapshotEvery: 200, CatchUpEntries: 50}
	if o.cfg != nil {
		o.cfg(&c.cfg)
	}
	AddServers(w, c.cfg)
	for i := 0; i < o.clients; i++ {
		id := sim.NodeID(fmt.Sprintf("c%d", i+1))
		c.clients = append(c.clients, id)
		idx := i
		w.AddNode(id, func() sim.Node {
			n := &kvClientNode{c: c, idx: idx, keys: o.keys, think: o.think, opMix: o.opMix}
			if o.mixFor != nil {
				if m := o.mixFor(idx); m != nil {
					n.opMix = m
				}
			}
			n.ccfg = ClientConfig{Servers: c.servers}
			if o.servers != nil {
				n.ccfg.Servers = o.servers(idx, c.servers)
			}
			if o.ccfg != nil {
				o.ccfg(&n.ccfg)
			}
			return n
		})
	}
	for _, b := range o.bugs {
		if err := w.Inject(sim.ArmFailpoint{Failpoint: b}); err != nil {
			panic(err)
		}
	}
	return c
}

func (c *cluster) server(id sim.NodeID) *Server {
	if n := c.w.Node(id); n != nil {
		return n.(*Server)
	}
	return nil
}

// leader returns the live leader with the highest term, or "".
func (c *cluster) leader() sim.NodeID {
	var best sim.NodeID
	var term uint64
	for _, id := range c.servers {
		if s := c.server(id); s != nil && !c.w.Paused(id) {
			if st := s.Status(); st.Role == "leader" && st.Term >= term {
				best, term = id, st.Term
			}
		}
	}
	return best
}

func (c *cluster) followers() []sim.NodeID {
	l := c.leader()
	var out []sim.NodeID
	for _, id := range c.cfg.Peers {
		if id != l {
			out = append(out, id)
		}
	}
	return out
}

// at schedules fn at virtual time t.
func (c *cluster) at(t time.Duration, fn func()) { c.w.At(t, fn) }

func (c *cluster) inject(t *testing.T, op sim.FaultOp) {
	require.NoError(t, c.w.Inject(op))
}

// run runs the world to the given time and stops the clients at stop.
func (c *cluster) run(until time.Duration) {
	c.w.Run(sim.Limits{Until: until})
}

// kvClientNode is a workload client: one op at a time, a think time
// between ops, unique values for writes, everything recorded.
type kvClientNode struct {
	sim.BaseNode
	c     *cluster
	idx   int
	keys  int
	think time.Duration
	opMix func(r *rand.Rand) OpKind
	ccfg  ClientConfig
	env   *sim.Env
	cl    *Client
	rng   *rand.Rand
	n     int
	seen  map[string]string
}

type opTag struct{}

func (n *kvClientNode) Start(env *sim.Env) {
	n.env = env
	n.rng = env.Rand()
	n.cl = NewClient(env, n.ccfg)
	n.seen = map[string]string{}
	env.SetTimer(n.think, opTag{})
}

func (n *kvClientNode) Message(conn sim.ConnID, from sim.NodeID, msg any) {
	n.cl.HandleMessage(conn, from, msg)
}
func (n *kvClientNode) Connected(conn sim.ConnID, peer sim.NodeID) { n.cl.HandleConnected(conn, peer) }
func (n *kvClientNode) Closed(conn sim.ConnID, peer sim.NodeID)    { n.cl.HandleClosed(conn, peer) }

func (n *kvClientNode) Timer(id sim.TimerID, tag any) {
	if n.cl.HandleTimer(id, tag) {
		return
	}
	if _, ok := tag.(opTag); ok {
		n.issue()
	}
}

func defaultMix(r *rand.Rand) OpKind {
	switch x := r.IntN(100); {
	case x < 40:
		return OpGet
	case x < 65:
		return OpPut
	case x < 90:
		return OpCAS
	default:
		return OpDelete
	}
}

func (n *kvClientNode) issue() {
	w := n.c.w
	if w.Now() >= n.c.stopAt {
		return
	}
	mix := n.opMix
	if mix == nil {
		mix = defaultMix
	}
	n.n++
	key := fmt.Sprintf("k%d", n.rng.IntN(n.keys))
	op := Op{Kind: mix(n.rng), Key: key}
	val := fmt.Sprintf("c%d.%d.%d", n.idx, n.env.Incarnation(), n.n)
	switch op.Kind {
	case OpPut:
		op.Value = val
	case OpAppend:
		op.Value = val + ";"
	case OpCAS:
		op.Value = val
		if prev, ok := n.seen[key]; ok && n.rng.IntN(4) != 0 {
			op.Expected = prev
		} else {
			op.ExpectAbsent = true
		}
	}
	call := w.Now()
	n.cl.Do(op, func(r Result) {
		n.c.record(n.idx, op, r, call, w.Now())
		if r.Err == nil && r.Found {
			n.seen[key] = r.Value
		}
		if r.Err == nil && op.Kind == OpPut {
			n.seen[key] = op.Value
		}
		n.env.SetTimer(n.think, opTag{})
	})
}

// KV linearizability model (per key), for porcupine.

type kvIn struct{ op Op }

type kvOut struct {
	res     Result
	unknown bool
}

type kvState struct {
	present bool
	v       string
}

func (c *cluster) record(client int, op Op, r Result, call, ret time.Duration) {
	out := kvOut{res: r}
	switch {
	case r.Err == nil:
		c.okOps++
	case op.IsRead():
		c.failed++
		return // a failed read did nothing
	default:
		out.unknown = true
		c.unknown++
		ret = time.Duration(math.MaxInt64)
	}
	c.hist = append(c.hist, porcupine.Operation{ClientId: client, Input: kvIn{op}, Output: out, Call: int64(call), Return: int64(ret)})
}

var kvModel = porcupine.Model{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		by := map[string][]porcupine.Operation{}
		var keys []string
		for _, o := range h {
			k := o.Input.(kvIn).op.Key
			if _, ok := by[k]; !ok {
				keys = append(keys, k)
			}
			by[k] = append(by[k], o)
		}
		sort.Strings(keys)
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, by[k])
		}
		return out
	},
	Init: func() any { return kvState{} },
	Step: func(state, input, output any) (bool, any) {
		st, op, out := state.(kvState), input.(kvIn).op, output.(kvOut)
		r := out.res
		switch op.Kind {
		case OpGet:
			return r.Found == st.present && (!st.present || r.Value == st.v), st
		case OpPut:
			return true, kvState{true, op.Value}
		case OpDelete:
			return out.unknown || r.Found == st.present, kvState{}
		case OpAppend:
			ns := kvState{true, st.v + op.Value}
			return out.unknown || r.Value == ns.v, ns
		case OpCAS:
			swap := (op.ExpectAbsent && !st.present) || (!op.ExpectAbsent && st.present && st.v == op.Expected)
			next := st
			if swap {
				next = kvState{true, op.Value}
			}
			if out.unknown {
				return true, next
			}
			return r.OK == swap && r.Found == st.present && (!st.present || r.Value == st.v), next
		}
		return false, st
	},
	Equal: func(a, b any) bool { return a.(kvState) == b.(kvState) },
	DescribeOperation: func(in, out any) string {
		o := out.(kvOut)
		if o.unknown {
			return in.(kvIn).op.String() + " -> unknown"
		}
		return in.(kvIn).op.String() + " -> " + o.res.String()
	},
}

// linearizable checks the recorded history.
func (c *cluster) linearizable(t *testing.T) porcupine.CheckResult {
	res, _ := porcupine.CheckOperationsVerbose(kvModel, c.hist, 20*time.Second)
	return res
}

// converged checks that every live member has applied the same index and
// holds the same state.
func (c *cluster) converged(t *testing.T) {
	t.Helper()
	var ref []byte
	var refID sim.NodeID
	var applied uint64
	l := c.leader()
	require.NotEmpty(t, l, "a leader")
	members := c.server(l).Status().Members
	for _, id := range c.servers {
		s := c.server(id)
		if s == nil || !containsID(members, id) {
			continue
		}
		st := s.Status()
		snap := s.StateMachine().Snapshot()
		if ref == nil {
			ref, refID, applied = snap, id, st.Applied
			continue
		}
		require.Equal(t, applied, st.Applied, "applied index of %s vs %s", id, refID)
		require.Equal(t, string(ref), string(snap), "state of %s vs %s", id, refID)
	}
}

func containsID(ids []sim.NodeID, id sim.NodeID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func (c *cluster) noFindings(t *testing.T) {
	t.Helper()
	var b strings.Builder
	for _, f := range c.w.Findings() {
		fmt.Fprintln(&b, f.String())
		fmt.Fprintln(&b, f.Stack)
	}
	require.Empty(t, c.w.Findings(), b.String())
}

// twice runs build+run twice with the same seed and requires equal
// fingerprints; it returns the first run's cluster.
func twice(t *testing.T, seed uint64, run func(seed uint64) *cluster) *cluster {
	t.Helper()
	a := run(seed)
	b := run(seed)
	require.Equal(t, a.w.Fingerprint(), b.w.Fingerprint(), "same seed, different fingerprints")
	require.Equal(t, len(a.hist), len(b.hist))
	return a
}
