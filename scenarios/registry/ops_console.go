package registry

// The ops console: a node that issues the plan's drills as an operator
// would, through the servers' ops interfaces (provide data written to every
// meta server, the zone API of session servers, a data server's quit).

import (
	"fmt"
	"maps"
	"slices"
	"time"

	regcheck "github.com/sofasim/sofasim/checkers/registry"
	regnode "github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

const opsConsoleID sim.NodeID = "ops"

// consoleConns is an ops console's connections to the servers it drives:
// dialled on first use, forgotten when one closes.
type consoleConns struct {
	sim.BaseNode
	env   *sim.Env
	conns map[sim.NodeID]sim.ConnID
}

func (c *consoleConns) send(to sim.NodeID, msg any) {
	conn, ok := c.conns[to]
	if !ok {
		conn = c.env.Dial(to)
		c.conns[to] = conn
	}
	if !c.env.Send(conn, msg) {
		delete(c.conns, to)
	}
}

func (c *consoleConns) Closed(conn sim.ConnID, peer sim.NodeID) {
	if c.conns[peer] == conn {
		delete(c.conns, peer)
	}
}

// console writes provide data to every meta server until each has
// acknowledged it, and repeats a zone's or a data server's order every
// second while the drill lasts (their state is in memory: a restarted
// server forgets it).
type console struct {
	consoleConns
	sys     *system
	driver  *scenarios.Driver[OpsOp]
	values  map[string][]string // provide data as last written
	version uint64
	unacked map[uint64]pendingWrite
	nextReq uint64
	orders  map[int]order // drill index -> what to repeat
	nextOrd int
	// a force refresh not yet answered OK, asked again every second until refreshUntil
	refresh      uint64
	refreshUntil time.Duration
}

type pendingWrite struct {
	meta sim.NodeID
	msg  *regnode.ProvideWrite
}

type order struct {
	to  []sim.NodeID
	msg any
}

type (
	consoleRetry  struct{}
	consoleUndo   struct{ op OpsOp }
	consoleResend order
)

func addConsole(w *sim.World, sys *system, drills []OpsOp) {
	c := &console{sys: sys, consoleConns: consoleConns{conns: map[sim.NodeID]sim.ConnID{}}, values: map[string][]string{}, unacked: map[uint64]pendingWrite{}, orders: map[int]order{}}
	c.driver = &scenarios.Driver[OpsOp]{Ops: drills, Now: w.Now, Exec: c.exec}
	w.AddNode(opsConsoleID, func() sim.Node { return c })
}

func (c *console) Start(env *sim.Env) {
	c.env = env
	env.SetTimer(time.Second, consoleRetry{})
	c.driver.Start(env)
}

func (c *console) Message(_ sim.ConnID, _ sim.NodeID, msg any) {
	if a, ok := msg.(*regnode.ProvideWriteAck); ok {
		delete(c.unacked, a.ReqID)
	}
	if r, ok := msg.(*regnode.SlotForceRefreshResp); ok && r.OK && r.ReqID == c.refresh {
		c.refresh = 0
	}
}

func (c *console) Timer(_ sim.TimerID, tag any) {
	switch t := tag.(type) {
	case consoleRetry:
		for _, r := range slices.Sorted(maps.Keys(c.unacked)) {
			c.send(c.unacked[r].meta, c.unacked[r].msg)
		}
		for _, k := range slices.Sorted(maps.Keys(c.orders)) {
			for _, to := range c.orders[k].to {
				c.send(to, c.orders[k].msg)
			}
		}
		if c.refresh != 0 && c.sys.w.Now() > c.refreshUntil {
			c.refresh = 0 // no leader took it: the operator gives up
		}
		if c.refresh != 0 {
			for _, m := range c.sys.cfg.Metas {
				c.send(m, &regnode.SlotForceRefresh{ReqID: c.refresh})
			}
		}
		c.env.SetTimer(time.Second, consoleRetry{})
	case consoleUndo:
		c.apply(t.op, true)
	case consoleResend:
		for _, to := range t.to {
			c.send(to, t.msg)
		}
	default:
		if scenarios.IsDriverTick(tag) {
			c.driver.Pump(c.env)
		}
	}
}

func (c *console) exec(op OpsOp, done func()) {
	defer done()
	d := op.Drill
	ev := regcheck.Event{Kind: regcheck.Drill, T: int64(c.sys.w.Now()), Client: -1, Op: d.What, DataID: d.DataID, Data: d.Value, Node: string(d.Node), Clients: d.Clients}
	if d.For > 0 {
		ev.Until = ev.T + int64(d.For)
		c.env.SetTimer(time.Duration(d.For), consoleUndo{op: op})
	}
	if d.What == regcheck.DrillClientOffZone {
		ev.Node = fmt.Sprintf("zone-%d", d.Zone)
		for _, s := range c.zone(d.Zone) {
			ev.Sessions = append(ev.Sessions, string(s))
		}
	}
	c.sys.rec.Record(ev)
	c.env.Trace("registry/drill", d.What)
	c.apply(op, false)
}

// apply issues a drill (undo: lifts it).
func (c *console) apply(op OpsOp, undo bool) {
	d := op.Drill
	addrs := clientAddrs(d.Clients)
	key := int(op.At) // a drill's orders are found again by its time
	switch d.What {
	case regcheck.DrillStopPush:
		if undo {
			c.write(regnode.ProvideStopPush, nil)
			c.write(regnode.ProvideGrayPush, nil)
		} else {
			c.write(regnode.ProvideGrayPush, addrs)
			c.write(regnode.ProvideStopPush, []string{"on"})
		}
	case regcheck.DrillClientOff:
		c.write(regnode.ProvideClientOff, setOp(c.values[regnode.ProvideClientOff], addrs, undo))
	case regcheck.DrillClientOffZone:
		c.order(key, c.zone(d.Zone), &regnode.ClientOffZone{Addrs: addrs, Open: undo}, undo)
	case regcheck.DrillBlacklistData:
		c.write(regnode.ProvideBlackDataID, setOp(c.values[regnode.ProvideBlackDataID], []string{d.DataID}, undo))
	case regcheck.DrillDataQuit:
		c.order(key, []sim.NodeID{d.Node}, &regnode.ServerQuit{Join: undo}, undo)
	case regcheck.DrillSetConfig:
		c.write(regnode.ConfigKey(d.DataID), []string{d.Value})
	case regcheck.DrillMetaQuit:
		for _, m := range c.sys.cfg.Metas {
			c.send(m, &regnode.MetaQuitElection{})
		}
	case regcheck.DrillReconcileStop: // in each meta's memory: repeated while it lasts
		c.order(key, c.sys.cfg.Metas, &regnode.SlotReconcile{Stop: !undo}, undo)
	case regcheck.DrillForceRefresh: // the leader answers OK; asked again for DrillLag
		c.nextReq++
		c.refresh, c.refreshUntil = c.nextReq, c.sys.w.Now()+time.Duration(regcheck.DrillLag)
		for _, m := range c.sys.cfg.Metas {
			c.send(m, &regnode.SlotForceRefresh{ReqID: c.refresh})
		}
	}
}

// order sends msg now and repeats it every second while the drill lasts;
// the undoing order is sent twice.
func (c *console) order(key int, to []sim.NodeID, msg any, undo bool) {
	for _, n := range to {
		c.send(n, msg)
	}
	if undo {
		delete(c.orders, key)
		c.env.SetTimer(time.Second, consoleResend(order{to: to, msg: msg}))
		return
	}
	c.orders[key] = order{to: to, msg: msg}
}

// write stores a provide data value on every meta server.
func (c *console) write(key string, values []string) {
	c.version++
	c.values[key] = values
	for _, m := range c.sys.cfg.Metas {
		c.nextReq++
		w := &regnode.ProvideWrite{ReqID: c.nextReq, Data: regnode.ProvideData{Key: key, Values: values, Version: c.version}}
		c.unacked[c.nextReq] = pendingWrite{meta: m, msg: w}
		c.send(m, w)
	}
}

// zone lists the session servers of a zone.
func (c *console) zone(z int) []sim.NodeID {
	var out []sim.NodeID
	for i, s := range c.sys.cfg.Sessions {
		if i%opsZones == z {
			out = append(out, s)
		}
	}
	return out
}

func clientAddrs(idx []int) []string {
	ids := scenarios.ClientIDs(maxIdx(idx) + 1)
	var out []string
	for _, i := range idx {
		out = append(out, string(ids[i]))
	}
	return out
}

func maxIdx(idx []int) int {
	m := 0
	for _, i := range idx {
		m = max(m, i)
	}
	return m
}

// setOp adds (or with remove, takes out) items of a sorted set.
func setOp(set, items []string, remove bool) []string {
	in := map[string]bool{}
	for _, s := range set {
		in[s] = true
	}
	for _, s := range items {
		in[s] = !remove
	}
	var out []string
	for _, s := range slices.Sorted(maps.Keys(in)) {
		if in[s] {
			out = append(out, s)
		}
	}
	return out
}
