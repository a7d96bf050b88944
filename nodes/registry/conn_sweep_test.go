package registry

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/sim"
)

// fastDisconnect: the publisher client of syncWorld publishes p2 at 5.2s,
// just after an orphan sweep, and crashes 100ms later. The kernel tells
// the session within its 3s keepalive, inside a 3.5s register lag; it
// returns the subscriber's view at 9.5s (the close handled, the next sweep
// at 10s not yet run) and at 16s (past that sweep and the cleanup's trip
// to the slot leader).
func fastDisconnect(t *testing.T, armed bool) (early, late []string, w *sim.World) {
	w, _, pub, sub := syncWorld(t, 3, func(c *Config) { c.RegisterLag = 3500 * time.Millisecond })
	if armed {
		require.NoError(t, w.Inject(sim.ArmFailpoint{Failpoint: BugFastDisconnectUncleaned}))
	}
	w.At(5200*time.Millisecond, func() { pub.client.Publish("svc", "p2", "b") })
	w.At(5300*time.Millisecond, func() { require.NoError(t, w.Inject(sim.Crash{Nodes: []sim.NodeID{"pub"}})) })
	w.Run(sim.Limits{Until: 9500 * time.Millisecond})
	early = sub.last()
	w.Run(sim.Limits{Until: 16 * time.Second})
	return early, sub.last(), w
}

// TestOrphanSweepCleansFastDisconnect: the close of a connection handled
// before its last registration was stored removes only the older
// publisher; the orphan sweep removes the other within its interval, and
// with the sweep off (the planted bug) it stays.
func TestOrphanSweepCleansFastDisconnect(t *testing.T) {
	early, late, w := fastDisconnect(t, false)
	require.Equal(t, []string{"p2=b"}, early, "the close missed the registration it raced")
	require.Empty(t, late, "the orphan sweep cleaned it")
	require.Empty(t, w.Findings())

	_, _, again := fastDisconnect(t, false)
	require.Equal(t, w.Fingerprint(), again.Fingerprint(), "same seed, same run")

	early, late, _ = fastDisconnect(t, true)
	require.Equal(t, []string{"p2=b"}, early)
	require.Equal(t, []string{"p2=b"}, late, "without the sweep the dead client's publisher stays")
}

// TestNoRaceWithoutRegisterLag: with the default lag of zero a connection's
// close sees every registration sent before it, so both publishers go at
// once (before the 10s sweep; the kernel tells the session of the crash
// within its 3s keepalive).
func TestNoRaceWithoutRegisterLag(t *testing.T) {
	w, _, pub, sub := syncWorld(t, 3, nil)
	w.At(5200*time.Millisecond, func() { pub.client.Publish("svc", "p2", "b") })
	w.At(5300*time.Millisecond, func() { require.NoError(t, w.Inject(sim.Crash{Nodes: []sim.NodeID{"pub"}})) })
	w.Run(sim.Limits{Until: 9500 * time.Millisecond})
	require.Empty(t, sub.last())
}

// TestSharedConnectIDKeepsDeadClients: two clients on different session
// servers register through connections with the same number; when one
// crashes, its session's cleanup removes its publisher, unless the data
// server renews by a connectId that the other session still holds (the
// planted bug).
func TestSharedConnectIDKeepsDeadClients(t *testing.T) {
	run := func(armed bool) ([]string, uint64) {
		w, _, pub, sub := syncWorld(t, 2, nil)
		require.NotEqual(t, pub.client.Session(), sub.client.Session(), "the seed puts the clients on different sessions")
		if armed {
			require.NoError(t, w.Inject(sim.ArmFailpoint{Failpoint: BugSharedConnectID}))
		}
		w.At(3500*time.Millisecond, func() { sub.client.Publish("svc", "q1", "z") })
		w.At(4*time.Second, func() { require.NoError(t, w.Inject(sim.Crash{Nodes: []sim.NodeID{"pub"}})) })
		w.Run(sim.Limits{Until: 4*time.Second + cfgSessionLeaseBound})
		return sub.last(), w.Fingerprint()
	}
	clean, f1 := run(false)
	require.Equal(t, []string{"q1=z"}, clean)
	_, f2 := run(false)
	require.Equal(t, f1, f2, "same seed, same run")
	kept, _ := run(true)
	require.Equal(t, []string{"p1=a", "q1=z"}, kept, "the other session's connection of the same number renews the dead client's connectId")
}

// cfgSessionLeaseBound is past the data-side lease, its check, and a sync.
const cfgSessionLeaseBound = 45 * time.Second

// TestRecentRegistrations: keeping only the arrival times within the
// largest lag changes no later answer of whether a close, with any lag up
// to it, misses a registration, from keeping every held one (the sweep's
// rule before).
func TestRecentRegistrations(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		at, held := map[string]time.Duration{}, map[string]bool{}
		maxLag := time.Duration(rapid.Int64Range(1, 5e9).Draw(rt, "max lag"))
		now := time.Duration(rapid.Int64Range(0, 20e9).Draw(rt, "now"))
		for i := range rapid.IntRange(0, 20).Draw(rt, "registrations") {
			reg := fmt.Sprintf("r%d", i)
			at[reg] = max(now-time.Duration(rapid.Int64Range(0, int64(2*maxLag)).Draw(rt, "age")), 0)
			held[reg] = rapid.Bool().Draw(rt, "held")
		}
		kept := recentRegistrations(at, func(reg string) bool { return held[reg] }, now, maxLag)
		misses := func(m map[string]time.Duration, reg string, close, lag time.Duration) bool {
			t, ok := m[reg]
			return ok && close-t < lag
		}
		all := map[string]time.Duration{}
		for reg, t := range at { //detlint:allow fills a map
			if held[reg] {
				all[reg] = t
			}
		}
		for range 20 {
			reg := fmt.Sprintf("r%d", rapid.IntRange(0, 20).Draw(rt, "reg"))
			close := now + time.Duration(rapid.Int64Range(0, int64(maxLag)).Draw(rt, "close after"))
			lag := time.Duration(rapid.Int64Range(0, int64(maxLag)).Draw(rt, "lag"))
			require.Equal(rt, misses(all, reg, close, lag), misses(kept, reg, close, lag), "%s closed at %v with lag %v", reg, close, lag)
		}
	})
}
