package registry

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/sim"
)

// TestNextIDLayout: DatumVersionUtil's layout, ms since 2019-01-01 CST
// above a 15-bit sequence.
func TestNextIDLayout(t *testing.T) {
	var g nextID
	v, ok := g.next(nextIDEpoch + 1)
	require.True(t, ok)
	require.Equal(t, uint64(1)<<15, v)
	v, _ = g.next(nextIDEpoch + 1)
	require.Equal(t, uint64(1)<<15|1, v, "the same millisecond: the sequence")
	_, ok = g.next(nextIDEpoch)
	require.False(t, ok, "Clock moved backwards")
	v, _ = g.next(nextIDEpoch + 2)
	require.Equal(t, uint64(2)<<15, v, "a new millisecond restarts the sequence")
}

// TestNextIDProperty: ids grow strictly while the clock does not go back;
// a reading behind the last id is refused and changes nothing.
func TestNextIDProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var g nextID
		ms := int64(nextIDEpoch + rapid.Int64Range(1000, 1<<40).Draw(t, "start"))
		var prev uint64
		for range rapid.IntRange(1, 200).Draw(t, "n") {
			ms += rapid.Int64Range(-3, 3).Draw(t, "step")
			before := g
			v, ok := g.next(ms)
			if ms < before.last {
				require.False(t, ok)
				require.Equal(t, before, g)
				ms = before.last // the clock catches up
				continue
			}
			require.True(t, ok)
			require.Greater(t, v, prev)
			prev = v
		}
	})
}

// TestNextIDStaysBelowSubscribers: SOFARegistry's rule, not ours, lets a
// new slot leader whose clock is behind its predecessor's number versions
// below what the subscribers were pushed: a later change is never pushed
// while the clock lags. Our repair rule passes the sessions' versions.
func TestNextIDStaysBelowSubscribers(t *testing.T) {
	run := func(version string) (bool, uint64) {
		w, cfg, pub, sub := syncWorld(t, 3, func(c *Config) { c.Version = version })
		leader, follower := replicas(w, cfg)
		require.NotNil(t, follower)
		lead := []sim.NodeID{leader.env.ID()}
		require.NoError(t, w.Inject(sim.ClockJump{Nodes: lead, Jump: sim.Duration(time.Minute)}))
		pub.client.Publish("svc", "p1", "b") // versioned a minute ahead
		w.Run(sim.Limits{Until: 5 * time.Second})
		require.Equal(t, []string{"p1=b"}, sub.last())
		require.NoError(t, w.Inject(sim.Crash{Nodes: lead}))
		w.Run(sim.Limits{Until: 12 * time.Second}) // the follower leads and has migrated
		pub.client.Publish("svc", "p1", "c")
		w.Run(sim.Limits{Until: 25 * time.Second})
		return slices.Equal(sub.last(), []string{"p1=c"}), w.Fingerprint()
	}
	seen := func(version string) bool {
		ok, fp := run(version)
		_, again := run(version)
		require.Equal(t, fp, again, "the same seed runs the same")
		return ok
	}
	require.True(t, seen(VersionRepair), "repair: the new leader passes the subscriber's version")
	require.False(t, seen(VersionNextID), "nextid: the lagging leader's versions stay below it")
}

// TestNextIDRefusesBackwards: a leader whose clock stepped back stores a
// publish but cannot version it; the session's retries find it stored, so
// nothing announces it until a later change.
func TestNextIDRefusesBackwards(t *testing.T) {
	run := func() uint64 {
		w, cfg, pub, sub := syncWorld(t, 3, func(c *Config) { c.Version = VersionNextID })
		leader, _ := replicas(w, cfg)
		require.NoError(t, w.Inject(sim.ClockJump{Nodes: []sim.NodeID{leader.env.ID()}, Jump: sim.Duration(-20 * time.Second)}))
		pub.client.Publish("svc", "p1", "b")
		w.Run(sim.Limits{Until: 15 * time.Second})
		require.Equal(t, "b", leader.datums["svc"].pubs["p1"].Data, "stored")
		require.Equal(t, []string{"p1=a"}, sub.last(), "never announced")
		require.NotZero(t, w.Reached()["registry/clock-moved-backwards"])
		return w.Fingerprint()
	}
	require.Equal(t, run(), run(), "the same seed runs the same")
}
