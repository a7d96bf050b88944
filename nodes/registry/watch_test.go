package registry

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// watchWorld: one session server, so every watcher shares its state.
func watchWorld(seed uint64, watch WatchConfig) (*sim.World, Config, *opsHost) {
	w := sim.NewWorld(sim.Config{Seed: seed})
	cfg := Config{Metas: []sim.NodeID{"meta-1", "meta-2", "meta-3"}, Data: []sim.NodeID{"data-1", "data-2"},
		Sessions: []sim.NodeID{"session-1"}, Slots: 16, Watch: watch}
	AddServers(w, cfg)
	cfg.defaults()
	ops := &opsHost{}
	w.AddNode("ops", func() sim.Node { return ops })
	return w, cfg, ops
}

func watcherHost(cfg Config, reg string) *testHost {
	return &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Watch("limits", reg) }}
}

// With watchConfigEnable off (the default) a watcher is pushed null
// content and nothing else, however its config changes; a first push that
// fails is pushed again by the next watcher scan (3 s).
func TestWatcherDisabledIsPushedNullOnce(t *testing.T) {
	run := func() (*testHost, map[string]uint64, uint64) {
		w, cfg, ops := watchWorld(7, WatchConfig{})
		watcher := watcherHost(cfg, "w1")
		require.NoError(t, w.Inject(sim.ArmFailpoint{Failpoint: FailPush}))
		w.AddNode("watcher", func() sim.Node { return watcher })
		w.At(1500*time.Millisecond, func() { require.NoError(t, w.Inject(sim.DisarmFailpoint{Failpoint: FailPush})) })
		w.At(2*time.Second, func() { ops.provide(cfg, ConfigKey("limits"), "qps=10") })
		w.At(6*time.Second, func() { ops.provide(cfg, ConfigKey("limits"), "qps=20") })
		w.Run(sim.Limits{Until: 2 * time.Second})
		require.Empty(t, watcher.pushes, "the first push failed; the scan has not come yet")
		w.Run(sim.Limits{Until: 70 * time.Second})
		require.Empty(t, w.Findings())
		return watcher, w.Reached(), w.Fingerprint()
	}
	watcher, reached, fp := run()
	require.Len(t, watcher.pushes, 1, "one null push, never the config")
	require.Empty(t, watcher.pushes[0].Pubs)
	require.Positive(t, reached["registry/watcher-null-pushed"])
	require.Zero(t, reached["registry/config-pushed"])
	_, _, again := run()
	require.Equal(t, fp, again)
}

// With watchConfigEnable on, the session fetches a watched config every
// FetchInterval (a newly watched key at once) and the watcher scan pushes
// it: a change waits for the next fetch; a watcher that comes later to a
// watched key is pushed at once; a config never set is never pushed.
func TestWatcherEnabledFetchesAndScans(t *testing.T) {
	on := WatchConfig{Enable: true, FetchInterval: 5 * time.Second, ScanInterval: time.Second}
	run := func() uint64 {
		w, cfg, ops := watchWorld(9, on)
		watcher := watcherHost(cfg, "w1")
		other := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Watch("unset", "u1") }}
		w.AddNode("watcher", func() sim.Node { return watcher })
		w.AddNode("other", func() sim.Node { return other })
		w.At(2*time.Second, func() { ops.provide(cfg, ConfigKey("limits"), "qps=10") })
		w.Run(sim.Limits{Until: 4900 * time.Millisecond})
		require.Empty(t, watcher.pushes, "set after the first fetch: it waits for the next one (5 s)")
		w.Run(sim.Limits{Until: 6500 * time.Millisecond})
		require.Equal(t, []string{"config=qps=10"}, watcher.last())
		w.At(7*time.Second, func() { ops.provide(cfg, ConfigKey("limits"), "qps=20", "burst=5") })
		w.Run(sim.Limits{Until: 9800 * time.Millisecond})
		require.Equal(t, []string{"config=qps=10"}, watcher.last(), "the change waits for the fetch at 10 s")
		w.Run(sim.Limits{Until: 11500 * time.Millisecond})
		require.Equal(t, []string{"config=qps=20,burst=5"}, watcher.last())
		late := watcherHost(cfg, "w2")
		w.AddNode("late", func() sim.Node { return late })
		w.Run(sim.Limits{Until: 12 * time.Second})
		require.Equal(t, []string{"config=qps=20,burst=5"}, late.last(), "a watched key's config is pushed on register")
		w.Run(sim.Limits{Until: 20 * time.Second})
		require.Len(t, watcher.pushes, 2)
		require.Empty(t, other.pushes, "a config never set is never pushed")
		require.Empty(t, w.Findings())
		return w.Fingerprint()
	}
	require.Equal(t, run(), run())
}

// A key nobody watches for FetchLease is forgotten, and watching it again
// fetches it at once.
func TestWatcherLeaseForgetsUnwatchedKeys(t *testing.T) {
	run := func() uint64 {
		on := WatchConfig{Enable: true, FetchInterval: 5 * time.Second, FetchLease: 8 * time.Second, ScanInterval: time.Second}
		w, cfg, ops := watchWorld(11, on)
		w.At(100*time.Millisecond, func() { ops.provide(cfg, ConfigKey("limits"), "qps=10") })
		first := watcherHost(cfg, "w1")
		w.At(time.Second, func() { w.AddNode("first", func() sim.Node { return first }) })
		w.At(3*time.Second, func() { require.NoError(t, w.Inject(sim.Crash{Nodes: []sim.NodeID{"first"}})) })
		w.Run(sim.Limits{Until: 3 * time.Second})
		require.Equal(t, []string{"config=qps=10"}, first.last())
		s := w.Node("session-1").(*SessionServer)
		w.Run(sim.Limits{Until: 25 * time.Second})
		require.NotContains(t, s.ops.watch.cfgs, ConfigKey("limits"), "no watcher for longer than the lease")
		again := watcherHost(cfg, "w2")
		w.AddNode("again", func() sim.Node { return again })
		w.Run(sim.Limits{Until: 27 * time.Second})
		require.Equal(t, []string{"config=qps=10"}, again.last(), "a wake-up fetch, then the scan")
		require.Empty(t, w.Findings())
		return w.Fingerprint()
	}
	require.Equal(t, run(), run(), "same seed, same run")
}
