package registry

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// liveWorld: a publisher and a subscriber on different session servers,
// both ends under liveness mode; drops lists when each client lost its
// connection.
type liveWorld struct {
	w        *sim.World
	pub, sub *testHost
	drops    map[string][]time.Duration
}

func newLiveWorld(t *testing.T, seed uint64, mode string) *liveWorld {
	t.Helper()
	lw := &liveWorld{w: sim.NewWorld(sim.Config{Seed: seed}), drops: map[string][]time.Duration{}}
	cfg := Config{Metas: []sim.NodeID{"meta-1", "meta-2", "meta-3"}, Data: []sim.NodeID{"data-1", "data-2"},
		Sessions: []sim.NodeID{"session-1", "session-2"}, Slots: 16, ClientLiveness: Liveness{Mode: mode}}
	AddServers(lw.w, cfg)
	host := func(name string, start func(*Client)) *testHost {
		return &testHost{cfg: ClientConfig{Sessions: cfg.Sessions, Liveness: cfg.ClientLiveness,
			OnDisconnected: func(sim.NodeID) { lw.drops[name] = append(lw.drops[name], lw.w.Now()) }}, start: start}
	}
	lw.pub = host("pub", func(c *Client) { c.Publish("svc", "p1", "a") })
	lw.sub = host("sub", func(c *Client) { c.Subscribe("svc", "s1") })
	lw.w.AddNode("pub", func() sim.Node { return lw.pub })
	lw.w.AddNode("sub", func() sim.Node { return lw.sub })
	lw.w.Run(sim.Limits{Until: 3 * time.Second})
	require.Equal(t, []string{"p1=a"}, lw.sub.last())
	require.NotEqual(t, lw.pub.client.Session(), lw.sub.client.Session(), "the seed puts the clients on different sessions")
	return lw
}

// pause stops node for length from now, then runs the world until end.
func (lw *liveWorld) pause(t *testing.T, node sim.NodeID, length, end time.Duration) {
	t.Helper()
	at := lw.w.Now()
	require.NoError(t, lw.w.Inject(sim.Pause{Nodes: []sim.NodeID{node}}))
	lw.w.At(at+length, func() { require.NoError(t, lw.w.Inject(sim.Resume{Nodes: []sim.NodeID{node}})) })
	lw.w.Run(sim.Limits{Until: end})
	require.Empty(t, lw.w.Findings())
}

// TestStalledSessionLeftAfterMissedHeartbeats: under bolt a client stays
// with a session stalled 40 s (three heartbeats are needed to miss, 15 s
// apart) and leaves one stalled for good between 45 and 60 s after it went
// silent; under ping it leaves within 4 s.
func TestStalledSessionLeftAfterMissedHeartbeats(t *testing.T) {
	for _, tc := range []struct {
		mode          string
		stall         time.Duration
		from, to      time.Duration // when the client gives up, after the stall began (to 0: never)
		publisherLost bool
	}{
		{LivenessBolt, 40 * time.Second, 0, 0, false},
		{LivenessBolt, 120 * time.Second, 45 * time.Second, 60 * time.Second, false},
		{LivenessPing, 40 * time.Second, 3 * time.Second, 4*time.Second + 100*time.Millisecond, false},
	} {
		var prints []uint64
		for range 2 {
			lw := newLiveWorld(t, 2, tc.mode)
			s := lw.pub.client.Session()
			at := lw.w.Now()
			lw.pause(t, s, tc.stall, at+130*time.Second)
			if tc.to == 0 {
				require.Empty(t, lw.drops["pub"], "%s: a %v stall keeps the connection", tc.mode, tc.stall)
				require.Equal(t, s, lw.pub.client.Session())
			} else {
				require.NotEmpty(t, lw.drops["pub"], "%s: the client left the stalled session", tc.mode)
				left := lw.drops["pub"][0] - at
				require.True(t, left >= tc.from && left <= tc.to, "%s: left %v after the stall began, want %v-%v", tc.mode, left, tc.from, tc.to)
				require.NotEqual(t, s, lw.pub.client.Session(), "it registered through the other session")
			}
			require.Empty(t, lw.drops["sub"], "the subscriber's session never stalled")
			require.Equal(t, []string{"p1=a"}, lw.sub.last())
			prints = append(prints, lw.w.Fingerprint())
		}
		require.Equal(t, prints[0], prints[1], "same seed, same run")
	}
}

// TestServerIdleClosesPausedClient: under bolt a session closes a client
// connection silent for 45 s and drops its publisher until the client,
// resumed, registers again; a 30 s pause closes nothing. Under ping the
// session never closes it, but the resumed client, having heard nothing for
// a minute, leaves it itself.
func TestServerIdleClosesPausedClient(t *testing.T) {
	for _, tc := range []struct {
		mode   string
		pause  time.Duration
		closed bool
		drops  int // the client's disconnects
	}{
		{LivenessBolt, 60 * time.Second, true, 1},
		{LivenessBolt, 30 * time.Second, false, 0},
		{LivenessPing, 60 * time.Second, false, 1},
	} {
		run := func() uint64 {
			lw := newLiveWorld(t, 2, tc.mode)
			s := lw.w.Node(lw.pub.client.Session()).(*SessionServer)
			at := lw.w.Now()
			// Between 45 s and the end of the pause, the session has closed it or not.
			lw.pause(t, "pub", tc.pause, at+tc.pause-time.Second)
			require.Equal(t, !tc.closed, s.Status().Clients == 1, "%s, %v pause: the session holds the connection", tc.mode, tc.pause)
			require.Equal(t, !tc.closed, len(lw.sub.last()) == 1, "%s, %v pause: the subscriber holds the publisher", tc.mode, tc.pause)
			lw.w.Run(sim.Limits{Until: at + tc.pause + 10*time.Second})
			require.Equal(t, []string{"p1=a"}, lw.sub.last(), "the resumed client registered again")
			require.Len(t, lw.drops["pub"], tc.drops, "%s %v: the client's disconnects once resumed", tc.mode, tc.pause)
			return lw.w.Fingerprint()
		}
		require.Equal(t, run(), run(), "%s %v: same seed, same run", tc.mode, tc.pause)
	}
}

// TestIdleConnectionHeartbeats: a healthy idle connection costs one
// heartbeat per 15 s under bolt (a ping a second before), and neither end
// closes it.
func TestIdleConnectionHeartbeats(t *testing.T) {
	run := func() uint64 {
		lw := newLiveWorld(t, 2, LivenessBolt)
		from := lw.pub.client.hb.id
		lw.w.Run(sim.Limits{Until: lw.w.Now() + 120*time.Second})
		sent := lw.pub.client.hb.id - from
		require.True(t, sent >= 7 && sent <= 8, "%d heartbeats in 120 s", sent)
		require.Zero(t, lw.pub.client.hb.missed)
		require.Empty(t, lw.drops)
		return lw.w.Fingerprint()
	}
	require.Equal(t, run(), run(), "same seed, same run")
}
