package coordinator

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/sofasim/sofasim/checkers"
	coordcheck "github.com/sofasim/sofasim/checkers/coordinator"
	coordnode "github.com/sofasim/sofasim/nodes/coordinator"
	regnode "github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

// system is a built coordinator scenario; it is the deployment's
// Observer and records the typed history.
type system struct {
	w       *sim.World
	tp      topo
	hist    *coordcheck.History
	clients []*client
	index   map[sim.NodeID]int // app -> client index
	healAt  time.Duration
	// TC events are judged once per command: from the first node that
	// reported an Index, during that node's first application of it
	// (replicas apply every command; a restarted replica replays some,
	// its last one included).
	owner  map[uint64]sim.NodeID
	closed map[nodeIndex]bool
	cur    map[sim.NodeID]uint64
	inc    map[sim.NodeID]uint64 // the incarnation cur belongs to
	// clean: since when the end state has been clean (0: not clean).
	clean time.Duration
	// lean records TM events only (benchmarks).
	lean bool
}

type nodeIndex struct {
	node  sim.NodeID
	index uint64
}

func build(w *sim.World, plan *scenarios.Plan, tp topo, ops []Op, lean bool) (*system, error) {
	for i, op := range ops {
		if _, err := op.txn(tp); err != nil {
			return nil, fmt.Errorf("op %d: %v", i, err)
		}
	}
	s := &system{w: w, tp: tp, hist: &coordcheck.History{}, index: map[sim.NodeID]int{}, healAt: time.Duration(plan.Duration),
		owner: map[uint64]sim.NodeID{}, closed: map[nodeIndex]bool{}, cur: map[sim.NodeID]uint64{}, inc: map[sim.NodeID]uint64{}, lean: lean}
	s.tp.cfg.Observer = s
	if tp.reg != nil {
		regnode.AddServers(w, *tp.reg)
	}
	coordnode.AddServers(w, s.tp.cfg)
	for i, own := range scenarios.SplitOps(ops, tp.napps) {
		id := tp.apps()[i]
		s.index[id] = i
		c := &client{idx: i, sys: s}
		c.driver = &scenarios.Driver[Op]{Ops: own, Now: w.Now, Exec: c.exec}
		s.clients = append(s.clients, c)
		w.AddNode(id, func() sim.Node { return c })
	}
	w.At(s.healAt, func() { s.hist.Record(coordcheck.Event{Kind: coordcheck.Heal, T: int64(s.healAt), Client: -1}) })
	return s, nil
}

func (s *system) now() int64 { return int64(s.w.Now()) }

// TC records a TC event the first time its command is applied.
func (s *system) TC(e coordnode.TCEvent) {
	if s.lean {
		return
	}
	if o, ok := s.owner[e.Index]; ok && o != e.Node {
		return
	}
	s.owner[e.Index] = e.Node
	if c, inc := s.cur[e.Node], s.w.Stats(e.Node).Starts; c != e.Index || s.inc[e.Node] != inc {
		s.closed[nodeIndex{e.Node, c}] = true
		s.cur[e.Node], s.inc[e.Node] = e.Index, inc
	}
	if s.closed[nodeIndex{e.Node, e.Index}] {
		return
	}
	ev := coordcheck.Event{Kind: coordcheck.Kind(e.Kind), T: s.now(), Node: string(e.Node), Client: -1, Index: e.Index,
		XID: uint64(e.XID), Branch: uint64(e.Branch), RM: string(e.RM), Keys: e.Keys}
	if e.Kind == coordnode.EvRegister {
		ev.Mode = e.Mode.String()
	}
	if e.Kind == coordnode.EvTransition {
		ev.From = e.From.String()
	}
	if e.Kind == coordnode.EvTransition || e.Kind == coordnode.EvRegister || e.Kind == coordnode.EvEnd || e.Kind == coordnode.EvBegin {
		ev.To = e.To.String()
	}
	if e.Kind == coordnode.EvBranch {
		ev.BranchStatus = e.BranchStatus.String()
	}
	s.hist.Record(ev)
}

// RM records an RM event.
func (s *system) RM(e coordnode.RMEvent) {
	if s.lean {
		return
	}
	ev := coordcheck.Event{Kind: coordcheck.Kind(e.Kind), T: s.now(), Node: string(e.Node), Client: -1, XID: uint64(e.XID), Branch: uint64(e.Branch),
		OK: e.OK, Commit: e.Commit, Err: e.Err, Key: e.Key, Value: e.Value, Version: e.Version, ForUpdate: e.ForUpdate}
	switch e.Kind {
	case coordnode.EvPhaseTwo:
		ev.BranchStatus = e.BranchStatus.String()
	case coordnode.EvFence:
		ev.From, ev.To = string(e.From), string(e.To)
	}
	s.hist.Record(ev)
}

// TM records what an application was told.
func (s *system) TM(e coordnode.TMEvent) {
	ev := coordcheck.Event{Kind: coordcheck.Kind("tm-" + e.Op), T: s.now(), Node: string(e.Node), Client: s.index[e.Node],
		XID: uint64(e.XID), Outcome: string(e.Outcome), Sum: e.Sum, Complete: e.Complete}
	if e.Status != coordnode.StatusUnknown {
		ev.Status = e.Status.String()
	}
	if e.Op == "audit" {
		ev.Outcome = ""
	}
	if c, ok := s.index[e.Node]; ok && e.Op == "begin" && e.Outcome == coordnode.OutcomeCommitted {
		ev.Writes = s.clients[c].cur.writes(s.tp)
		if lt := s.clients[c].list; lt != nil {
			lt.xid = e.XID
		}
	}
	s.hist.Record(ev)
}

