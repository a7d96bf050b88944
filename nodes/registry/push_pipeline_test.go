package registry

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// pipeWorld is newTestWorld with the session's push mode set.
func pipeWorld(t *testing.T, seed uint64, push PushConfig) (*sim.World, Config) {
	t.Helper()
	w := sim.NewWorld(sim.Config{Seed: seed})
	cfg := Config{
		Metas:    []sim.NodeID{"meta-1", "meta-2", "meta-3"},
		Data:     []sim.NodeID{"data-1", "data-2"},
		Sessions: []sim.NodeID{"session-1"},
		Slots:    16,
		Push:     push,
	}
	AddServers(w, cfg)
	cfg.defaults()
	return w, cfg
}

// burst publishes five values of p1 200ms apart from 3s and returns the
// subscriber's pushes after the first value, and the world's fingerprint.
func burst(t *testing.T, seed uint64, push PushConfig) ([]*Datum, []string, uint64) {
	w, cfg := pipeWorld(t, seed, push)
	pub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Publish("svc", "p0", "x") }}
	sub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Subscribe("svc", "s1") }}
	w.AddNode("pub", func() sim.Node { return pub })
	w.AddNode("sub", func() sim.Node { return sub })
	for i, v := range []string{"a", "b", "c", "d", "e"} {
		w.At(3*time.Second+time.Duration(i)*200*time.Millisecond, func() { pub.client.Publish("svc", "p1", v) })
	}
	w.Run(sim.Limits{Until: 3 * time.Second})
	before := len(sub.pushes)
	w.Run(sim.Limits{Until: 9 * time.Second})
	require.Empty(t, w.Findings())
	return sub.pushes[before:], sub.last(), w.Fingerprint()
}

// A burst of changes to one dataInfoId is merged into one push (two if a
// version scan falls in it) that holds the last value; the immediate model
// pushes nearly every change. Same seed, same run.
func TestPushMergesChanges(t *testing.T) {
	pipe := PushConfig{Mode: PushPipeline}
	merged, last, fp := burst(t, 5, pipe)
	require.Equal(t, []string{"p0=x", "p1=e"}, last)
	require.LessOrEqual(t, len(merged), 2, "five changes within the 1s debounce merge")
	_, _, again := burst(t, 5, pipe)
	require.Equal(t, fp, again)
	each, last, _ := burst(t, 5, PushConfig{Mode: PushImmediate})
	require.Equal(t, []string{"p0=x", "p1=e"}, last)
	require.GreaterOrEqual(t, len(each), 4, "the immediate model pushes the changes one by one")
}

// With every push failing, a push is tried 1+Retries times and then left
// to the version scan, and the subscriber's breaker opens after more than
// BreakerFailures failures (the subscriber was pushed before); once pushes
// work again and the breaker's 60s silence is over the subscriber catches
// up. The immediate model retries every 300ms.
func TestPushRetryCapBreakerAndScan(t *testing.T) {
	var held []string
	run := func(push PushConfig) (failed uint64, reached map[string]uint64, last []string, fp uint64) {
		w, cfg := pipeWorld(t, 3, push)
		pub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Publish("svc", "p0", "x") }}
		sub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Subscribe("svc", "s1") }}
		w.AddNode("pub", func() sim.Node { return pub })
		w.AddNode("sub", func() sim.Node { return sub })
		w.At(6*time.Second, func() { require.NoError(t, w.Inject(sim.ArmFailpoint{Failpoint: FailPush})) })
		w.At(6100*time.Millisecond, func() { pub.client.Publish("svc", "p0", "y") })
		w.At(26*time.Second, func() {
			failed = w.FailpointFired(FailPush)
			require.NoError(t, w.Inject(sim.DisarmFailpoint{Failpoint: FailPush}))
		})
		w.At(40*time.Second, func() { held = sub.last() })
		w.Run(sim.Limits{Until: 90 * time.Second})
		require.Empty(t, w.Findings())
		return failed, w.Reached(), sub.last(), w.Fingerprint()
	}
	pipe := PushConfig{Mode: PushPipeline}
	failed, reached, last, fp := run(pipe)
	// 20s of failures: at most 1+3 tries per version scan (5s) and one
	// round before the first scan.
	require.LessOrEqual(t, failed, uint64(4*(20/5+1)))
	require.NotZero(t, reached["registry/push-gave-up"])
	require.NotZero(t, reached["registry/push-breaker-open"], "failed %d, reached %v", failed, reached)
	require.Equal(t, []string{"p0=x"}, held, "the open breaker holds pushes for its silence after the failures end")
	require.Equal(t, []string{"p0=y"}, last, "the scan pushes once the breaker closes")
	_, _, _, again := run(pipe)
	require.Equal(t, fp, again)
	forever, _, last, _ := run(PushConfig{Mode: PushImmediate})
	require.Greater(t, forever, uint64(40))
	require.Equal(t, []string{"p0=y"}, last)
}

