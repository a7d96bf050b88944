package registry

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// opsHost stands for the ops console: it sends orders over its own
// connections.
type opsHost struct {
	sim.BaseNode
	env   *sim.Env
	conns map[sim.NodeID]sim.ConnID
	ver   uint64
}

func (o *opsHost) Start(env *sim.Env) { o.env, o.conns = env, map[sim.NodeID]sim.ConnID{} }

func (o *opsHost) send(to sim.NodeID, msg any) {
	if _, ok := o.conns[to]; !ok {
		o.conns[to] = o.env.Dial(to)
	}
	o.env.Send(o.conns[to], msg)
}

func (o *opsHost) provide(cfg Config, key string, values ...string) {
	o.ver++
	for _, m := range cfg.Metas {
		o.send(m, &ProvideWrite{ReqID: o.ver, Data: ProvideData{Key: key, Values: values, Version: o.ver}})
	}
}

func newOpsWorld(t *testing.T) (*sim.World, Config, *opsHost, *testHost, *testHost) {
	w, cfg := newTestWorld(t, 3)
	ops := &opsHost{}
	pub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Publish("svc", "p1", "a") }}
	sub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Subscribe("svc", "s1") }}
	w.AddNode("ops", func() sim.Node { return ops })
	w.AddNode("pub", func() sim.Node { return pub })
	w.AddNode("sub", func() sim.Node { return sub })
	w.Run(sim.Limits{Until: 3 * time.Second})
	require.Equal(t, []string{"p1=a"}, sub.last())
	return w, cfg, ops, pub, sub
}

// TestStopPushHoldsThenResumes: nothing is pushed while push is stopped
// (but to a gray address); the subscriber gets the change once it resumes.
func TestStopPushHoldsThenResumes(t *testing.T) {
	w, cfg, ops, pub, sub := newOpsWorld(t)
	w.At(3*time.Second, func() { ops.provide(cfg, ProvideStopPush, "on") })
	w.At(5*time.Second, func() { pub.client.Publish("svc", "p1", "b") })
	w.Run(sim.Limits{Until: 8 * time.Second})
	require.Equal(t, []string{"p1=a"}, sub.last(), "held while stopped")
	w.At(8*time.Second, func() { ops.provide(cfg, ProvideGrayPush, "sub") })
	w.Run(sim.Limits{Until: 11 * time.Second})
	require.Equal(t, []string{"p1=b"}, sub.last(), "a gray address is still pushed")
	w.At(11*time.Second, func() { ops.provide(cfg, ProvideGrayPush) })
	w.At(12500*time.Millisecond, func() { pub.client.Publish("svc", "p1", "c") })
	w.Run(sim.Limits{Until: 14 * time.Second})
	require.Equal(t, []string{"p1=b"}, sub.last(), "held again once no longer gray")
	w.At(14*time.Second, func() { ops.provide(cfg, ProvideStopPush) })
	w.Run(sim.Limits{Until: 17 * time.Second})
	require.Equal(t, []string{"p1=c"}, sub.last(), "pushed once push resumed")
	require.Empty(t, w.Findings())
}

// TestClientOffThenOpen: a switched-off client loses its publisher and
// gets no push; client-open makes it reconnect and register again.
func TestClientOffThenOpen(t *testing.T) {
	for _, zone := range []bool{false, true} {
		w, cfg, ops, pub, sub := newOpsWorld(t)
		off := func(open bool) {
			if zone {
				for _, s := range cfg.Sessions {
					ops.send(s, &ClientOffZone{Addrs: []string{"pub", "sub"}, Open: open})
				}
			} else if open {
				ops.provide(cfg, ProvideClientOff)
			} else {
				ops.provide(cfg, ProvideClientOff, "pub", "sub")
			}
		}
		w.At(3*time.Second, func() { off(false) })
		n := 0
		w.At(5*time.Second, func() { n = len(sub.pushes); pub.client.Publish("svc", "p1", "b") })
		w.Run(sim.Limits{Until: 8 * time.Second})
		require.Equal(t, n, len(sub.pushes), "zone %v: no push to a switched-off client", zone)
		require.NotEmpty(t, pub.client.Session(), "zone %v: the connection stays", zone)
		st := w.Node("data-1").(*DataServer)
		for _, d := range []*DataServer{st, w.Node("data-2").(*DataServer)} {
			if x := d.datums["svc"]; x != nil && d.slots[d.m.slotOf("svc")] != nil && d.slots[d.m.slotOf("svc")].leader {
				require.Empty(t, x.pubs, "zone %v: the publisher is gone from its data server", zone)
			}
		}
		w.At(8*time.Second, func() { off(true) })
		w.Run(sim.Limits{Until: 12 * time.Second})
		require.Equal(t, []string{"p1=b"}, sub.last(), "zone %v: back complete after client-open", zone)
		require.Empty(t, w.Findings())
	}
}

