package registry

import (
	"fmt"
	"slices"

	regcheck "github.com/sofasim/sofasim/checkers/registry"
	regnode "github.com/sofasim/sofasim/nodes/registry"

	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

// libHost hosts the registry client library in a workload node:
// messages, connections and timers go to the library, the workload
// driver's ticks to pump (client pumps its own).
type libHost struct {
	sim.BaseNode
	env    *sim.Env
	client *regnode.Client
	pump   func(*sim.Env)
}

func (h *libHost) Message(conn sim.ConnID, from sim.NodeID, msg any) {
	h.client.HandleMessage(conn, from, msg)
}
func (h *libHost) Connected(conn sim.ConnID, peer sim.NodeID) { h.client.HandleConnected(conn, peer) }
func (h *libHost) Closed(conn sim.ConnID, peer sim.NodeID)    { h.client.HandleClosed(conn, peer) }
func (h *libHost) Timer(id sim.TimerID, tag any) {
	if scenarios.IsDriverTick(tag) {
		h.pump(h.env)
		return
	}
	h.client.HandleTimer(id, tag)
}

// client is a workload client node hosting the registry client library.
type client struct {
	libHost
	idx    int
	driver scenarios.Driver[Op]
	sys    *system
	data   int
	live   []curPub // the client's current publishers: one or a few, where a map cost 288 B a client
}

// curPub is a current publisher of a client and its dataInfoId.
type curPub struct{ reg, dataID string }

func (c *client) record(ev regcheck.Event) {
	ev.T, ev.Client = int64(c.sys.w.Now()), c.idx
	if l := c.sys.lean; l != nil {
		l.record(c.sys.rec, ev)
	} else {
		c.sys.rec.Record(ev)
	}
	c.sys.clientEvs++
}

func (c *client) Start(env *sim.Env) {
	c.env = env
	c.client = regnode.NewClient(env, regnode.ClientConfig{
		Sessions: c.sys.cfg.Sessions,
		Liveness: c.sys.cfg.ClientLiveness,
		Hooks:    c,
	})
	c.driver.Start(env)
}

// Timer is libHost's with the driver's ticks pumped directly (no closure
// a client).
func (c *client) Timer(id sim.TimerID, tag any) {
	if scenarios.IsDriverTick(tag) {
		c.driver.Pump(c.env)
		return
	}
	c.client.HandleTimer(id, tag)
}

// The client library's hooks (regnode.ClientHooks).

func (c *client) OnConnected(s sim.NodeID) {
	c.record(regcheck.Event{Kind: regcheck.Connect, Node: string(s)})
}

func (c *client) OnDisconnected(s sim.NodeID) {
	c.record(regcheck.Event{Kind: regcheck.Disconnect, Node: string(s)})
}

func (c *client) OnPublishAck(reg string, v uint64) {
	c.record(regcheck.Event{Kind: regcheck.PublishAck, RegID: reg, Version: v})
}

func (c *client) OnPush(reg string, d *regnode.Datum) {
	if l := c.sys.lean; l != nil {
		l.push(c.idx, reg, d, c.sys.w.Now())
		return
	}
	c.record(pushEvent(reg, d.DataID, d))
}

// pushEvent is the history's record of a push of d to subscriber reg of
// dataID.
func pushEvent(reg, dataID string, d *regnode.Datum) regcheck.Event {
	ev := regcheck.Event{Kind: regcheck.Push, DataID: dataID, RegID: reg, Version: d.Version}
	for _, p := range d.Pubs {
		ev.Pubs = append(ev.Pubs, p.RegID+"="+p.Data)
		ev.PubVers = append(ev.PubVers, p.Version)
	}
	return ev
}

// exec runs an operation at once: the registry client library queues it
// and retries by itself, so the workload never waits for an answer.
func (c *client) exec(op Op, done func()) {
	defer done()
	reg := fmt.Sprintf("c%d-%s", c.idx, op.Name)
	if op.Kind == OpSubscribe {
		reg = fmt.Sprintf("c%d-%s-%s", c.idx, op.Name, op.Service) // one subscriber per service
	}
	switch op.Kind {
	case OpSubscribe:
		c.client.Subscribe(op.Service, reg)
		c.record(regcheck.Event{Kind: regcheck.Subscribe, DataID: op.Service, RegID: reg})
	case OpPublish:
		// A publisher keeps its dataInfoId: an update changes the data only.
		dataID := op.Service
		if cur, ok := c.pubData(reg); ok {
			dataID = cur
		}
		c.data++
		data := fmt.Sprintf("c%d-d%d", c.idx, c.data)
		v := c.client.Publish(dataID, reg, data)
		c.setLive(reg, dataID)
		c.record(regcheck.Event{Kind: regcheck.Publish, DataID: dataID, RegID: reg, Data: data, Version: v})
	case OpUnpublish:
		dataID, ok := c.pubData(reg)
		if !ok {
			return
		}
		c.client.Unpublish(reg)
		i := c.livePub(reg)
		c.live = slices.Delete(c.live, i, i+1)
		c.record(regcheck.Event{Kind: regcheck.Unpublish, DataID: dataID, RegID: reg})
	}
}

func (c *client) pubData(reg string) (string, bool) {
	if i := c.livePub(reg); i >= 0 {
		return c.live[i].dataID, true
	}
	return "", false
}

// setLive records reg as a current publisher of dataID.
func (c *client) setLive(reg, dataID string) {
	if i := c.livePub(reg); i >= 0 {
		c.live[i].dataID = dataID
		return
	}
	c.live = append(c.live, curPub{reg, dataID})
}

func (c *client) livePub(reg string) int {
	return slices.IndexFunc(c.live, func(p curPub) bool { return p.reg == reg })
}