// deaf is a client host that drops pushes (no ack) before from.
type deaf struct {
	testHost
	env  *sim.Env
	from time.Duration
}

func (h *deaf) Start(env *sim.Env) { h.env = env; h.testHost.Start(env) }
func (h *deaf) Message(c sim.ConnID, from sim.NodeID, m any) {
	if _, ok := m.(*Push); ok && h.env.Monotonic() < h.from {
		return
	}
	h.testHost.Message(c, from, m)
}

// A push whose ack never comes (the push timeout is long) is dropped
// after StuckTimeout so that the next change goes out; the immediate
// model waits for the push timeout.
func TestStuckPushDropped(t *testing.T) {
	run := func(push PushConfig) ([]string, map[string]uint64, uint64) {
		w := sim.NewWorld(sim.Config{Seed: 9})
		cfg := Config{Metas: []sim.NodeID{"meta-1", "meta-2", "meta-3"}, Data: []sim.NodeID{"data-1", "data-2"},
			Sessions: []sim.NodeID{"session-1"}, Slots: 16, Push: push, PushTimeout: time.Minute}
		AddServers(w, cfg)
		pub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Publish("svc", "p0", "x") }}
		sub := &deaf{testHost: testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Subscribe("svc", "s1") }}, from: 4 * time.Second}
		w.AddNode("pub", func() sim.Node { return pub })
		w.AddNode("sub", func() sim.Node { return sub })
		w.At(8*time.Second, func() { pub.client.Publish("svc", "p0", "y") })
		w.Run(sim.Limits{Until: 20 * time.Second})
		require.Empty(t, w.Findings())
		return sub.last(), w.Reached(), w.Fingerprint()
	}
	pipe := PushConfig{Mode: PushPipeline, Timeout: time.Minute, StuckTimeout: 2 * time.Second}
	last, reached, fp := run(pipe)
	require.Equal(t, []string{"p0=y"}, last, "the stuck push was dropped and the change pushed")
	require.NotZero(t, reached["registry/push-stuck-dropped"])
	_, _, again := run(pipe)
	require.Equal(t, fp, again)
	last, _, _ = run(PushConfig{Mode: PushImmediate})
	require.Empty(t, last, "the immediate model still waits for the minute-long push timeout")
}

// With the address switch on, a connection's failed pushes count
// together: 20 subscribers failing 4 pushes each (1 + 3 retries) are
// under their own breaker's 10 but over the address's 50, so the next
// change is held for the breaker's 60 s silence; with the switch off
// (the default) it is pushed at once. The switch's address list stops a
// client's pushes outright.
func TestAddressCircuitBreakerSwitch(t *testing.T) {
	run := func(fail bool, values ...string) (held, after []string, fp uint64) {
		w, cfg := pipeWorld(t, 6, PushConfig{Mode: PushPipeline})
		ops := &opsHost{}
		pub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Publish("svc", "p0", "x") }}
		sub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) {
			for i := range 20 {
				c.Subscribe("svc", fmt.Sprintf("s%d", i))
			}
		}}
		w.AddNode("ops", func() sim.Node { return ops })
		w.AddNode("pub", func() sim.Node { return pub })
		w.AddNode("sub", func() sim.Node { return sub })
		if len(values) > 0 {
			w.At(time.Second, func() { ops.provide(cfg, ProvideCircuitBreaker, values...) })
		}
		if fail {
			w.At(5*time.Second, func() { require.NoError(t, w.Inject(sim.ArmFailpoint{Failpoint: FailPush})) })
			w.At(12*time.Second, func() { require.NoError(t, w.Inject(sim.DisarmFailpoint{Failpoint: FailPush})) })
		}
		w.At(5100*time.Millisecond, func() { pub.client.Publish("svc", "p0", "y") })
		w.At(13*time.Second, func() { pub.client.Publish("svc", "p0", "z") })
		w.Run(sim.Limits{Until: 20 * time.Second})
		held = sub.pubsOf("s7")
		w.Run(sim.Limits{Until: 80 * time.Second})
		after = sub.pubsOf("s7")
		require.Empty(t, w.Findings())
		return held, after, w.Fingerprint()
	}
	held, after, _ := run(true)
	require.Equal(t, []string{"p0=z"}, held, "switch off: each subscriber's own breaker is closed")
	require.Equal(t, []string{"p0=z"}, after)
	held, after, fp := run(true, BreakerAddressSwitch)
	require.Equal(t, []string{"p0=x"}, held, "switch on: the connection's 80 failures hold it")
	require.Equal(t, []string{"p0=z"}, after, "the version scan pushes once the silence is over")
	_, _, again := run(true, BreakerAddressSwitch)
	require.Equal(t, fp, again)
	held, _, _ = run(false, BreakerAddressSwitch)
	require.Equal(t, []string{"p0=z"}, held, "no failures: nothing held")
	held, _, _ = run(false, BreakerAddressSwitch, "sub")
	require.Equal(t, []string{"p0=x"}, held, "an address on the switch's list is not pushed once pushed")
}

