package registry

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// twoDCs builds data centres dc1 and dc2, dc2 syncing dc1 and reading its
// switches every reload (0: the default).
func twoDCs(seed uint64, election string, reload time.Duration) (*sim.World, Config, Config) {
	w := sim.NewWorld(sim.Config{Seed: seed})
	ids := func(prefix string, n int) []sim.NodeID {
		out := make([]sim.NodeID, n)
		for i := range out {
			out[i] = sim.NodeID(fmt.Sprintf("%s-%d", prefix, i+1))
		}
		return out
	}
	dc := func(p, name string) Config {
		c := Config{Metas: ids(p+"meta", 3), Data: ids(p+"data", 2), Sessions: ids(p+"session", 2), Slots: 16, Election: election,
			LockDB: sim.NodeID(p + "lockdb"), MultiDC: MultiDCConfig{DataCenter: name, SwitchReload: reload}}
		return c
	}
	dc1, dc2 := dc("", "dc1"), dc("dc2-", "dc2")
	dc2.MultiDC.Remotes = []RemoteDC{{Name: "dc1", Metas: dc1.Metas}}
	AddServers(w, dc1)
	AddServers(w, dc2)
	dc1.defaults()
	dc2.defaults()
	return w, dc1, dc2
}

func servers(c Config) []sim.NodeID {
	out := append(append(append([]sim.NodeID(nil), c.Metas...), c.Data...), c.Sessions...)
	if c.Election == ElectionDB {
		out = append(out, c.LockDB)
	}
	return out
}

// TestMultiDCSync: a subscriber in dc2 of dc1's datum sees dc1's
// publishers, keeps the last copy while the link is cut, and catches up
// after the heal; the local datum of the same dataInfoId stays apart.
func TestMultiDCSync(t *testing.T) {
	for _, election := range []string{ElectionRaft, ElectionDB} {
		run := func() (uint64, []string, map[string]uint64) {
			w, dc1, dc2 := twoDCs(3, election, 0)
			pub := &testHost{cfg: ClientConfig{Sessions: dc1.Sessions}, start: func(c *Client) { c.Publish("svc", "p1", "a") }}
			local := &testHost{cfg: ClientConfig{Sessions: dc2.Sessions}, start: func(c *Client) { c.Publish("svc", "q1", "z") }}
			sub := &testHost{cfg: ClientConfig{Sessions: dc2.Sessions}, start: func(c *Client) { c.Subscribe(RemoteID("dc1", "svc"), "s1") }}
			w.AddNode("pub", func() sim.Node { return pub })
			w.AddNode("local", func() sim.Node { return local })
			w.AddNode("sub", func() sim.Node { return sub })
			w.Run(sim.Limits{Until: 15 * time.Second})
			require.Equal(t, []string{"p1=a"}, sub.last(), "%s: dc1's publisher reached dc2, without dc2's own", election)
			w.At(15*time.Second, func() { pub.client.Publish("svc", "p1", "b") })
			w.Run(sim.Limits{Until: 17 * time.Second})
			require.Equal(t, []string{"p1=b"}, sub.last(), "%s: a change is announced and synced at once", election)
			cut := sim.Partition{Cuts: []sim.Cut{{From: servers(dc1), To: servers(dc2)}, {From: servers(dc2), To: servers(dc1)}}}
			require.NoError(t, w.Inject(cut))
			w.At(18*time.Second, func() { pub.client.Publish("svc", "p1", "c"); pub.client.Publish("svc", "p2", "d") })
			w.Run(sim.Limits{Until: 40 * time.Second})
			require.Equal(t, []string{"p1=b"}, sub.last(), "%s: dc2 keeps the last copy while cut off", election)
			require.NoError(t, w.Inject(sim.Heal{}))
			w.Run(sim.Limits{Until: 55 * time.Second})
			require.Equal(t, []string{"p1=c", "p2=d"}, sub.last(), "%s: caught up after the heal", election)
			require.Empty(t, w.Findings())
			return w.Fingerprint(), sub.last(), w.Reached()
		}
		fp, _, reached := run()
		require.NotZero(t, reached["registry/multidc-slot-synced"])
		again, _, _ := run()
		require.Equal(t, fp, again, election)
	}
}

