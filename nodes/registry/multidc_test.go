package registry

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// twoDCs builds data centres dc1 and dc2, dc2 syncing dc1.
func twoDCs(seed uint64, election string) (*sim.World, Config, Config) {
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
			LockDB: sim.NodeID(p + "lockdb"), MultiDC: MultiDCConfig{DataCenter: name}}
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
			w, dc1, dc2 := twoDCs(3, election)
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
