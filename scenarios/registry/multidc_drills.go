package registry

// registry-multidc's switch drills: an ops console sets dc2's switches for
// dc1 (MultiClusterSyncInfo: push off, sync off, an ignored dataInfoId, a
// synced list of one) by writing provide data to dc2's meta servers, and
// sets them back after a while.

import (
	"maps"
	"slices"
	"time"

	"pgregory.net/rapid"

	regcheck "github.com/sofasim/sofasim/checkers/registry"
	regnode "github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

const mdConsoleID sim.NodeID = "mdops"

// OpDrill is the kind of a drill MDOp (its Drill names which).
const OpDrill = "drill"

// drawMDDrills: up to two switch drills, each set at 2 s..d-6 s for 4-20 s
// (set back by d-1 s). Explicit levels: rapid's ranges lean hard to their
// minimum, and a drill must outlast its lag and settling to be checked, so
// most last 12 s or more. A drill that freezes datums (all but push-off)
// brings changes to a datum it froze, announced by dc1 while it holds
// (after lag and settle: a change announced sooner may still be synced),
// early enough that a push would come before it is set back: without
// them only the workload's few changes test the frozen datums.
func drawMDDrills(t *rapid.T, pubs, services int, d, lag time.Duration) []MDOp {
	var out []MDOp
	n := rapid.SampledFrom([]int{1, 2, 0, 1, 2, 2}).Draw(t, "drills")
	for i := 0; i < n; i++ {
		frac := rapid.SampledFrom([]int{1, 5, 0, 3, 6, 2, 4}).Draw(t, "drill-at")
		at := 2*time.Second + (d-8*time.Second)*time.Duration(frac)/6
		length := min(time.Duration(rapid.SampledFrom([]int{15, 8, 20, 12, 4, 18, 16}).Draw(t, "drill-seconds"))*time.Second, d-time.Second-at)
		op := MDOp{OpTiming: scenarios.OpTiming{At: sim.Duration(at)}, Kind: OpDrill,
			Drill: rapid.SampledFrom(regcheck.MultiDCDrills).Draw(t, "drill-kind"), For: sim.Duration(length)}
		if op.Drill == regcheck.DrillMultiDCIgnore || op.Drill == regcheck.DrillMultiDCSyncOnly {
			op.Service = Service(rapid.IntRange(0, services-1).Draw(t, "drill-service"))
		}
		out = append(out, op)
		out = append(out, drillChanges(t, op, pubs, services, lag)...)
	}
	return out
}

// mdSettle: a sync requested before a switch took effect is answered
// within its 3 s timeout or ignored.
const mdSettle = 4 * time.Second

// drillChanges: one to three publishes by dc1's publishers to a datum the
// freezing drill op froze, between its lag and settle and 4 s (the push
// pipeline's bound) before it is set back. Each is a registration of its
// own per dataInfoId ("x<service>"), so it never clashes with the
// workload's.
func drillChanges(t *rapid.T, op MDOp, pubs, services int, lag time.Duration) []MDOp {
	if op.Drill == regcheck.DrillMultiDCPushOff {
		return nil
	}
	from, to := time.Duration(op.At)+lag+mdSettle+200*time.Millisecond, time.Duration(op.At+op.For)-4*time.Second
	if to <= from {
		return nil
	}
	var out []MDOp
	n := rapid.IntRange(1, 3).Draw(t, "drill-changes")
	for i := 0; i < n; i++ {
		s := rapid.IntRange(0, services-1).Draw(t, "drill-change-service")
		svc := Service(s)
		switch {
		case op.Drill == regcheck.DrillMultiDCIgnore:
			svc = op.Service
		case op.Drill == regcheck.DrillMultiDCSyncOnly && svc == op.Service && services > 1:
			svc = Service((s + 1) % services)
		}
		at := from + time.Duration(scenarios.Spread(t, 0, int64(to-from), "drill-change-at"))
		out = append(out, MDOp{OpTiming: scenarios.OpTiming{Client: rapid.IntRange(0, pubs-1).Draw(t, "drill-change-client"), At: sim.Duration(at)},
			Kind: OpPublish, Service: svc, Reg: "x" + svc})
	}
	return out
}

// mdConsole writes dc2's switches for dc1 to every dc2 meta server until
// each acknowledged, as the composition of the drills in force.
type mdConsole struct {
	consoleConns
	sys     *mdSystem
	driver  *scenarios.Driver[MDOp]
	active  map[int]MDOp // the drills in force, by their order
	drills  int
	version uint64
	unacked map[uint64]*regnode.ProvideWrite // by request
	to      map[uint64]sim.NodeID            // the meta server of each request
}

type (
	mdRetry struct{}
	mdUndo  struct{ drill int }
)

func addMDConsole(w *sim.World, sys *mdSystem, drills []MDOp) {
	c := &mdConsole{sys: sys, consoleConns: consoleConns{conns: map[sim.NodeID]sim.ConnID{}}, active: map[int]MDOp{}, unacked: map[uint64]*regnode.ProvideWrite{}, to: map[uint64]sim.NodeID{}}
	c.driver = &scenarios.Driver[MDOp]{Ops: drills, Now: w.Now, Exec: c.exec}
	sys.console = c
	w.AddNode(mdConsoleID, func() sim.Node { return c })
}

func (c *mdConsole) Start(env *sim.Env) {
	c.env = env
	env.SetTimer(time.Second, mdRetry{})
	c.driver.Start(env)
}

func (c *mdConsole) Message(_ sim.ConnID, _ sim.NodeID, msg any) {
	if a, ok := msg.(*regnode.ProvideWriteAck); ok {
		delete(c.unacked, a.ReqID)
	}
}

func (c *mdConsole) Timer(_ sim.TimerID, tag any) {
	switch t := tag.(type) {
	case mdRetry:
		for _, r := range slices.Sorted(maps.Keys(c.unacked)) {
			c.send(c.to[r], c.unacked[r])
		}
		c.env.SetTimer(time.Second, mdRetry{})
	case mdUndo:
		delete(c.active, t.drill)
		c.write()
	default:
		if scenarios.IsDriverTick(tag) {
			c.driver.Pump(c.env)
		}
	}
}

func (c *mdConsole) exec(op MDOp, done func()) {
	defer done()
	now := int64(c.sys.w.Now())
	c.sys.rec.Record(regcheck.Event{Kind: regcheck.Drill, T: now, Until: now + int64(op.For), Client: -1, Op: op.Drill, Node: mdLocal, DataID: op.Service})
	c.env.Trace("registry/drill", op.Drill)
	c.drills++
	c.active[c.drills] = op
	c.env.SetTimer(time.Duration(op.For), mdUndo{drill: c.drills})
	c.write()
}

// write stores the switches the drills in force make on every dc2 meta.
func (c *mdConsole) write() {
	w := regnode.DefaultMultiDCSwitch
	for _, k := range slices.Sorted(maps.Keys(c.active)) {
		switch op := c.active[k]; op.Drill {
		case regcheck.DrillMultiDCPushOff:
			w.Push = false
		case regcheck.DrillMultiDCSyncOff:
			w.Sync = false
		case regcheck.DrillMultiDCIgnore:
			w.Ignore = append(w.Ignore, op.Service)
		case regcheck.DrillMultiDCSyncOnly:
			// each sync-only drill promises every other dataInfoId
			// frozen, so two at once sync what both name: the
			// intersection (none: nothing syncs)
			if slices.Contains(w.DataIDs, regnode.AcceptAll) || slices.Contains(w.DataIDs, op.Service) {
				w.DataIDs = []string{op.Service}
			} else {
				w.DataIDs = []string{}
			}
		}
	}
	c.version++
	data := regnode.ProvideData{Key: regnode.MultiDCSwitchKey(mdLocal), Values: w.Values(), Version: c.version}
	for _, m := range c.sys.dc2.Metas {
		req := uint64(len(c.to)) + 1
		msg := &regnode.ProvideWrite{ReqID: req, Data: data}
		c.unacked[req], c.to[req] = msg, m
		c.send(m, msg)
	}
}