// pubsOf is the last push to subscriber reg, as "regId=data".
func (h *testHost) pubsOf(reg string) []string {
	ds := h.pushesTo(reg)
	if len(ds) == 0 {
		return nil
	}
	var out []string
	for _, p := range ds[len(ds)-1].Pubs {
		out = append(out, p.RegID+"="+p.Data)
	}
	return out
}

// TestMultiDCSwitches: with push off, dc2's subscribers hear nothing of dc1
// until it is on again (then the version scan pushes); with sync off, dc2
// keeps dc1's datums as last synced; an ignored dataInfoId stays as it was
// while the others sync; each takes effect at the next reload.
func TestMultiDCSwitches(t *testing.T) {
	const reload = 2 * time.Second
	run := func() (uint64, *testHost, map[string]uint64) {
		w, dc1, dc2 := twoDCs(5, ElectionRaft, reload)
		ops := &opsHost{}
		pub := &testHost{cfg: ClientConfig{Sessions: dc1.Sessions}, start: func(c *Client) { c.Publish("svc", "p1", "a"); c.Publish("other", "o1", "a") }}
		sub := &testHost{cfg: ClientConfig{Sessions: dc2.Sessions}, start: func(c *Client) {
			c.Subscribe(RemoteID("dc1", "svc"), "s1")
			c.Subscribe(RemoteID("dc1", "other"), "s2")
		}}
		w.AddNode("ops", func() sim.Node { return ops })
		w.AddNode("pub", func() sim.Node { return pub })
		w.AddNode("sub", func() sim.Node { return sub })
		set := func(at time.Duration, sw MultiDCSwitch) {
			w.At(at, func() { ops.provide(dc2, MultiDCSwitchKey("dc1"), sw.Values()...) })
		}
		step := func(until time.Duration, s1, s2 string, msg string) {
			w.Run(sim.Limits{Until: until})
			require.Equal(t, []string{s1}, sub.pubsOf("s1"), "%v: %s", until, msg)
			require.Equal(t, []string{s2}, sub.pubsOf("s2"), "%v: %s", until, msg)
		}
		step(10*time.Second, "p1=a", "o1=a", "synced")
		set(10*time.Second, MultiDCSwitch{Sync: true, DataIDs: []string{AcceptAll}})
		w.At(14*time.Second, func() { pub.client.Publish("svc", "p1", "b") })
		step(20*time.Second, "p1=a", "o1=a", "push off: nothing pushed")
		set(20*time.Second, DefaultMultiDCSwitch)
		step(28*time.Second, "p1=b", "o1=a", "push on: the version scan pushes")
		set(28*time.Second, MultiDCSwitch{Push: true, DataIDs: []string{AcceptAll}})
		w.At(32*time.Second, func() { pub.client.Publish("svc", "p1", "c") })
		step(45*time.Second, "p1=b", "o1=a", "sync off: dc2 keeps its copy")
		set(45*time.Second, MultiDCSwitch{Sync: true, Push: true, DataIDs: []string{AcceptAll}, Ignore: []string{"svc"}})
		w.At(50*time.Second, func() { pub.client.Publish("other", "o1", "b") })
		step(60*time.Second, "p1=b", "o1=b", "svc ignored, other synced")
		set(60*time.Second, MultiDCSwitch{Sync: true, Push: true, DataIDs: []string{"svc"}})
		w.At(62*time.Second, func() { pub.client.Publish("other", "o1", "c") })
		step(75*time.Second, "p1=c", "o1=b", "only svc accepted")
		require.Empty(t, w.Findings())
		return w.Fingerprint(), sub, w.Reached()
	}
	fp, _, reached := run()
	require.NotZero(t, reached["registry/multidc-push-held"])
	again, _, _ := run()
	require.Equal(t, fp, again)
}