// TestBlacklistDataID: a blacklisted dataInfoId loses its publishers and
// refuses new ones.
func TestBlacklistDataID(t *testing.T) {
	w, cfg, ops, pub, sub := newOpsWorld(t)
	w.At(3*time.Second, func() { ops.provide(cfg, ProvideBlackDataID, "svc") })
	w.Run(sim.Limits{Until: 6 * time.Second})
	require.Empty(t, sub.last())
	w.At(6*time.Second, func() { pub.client.Publish("svc", "p2", "x") })
	w.Run(sim.Limits{Until: 9 * time.Second})
	require.Empty(t, sub.last(), "a publish to a blacklisted dataInfoId is refused")
	require.Empty(t, w.Findings())
}

// TestDataQuitMovesSlots: a data server that quits leads no slot soon
// after, and no publisher is lost; it serves again after joining.
func TestDataQuitMovesSlots(t *testing.T) {
	w, _, ops, _, sub := newOpsWorld(t)
	w.At(3*time.Second, func() { ops.send("data-1", &ServerQuit{}) })
	w.Run(sim.Limits{Until: 8 * time.Second})
	require.Empty(t, w.Node("data-1").(*DataServer).Status().Leading)
	require.Equal(t, []string{"p1=a"}, sub.last())
	w.At(8*time.Second, func() { ops.send("data-1", &ServerQuit{Join: true}) })
	w.Run(sim.Limits{Until: 14 * time.Second})
	require.NotEmpty(t, w.Node("data-1").(*DataServer).Status().Leading, "balanced back after joining")
	require.Equal(t, []string{"p1=a"}, sub.last())
	require.Empty(t, w.Findings())
}

// TestProvideDataSurvivesMetaRestart: provide data is on the meta
// servers' disks.
func TestProvideDataSurvivesMetaRestart(t *testing.T) {
	w, cfg, ops, _, _ := newOpsWorld(t)
	w.At(3*time.Second, func() { ops.provide(cfg, ProvideStopPush, "on") })
	w.Run(sim.Limits{Until: 4 * time.Second})
	require.NoError(t, w.Inject(sim.Crash{Nodes: cfg.Metas}))
	require.NoError(t, w.Inject(sim.Restart{Nodes: cfg.Metas}))
	w.Run(sim.Limits{Until: 5 * time.Second})
	for _, m := range cfg.Metas {
		d := w.Node(m).(*MetaServer).prov.get(ProvideStopPush)
		require.True(t, d.on(), "%s", m)
	}
}

func metaLeader(w *sim.World, cfg Config) sim.NodeID {
	for _, m := range cfg.Metas {
		if n, ok := w.Node(m).(*MetaServer); ok && w.Up(m) && n.Status().MetaLeader {
			return m
		}
	}
	return ""
}

// TestMetaQuitElection: the meta leader told to quit the election hands
// leadership to another meta server.
func TestMetaQuitElection(t *testing.T) {
	w, cfg, ops, _, sub := newOpsWorld(t)
	old := metaLeader(w, cfg)
	require.NotEmpty(t, old)
	w.At(3*time.Second, func() { ops.send(old, &MetaQuitElection{}) })
	w.Run(sim.Limits{Until: 6 * time.Second})
	now := metaLeader(w, cfg)
	require.NotEmpty(t, now)
	require.NotEqual(t, old, now)
	require.Equal(t, []string{"p1=a"}, sub.last())
}