func (s *system) Members() []sim.NodeID { return s.tp.members() }

// Leader is the serving TC.
func (s *system) Leader() sim.NodeID {
	for _, id := range s.tp.cfg.TCs {
		if tc, ok := s.w.Node(id).(*coordnode.TC); ok && tc.Serving() && !s.w.Paused(id) {
			return id
		}
	}
	return ""
}

// Done: every client ran its transactions and the end state has been
// clean (nothing open, locked, undone or frozen) for a second.
func (s *system) Done() bool {
	for _, c := range s.clients {
		if !c.driver.Done() {
			return false
		}
	}
	st := coordnode.Inspect(s.w, s.tp.cfg)
	ok := st.ServingTC != "" && len(st.Down) == 0 && len(st.Open) == 0 && len(st.GlobalLocks) == 0 &&
		len(st.UndoLogs) == 0 && len(st.LocalLocks) == 0
	for _, items := range st.Items {
		for _, it := range items {
			ok = ok && it.Frozen == 0
		}
	}
	if !ok {
		s.clean = 0
		return false
	}
	if s.clean == 0 {
		s.clean = s.w.Now()
	}
	return s.w.Now()-s.clean >= time.Second
}

// History is the recorded events with the end state last.
func (s *system) History() *coordcheck.History {
	st := coordnode.Inspect(s.w, s.tp.cfg)
	fs := &coordcheck.State{Money: st.Money, ExpectedMoney: st.ExpectedMoney, InitialStock: st.InitialStock, ServingTC: string(st.ServingTC),
		Balance: s.tp.balance}
	for _, id := range s.tp.cfg.RMs {
		if rm, ok := s.w.Node(id).(*coordnode.RM); ok && rm.DB() != nil {
			accts := rm.Accounts()
			for _, name := range slices.Sorted(maps.Keys(accts)) {
				fs.Accounts = append(fs.Accounts, coordcheck.Account{RM: string(id), Name: name, Balance: accts[name]})
			}
		}
	}
	for _, rm := range slices.Sorted(maps.Keys(st.Items)) {
		for _, name := range slices.Sorted(maps.Keys(st.Items[rm])) {
			it := st.Items[rm][name]
			fs.Items = append(fs.Items, coordcheck.Item{RM: string(rm), Name: name, Stock: it.Stock, Frozen: it.Frozen, Confirmed: it.Confirmed})
		}
	}
	strs := func(m map[sim.NodeID][]string) map[string][]string {
		if len(m) == 0 {
			return nil
		}
		out := map[string][]string{}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			out[string(k)] = m[k]
		}
		return out
	}
	fs.UndoLogs, fs.LocalLocks = strs(st.UndoLogs), strs(st.LocalLocks)
	if len(st.GlobalLocks) > 0 {
		fs.GlobalLocks = map[string]uint64{}
		for _, k := range slices.Sorted(maps.Keys(st.GlobalLocks)) {
			fs.GlobalLocks[k] = uint64(st.GlobalLocks[k])
		}
	}
	for _, o := range st.Open {
		fs.Open = append(fs.Open, coordcheck.Session{XID: uint64(o.XID), Status: o.Status.String()})
	}
	for _, id := range st.Down {
		fs.Down = append(fs.Down, string(id))
	}
	evs := slices.Clip(s.hist.Events)
	for _, c := range s.clients { // list transactions still running: unknown
		if c.list != nil {
			evs = append(evs, c.list.event(c, s.now()))
		}
	}
	evs = append(evs, coordcheck.Event{Kind: coordcheck.Final, T: s.now(), Client: -1, State: fs})
	return &coordcheck.History{Events: evs}
}

func (s *system) Checkers(b scenarios.Bounds) []checkers.CheckerOf[*coordcheck.History] {
	return coordcheck.Checkers(b.Liveness)
}

// client is a workload client node hosting a scripted coordinator App.
type client struct {
	idx    int
	sys    *system
	driver *scenarios.Driver[Op]
	app    *coordnode.App
	env    *sim.Env
	cur    Op       // the transaction running, or last run
	list   *listTxn // the list transaction running
}

func (c *client) Start(env *sim.Env) {
	c.env = env
	c.finishList(nil) // a restart abandons the transaction running
	c.app = coordnode.NewApp(c.sys.tp.cfg, coordnode.Workload{Scripted: true})
	c.app.Start(env)
	c.driver.Start(env)
}

func (c *client) exec(op Op, done func()) {
	c.cur = op
	x, _ := op.txn(c.sys.tp) // build checked every operation
	if op.Kind == OpList {
		c.list, x = c.startList(op, x)
	}
	c.app.Run(x, func(o coordnode.Outcome) {
		c.finishList(&o)
		done()
	})
}

func (c *client) Connected(conn sim.ConnID, p sim.NodeID)      { c.app.Connected(conn, p) }
func (c *client) Closed(conn sim.ConnID, p sim.NodeID)         { c.app.Closed(conn, p) }
func (c *client) Datagram(from sim.NodeID, m any)              { c.app.Datagram(from, m) }
func (c *client) Message(conn sim.ConnID, f sim.NodeID, m any) { c.app.Message(conn, f, m) }
func (c *client) Timer(id sim.TimerID, tag any) {
	if scenarios.IsDriverTick(tag) {
		c.driver.Pump(c.env)
		return
	}
	c.app.Timer(id, tag)
}
