package registry

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// noticeRun: after the publisher and subscriber see each other, the
// publisher changes p1 ten times 10 ms apart and publishes "other", which
// nobody subscribes to.
func noticeRun(t *testing.T, seed uint64) (*sim.World, Config, *testHost, time.Duration) {
	w, cfg, pub, sub := syncWorld(t, seed, nil)
	before := len(sub.pushes)
	start := w.Now()
	for i := 0; i < 10; i++ {
		data := fmt.Sprintf("v%d", i)
		w.At(start+time.Duration(i)*10*time.Millisecond, func() { pub.client.Publish("svc", "p1", data) })
	}
	w.At(start, func() { pub.client.Publish("other", "p2", "x") })
	last := start + 90*time.Millisecond
	w.Run(sim.Limits{Until: last + NotifyInterval + 50*time.Millisecond})
	sub.pushes = sub.pushes[before:]
	return w, cfg, sub, last
}

// TestChangeNoticesMerge: a burst of changes reaches the subscriber in a
// few pushes, the last within NotifyInterval of the last change and well
// before the version scan; a session with no subscriber of a dataInfoId
// never fetches it; the same seed runs the same.
func TestChangeNoticesMerge(t *testing.T) {
	w, cfg, sub, _ := noticeRun(t, 4)
	require.Equal(t, []string{"p1=v9"}, sub.last(), "the newest change arrived before the version scan")
	t.Logf("%d pushes", len(sub.pushes))
	require.LessOrEqual(t, len(sub.pushes), 4, "ten changes merged into a few notices")
	for _, id := range cfg.Sessions {
		s := w.Node(id).(*SessionServer)
		require.Nil(t, s.cache["other"], "%s has no subscriber of other", id)
	}
	require.Empty(t, w.Findings())
	w2, _, _, _ := noticeRun(t, 4)
	require.Equal(t, w.Fingerprint(), w2.Fingerprint())
}

// TestNotifierKeepsNewestVersion: a notice names each dataInfoId once,
// in the order of first change, with its newest version.
func TestNotifierKeepsNewestVersion(t *testing.T) {
	var n notifier
	n.add("a", 1)
	n.add("b", 2)
	n.add("a", 3)
	require.Equal(t, DataChange{IDs: []string{"a", "b"}, Versions: []uint64{3, 2}}, n.next)
}

// TestMergedChangeOfOldLeaderRefetched: a change still merging when its
// slot's leader changes is fetched again from the new leader. Here the
// leader, its clock an hour ahead, announces p1=b, takes p1=c and dies with
// its follower before announcing it; both restart with true clocks and the
// new leader (which got c from the session) versions the datum below b's.
// The version scan pushes c; taking the old leader's b when the merge fires
// (the debounce is long here, so that the scan comes first) would push b
// after c.
func TestMergedChangeOfOldLeaderRefetched(t *testing.T) {
	run := func() (*sim.World, *testHost) {
		w, cfg, pub, sub := syncWorld(t, 5, func(c *Config) { c.Push.Mode = PushPipeline })
		for _, id := range cfg.Sessions {
			p := &w.Node(id).(*SessionServer).cfg.Push
			p.ChangeDebounce, p.ChangeMaxDelay = 6*time.Second, 6*time.Second
		}
		leader, _ := replicas(w, cfg)
		require.NotNil(t, leader)
		lead := leader.env.ID()
		start := w.Now()
		require.NoError(t, w.Inject(sim.ClockJump{Nodes: []sim.NodeID{lead}, Jump: sim.Duration(time.Hour)}))
		w.At(start+10*time.Millisecond, func() { pub.client.Publish("svc", "p1", "b") })
		w.At(start+30*time.Millisecond, func() { pub.client.Publish("svc", "p1", "c") })
		w.At(start+50*time.Millisecond, func() {
			require.NoError(t, w.Inject(sim.Crash{Nodes: cfg.Data}))
			require.NoError(t, w.Inject(sim.ClockJump{Nodes: []sim.NodeID{lead}, Jump: sim.Duration(-time.Hour)}))
		})
		w.At(start+100*time.Millisecond, func() { require.NoError(t, w.Inject(sim.Restart{Nodes: cfg.Data})) })
		w.Run(sim.Limits{Until: start + 10*time.Second})
		return w, sub
	}
	w, sub := run()
	var seen []string
	for _, d := range sub.pushes {
		for _, p := range d.Pubs {
			seen = append(seen, p.Data)
		}
	}
	require.Equal(t, []string{"p1=c"}, sub.last(), "pushes %v", seen)
	require.Contains(t, seen, "c")
	require.NotContains(t, seen[slices.Index(seen, "c"):], "b", "b was pushed after c: %v", seen)
	require.Empty(t, w.Findings())
	w2, _ := run()
	require.Equal(t, w.Fingerprint(), w2.Fingerprint())
}
