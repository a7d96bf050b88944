package registry

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/sim"
)

// The limiter is Guava's SmoothBursty: it starts empty, banks at most a
// second of permits, and admits one request beyond the bank.
func TestRateLimiterIsGuavaBursty(t *testing.T) {
	r := newRateLimiter(1000, 0)
	require.True(t, r.tryAcquire(0))
	require.False(t, r.tryAcquire(0), "empty at the start: the next permit is 1ms away")
	require.False(t, r.tryAcquire(999*time.Microsecond))
	require.True(t, r.tryAcquire(time.Millisecond))
	now := 3 * time.Second // idle for longer than a second: a second's permits banked
	admitted := 0
	for r.tryAcquire(now) {
		admitted++
	}
	require.Equal(t, 1001, admitted, "the bank, then one borrowed")
	require.True(t, r.tryAcquire(now+time.Millisecond))
}

// Over any span, the limiter admits at most a second's bank, the one
// borrowed permit and the rate times the span.
func TestRateLimiterNeverExceedsRate(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		rate := rapid.IntRange(1, 5000).Draw(t, "rate")
		r := newRateLimiter(rate, 0)
		now, admitted := time.Duration(0), 0
		for range rapid.IntRange(1, 500).Draw(t, "requests") {
			now += time.Duration(rapid.Int64Range(0, int64(10*time.Millisecond)).Draw(t, "gap"))
			if r.tryAcquire(now) {
				admitted++
			}
		}
		limit := rate + 1 + int(int64(rate)*int64(now)/int64(time.Second))
		if admitted > limit {
			t.Fatalf("%d admitted in %v at %d/s (at most %d)", admitted, now, rate, limit)
		}
	})
}

// A session limited to 5 registrations a second refuses most of a
// client's 12 subscribers registered at once; the client sends each
// refused one again (200 ms per refusal, at most 1 s) until all are
// registered and pushed.
func TestAccessLimitRefusesAndClientRetries(t *testing.T) {
	run := func() (map[string]uint64, uint64) {
		w := sim.NewWorld(sim.Config{Seed: 4})
		cfg := Config{Metas: []sim.NodeID{"meta-1", "meta-2", "meta-3"}, Data: []sim.NodeID{"data-1", "data-2"},
			Sessions: []sim.NodeID{"session-1"}, Slots: 16, AccessLimit: 5}
		AddServers(w, cfg)
		pub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}}
		sub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}}
		w.AddNode("pub", func() sim.Node { return pub })
		w.AddNode("sub", func() sim.Node { return sub })
		w.At(3*time.Second, func() { pub.client.Publish("svc", "p1", "a") })
		w.At(4*time.Second, func() {
			for i := range 12 {
				sub.client.Subscribe("svc", fmt.Sprintf("s%d", i))
			}
		})
		w.Run(sim.Limits{Until: 4100 * time.Millisecond})
		s := w.Node("session-1").(*SessionServer)
		require.Less(t, len(s.subs), 12, "the burst is beyond the limit")
		w.Run(sim.Limits{Until: 12 * time.Second})
		require.Len(t, s.subs, 12, "every refused registration was sent again")
		for i := range 12 {
			require.Equal(t, []string{"p1=a"}, sub.pubsOf(fmt.Sprintf("s%d", i)))
		}
		require.Empty(t, w.Findings())
		return w.Reached(), w.Fingerprint()
	}
	reached, fp := run()
	require.Positive(t, reached["registry/registration-refused-by-access-limit"])
	_, again := run()
	require.Equal(t, fp, again)
}

// A publisher refused by the access limit and then registered forgets its
// refusals (SOFARegistry counts them per register task): its next refusal
// waits 200 ms again, not 200 ms more per refusal it ever had.
func TestAcknowledgedPublisherForgetsItsRefusals(t *testing.T) {
	run := func() uint64 {
		w := sim.NewWorld(sim.Config{Seed: 4})
		cfg := Config{Metas: []sim.NodeID{"meta-1", "meta-2", "meta-3"}, Data: []sim.NodeID{"data-1", "data-2"},
			Sessions: []sim.NodeID{"session-1"}, Slots: 16, AccessLimit: 5}
		AddServers(w, cfg)
		acked := map[string]bool{}
		pub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions, OnPublishAck: func(reg string, _ uint64) { acked[reg] = true }}}
		w.AddNode("pub", func() sim.Node { return pub })
		w.At(3*time.Second, func() {
			for i := range 12 {
				pub.client.Publish("svc", fmt.Sprintf("p%d", i), "a")
			}
		})
		w.Run(sim.Limits{Until: 3100 * time.Millisecond})
		require.NotEmpty(t, pub.client.refusals, "the burst is beyond the limit")
		w.Run(sim.Limits{Until: 12 * time.Second})
		require.Len(t, acked, 12, "every refused publisher was sent again and registered")
		require.Empty(t, pub.client.refusals)
		require.Empty(t, w.Findings())
		return w.Fingerprint()
	}
	require.Equal(t, run(), run())
}