// A connection's failed-push record (the address breaker's statistics) goes
// with the connection: a subscriber that crashes while its pushes fail
// leaves none behind, and its reconnection's are dropped by its next
// acknowledged push.
func TestAddressRecordsGoWithTheConnection(t *testing.T) {
	run := func() uint64 {
		w, cfg := pipeWorld(t, 6, PushConfig{Mode: PushPipeline})
		pub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Publish("svc", "p0", "x") }}
		sub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Subscribe("svc", "s0") }}
		w.AddNode("pub", func() sim.Node { return pub })
		w.AddNode("sub", func() sim.Node { return sub })
		w.At(5*time.Second, func() { require.NoError(t, w.Inject(sim.ArmFailpoint{Failpoint: FailPush})) })
		w.At(5100*time.Millisecond, func() { pub.client.Publish("svc", "p0", "y") })
		w.Run(sim.Limits{Until: 9 * time.Second})
		s := w.Node("session-1").(*SessionServer)
		require.NotEmpty(t, s.push.addrs, "pushes to the subscriber failed")
		require.NoError(t, w.Inject(sim.Crash{Nodes: []sim.NodeID{"sub"}}))
		w.Run(sim.Limits{Until: 10 * time.Second})
		require.Empty(t, s.push.addrs, "the crashed subscriber's connection took its record")
		require.NoError(t, w.Inject(sim.Restart{Nodes: []sim.NodeID{"sub"}}))
		w.At(12*time.Second, func() { require.NoError(t, w.Inject(sim.DisarmFailpoint{Failpoint: FailPush})) })
		w.At(13*time.Second, func() { pub.client.Publish("svc", "p0", "z") })
		w.Run(sim.Limits{Until: 20 * time.Second})
		require.Equal(t, []string{"p0=z"}, sub.pubsOf("s0"))
		require.Empty(t, s.push.addrs)
		require.Empty(t, w.Findings())
		return w.Fingerprint()
	}
	require.Equal(t, run(), run())
}

// With the adaptive delay on, a change to a datum of more than Threshold
// publishers is merged for Base + PerPublisher x the publishers over it
// (here 2 s + 3 x 1 s); a datum at the threshold keeps the 1 s debounce,
// and with it off (the default) both do. The version scan, which would
// push it sooner, is kept out of the window.
func TestAdaptiveDelayForLargeChanges(t *testing.T) {
	pushedAfter := func(adaptive AdaptiveDelay, pubs int) (time.Duration, uint64) {
		w := sim.NewWorld(sim.Config{Seed: 8})
		cfg := Config{Metas: []sim.NodeID{"meta-1", "meta-2", "meta-3"}, Data: []sim.NodeID{"data-1", "data-2"}, Sessions: []sim.NodeID{"session-1"},
			Slots: 16, SyncInterval: time.Minute, Push: PushConfig{Mode: PushPipeline, Adaptive: adaptive}} // no version scan in the window
		AddServers(w, cfg)
		pub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) {
			for i := range pubs {
				c.Publish("svc", fmt.Sprintf("p%d", i), "x")
			}
		}}
		sub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Subscribe("svc", "s1") }}
		w.AddNode("pub", func() sim.Node { return pub })
		w.AddNode("sub", func() sim.Node { return sub })
		changed := 8 * time.Second
		var at time.Duration
		w.At(changed, func() { pub.client.Publish("svc", "p0", "y") })
		w.Run(sim.Limits{Until: changed})
		before := len(sub.pushes)
		for w.Now() < changed+20*time.Second && at == 0 {
			w.Run(sim.Limits{Until: w.Now() + 50*time.Millisecond})
			for _, d := range sub.pushes[before:] {
				for _, p := range d.Pubs {
					if p.RegID == "p0" && p.Data == "y" && at == 0 {
						at = w.Now() - changed
					}
				}
			}
		}
		require.Empty(t, w.Findings())
		return at, w.Fingerprint()
	}
	on := AdaptiveDelay{On: true, Threshold: 3, MaxPublishers: 8, Base: 2 * time.Second, PerPublisher: time.Second}
	large, fp := pushedAfter(on, 6)
	require.GreaterOrEqual(t, large, 5*time.Second, "2 s + 3 x 1 s")
	require.Less(t, large, 7*time.Second)
	_, again := pushedAfter(on, 6)
	require.Equal(t, fp, again)
	small, _ := pushedAfter(on, 3)
	require.Less(t, small, 2500*time.Millisecond, "at the threshold: the change debounce")
	off, _ := pushedAfter(AdaptiveDelay{}, 6)
	require.Less(t, off, 2500*time.Millisecond, "off by default")
}
