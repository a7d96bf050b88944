package registry

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// syncWorld: a publisher and a subscriber that see each other by 3s; cfg
// is applied to every server.
func syncWorld(t *testing.T, seed uint64, tune func(*Config)) (*sim.World, Config, *testHost, *testHost) {
	t.Helper()
	w := sim.NewWorld(sim.Config{Seed: seed})
	cfg := Config{Metas: []sim.NodeID{"meta-1", "meta-2", "meta-3"}, Data: []sim.NodeID{"data-1", "data-2"},
		Sessions: []sim.NodeID{"session-1", "session-2"}, Slots: 16}
	if tune != nil {
		tune(&cfg)
	}
	AddServers(w, cfg)
	cfg.defaults()
	pub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Publish("svc", "p1", "a") }}
	sub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Subscribe("svc", "s1") }}
	w.AddNode("pub", func() sim.Node { return pub })
	w.AddNode("sub", func() sim.Node { return sub })
	w.Run(sim.Limits{Until: 3 * time.Second})
	require.Equal(t, []string{"p1=a"}, sub.last())
	return w, cfg, pub, sub
}

// replicas: the slot leader and follower of svc.
func replicas(w *sim.World, cfg Config) (leader, follower *DataServer) {
	for _, id := range cfg.Data {
		d := w.Node(id).(*DataServer)
		if st := d.slots[SlotOf("svc", cfg.Slots)]; st != nil && st.leader {
			leader = d
		} else if st != nil {
			follower = d
		}
	}
	return leader, follower
}

// TestSessionSyncRepairsLeader: a publisher the slot leader lost (here
// dropped without a version, a tombstone or a notice) comes back with the
// session's next digest sync, and only then.
func TestSessionSyncRepairsLeader(t *testing.T) {
	w, cfg, _, _ := syncWorld(t, 3, nil)
	leader, _ := replicas(w, cfg)
	require.NotNil(t, leader)
	leader.datums["svc"].del("p1") // lost without a version, a tombstone or a notice
	w.Run(sim.Limits{Until: 4 * time.Second})
	require.NotContains(t, leader.datums["svc"].pubs, "p1", "nothing repairs it before the sync")
	w.Run(sim.Limits{Until: 4*time.Second + cfg.SessionSyncInterval})
	require.Contains(t, leader.datums["svc"].pubs, "p1", "the session's digest sync re-sent it")
	require.Empty(t, w.Findings())
}

// TestFollowerSyncRepairsFollower: a follower's copy that missed a batch
// is repaired by its periodic sync with the leader.
func TestFollowerSyncRepairsFollower(t *testing.T) {
	w, cfg, _, _ := syncWorld(t, 5, func(c *Config) { c.FollowerSyncInterval = 2 * time.Second })
	leader, follower := replicas(w, cfg)
	require.NotNil(t, follower)
	follower.datums["svc"].version, follower.datums["svc"].pubs = 0, map[string]pubRec{}
	w.Run(sim.Limits{Until: 3*time.Second + 2*cfg.FollowerSyncInterval})
	require.Equal(t, leader.datums["svc"].version, follower.datums["svc"].version)
	require.Contains(t, follower.datums["svc"].pubs, "p1")
}

// TestDataLeaseOutlivesMetaLease: a session server paused for 10s (a long
// GC pause) loses its 3s meta lease, but the data servers keep its
// publishers for their 30s session lease, so the subscriber on the other
// session is never pushed a list without them; with EvictWithTable (the
// old model) it is.
func TestDataLeaseOutlivesMetaLease(t *testing.T) {
	lost := func(evict bool) bool {
		w, _, pub, sub := syncWorld(t, 2, func(c *Config) { c.EvictWithTable = evict })
		require.NotEqual(t, pub.client.Session(), sub.client.Session(), "the seed puts the clients on different sessions")
		s := pub.client.Session()
		require.NoError(t, w.Inject(sim.Pause{Nodes: []sim.NodeID{s}}))
		w.Run(sim.Limits{Until: 13 * time.Second})
		require.NoError(t, w.Inject(sim.Resume{Nodes: []sim.NodeID{s}}))
		w.Run(sim.Limits{Until: 20 * time.Second})
		for _, d := range sub.pushes {
			if len(d.Pubs) == 0 {
				return true
			}
		}
		return false
	}
	require.False(t, lost(false), "the data-side lease keeps a paused session's publishers")
	require.True(t, lost(true), "evicted with the table, they go")
}

// TestAckContract: by default a session acknowledges a publish once it
// stored it (before any slot leader exists here), as SOFARegistry does;
// with AckAfterData only once the slot leader accepted it.
func TestAckContract(t *testing.T) {
	ackedAt := func(after bool) time.Duration {
		w := sim.NewWorld(sim.Config{Seed: 3})
		cfg := Config{Metas: []sim.NodeID{"meta-1", "meta-2", "meta-3"}, Data: []sim.NodeID{"data-1", "data-2"},
			Sessions: []sim.NodeID{"session-1", "session-2"}, Slots: 16, AckAfterData: after}
		AddServers(w, cfg)
		var at time.Duration
		pub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions, OnPublishAck: func(string, uint64) {
			if at == 0 {
				at = w.Now()
			}
		}}, start: func(c *Client) { c.Publish("svc", "p1", "a") }}
		w.AddNode("pub", func() sim.Node { return pub })
		w.Run(sim.Limits{Until: 3 * time.Second})
		require.NotZero(t, at, "acknowledged")
		return at
	}
	require.Less(t, ackedAt(false), 100*time.Millisecond, "stored in the session: acknowledged at once")
	require.Greater(t, ackedAt(true), 400*time.Millisecond, "acknowledged once a slot leader (elected after the meta leader) took it")
}
