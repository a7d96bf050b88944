package simbench

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/sim"
)

// The reference draws latencies as the kernel's default network does, so
// both run the same ping-pong: its bounded draw is math/rand/v2's.
func TestReferenceDrawsLikeMathRand(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s1, s2 := rapid.Uint64().Draw(rt, "s1"), rapid.Uint64().Draw(rt, "s2")
		n := rapid.Uint64Range(1, 1<<62).Draw(rt, "n")
		g := rand.NewPCG(s1, s2)
		want := rand.New(rand.NewPCG(s1, s2))
		for i := 0; i < 20; i++ {
			require.Equal(rt, uint64(want.Int64N(int64(n))), uint64n(g, n))
		}
	})
}

func TestReferenceIsDeterministicAndKeepsItsTokens(t *testing.T) {
	a, b := RefRing(7, 50), RefRing(7, 50)
	a.Run(100_000)
	b.Run(100_000)
	require.Equal(t, a.Hash(), b.Hash())
	require.Equal(t, uint64(100_000), a.Events())
	require.Len(t, a.q, 50, "one token in flight per node")
	c := RefRing(8, 50)
	c.Run(100_000)
	require.NotEqual(t, a.Hash(), c.Hash())

	lat := sim.DefaultNetwork().Latency
	// 100,000 hops of 50 tokens: some token made at least 2,000 hops of at
	// least the minimum latency each.
	require.GreaterOrEqual(t, a.now, 2000*int64(lat.Min))

	timers := RefIdleTimers(7, 1000)
	timers.Run(10_000)
	require.Len(t, timers.q, 1001, "idle timers stay pending")
}

func TestRingForwardsEveryToken(t *testing.T) {
	w := Ring(3, 20)
	out := w.Run(sim.Limits{Until: time.Second})
	require.Equal(t, sim.StopUntil, out.Reason)
	var received uint64
	for _, id := range w.NodeIDs() {
		s := w.Stats(id)
		require.Positive(t, s.Received, "%s received nothing", id)
		received += s.Received
	}
	var hops uint64
	for _, id := range w.NodeIDs() {
		hops += w.Node(id).(*ringNode).tok.hops
	}
	// Each node's own token counts the hops it made; every delivery is one
	// hop of one token.
	require.Equal(t, received, hops)
	again := Ring(3, 20)
	again.Run(sim.Limits{Until: time.Second})
	require.Equal(t, w.Fingerprint(), again.Fingerprint())
}

func TestIdleTimersStayPending(t *testing.T) {
	w := IdleTimers(3, 500)
	w.Run(sim.Limits{Until: 10 * time.Second})
	require.Zero(t, w.Stats("sleeper").Timers)
	require.Positive(t, w.Stats("ping").Received)
}

// Compare interleaves the workloads: every row runs the same rounds, each
// at least its workload's MinRound events, and growth is against the first
// row of the same rounds.
func TestCompareMeasuresSizesSideBySide(t *testing.T) {
	small, big := RingWorkload(10), RingWorkload(300)
	cs := Compare([]Workload{small, big}, 1, 1_000, 3)
	require.Len(t, cs, 2)
	require.Equal(t, "ring", cs[0].Workload)
	require.Equal(t, []int{10, 300}, []int{cs[0].Size, cs[1].Size})
	require.Equal(t, []uint64{1_000, big.MinRound}, []uint64{cs[0].Events, cs[1].Events})
	require.Greater(t, big.MinRound, uint64(1_000))
	require.Equal(t, big.Warm, cs[1].Warm)
	for _, c := range cs {
		require.Equal(t, 3, c.Rounds)
		require.Positive(t, c.KernelNs)
		require.Positive(t, c.ReferenceNs)
		require.Positive(t, c.HeapPerNode)
		require.InDelta(t, c.KernelNs/c.ReferenceNs, c.Ratio, c.Ratio) // a median of ratios, same order of magnitude
	}
	require.Equal(t, 1.0, cs[0].Growth)
	require.InDelta(t, cs[1].KernelNs/cs[0].KernelNs, cs[1].Growth, cs[1].Growth)

	// The measured world is the one warmed up and run: its fingerprint is
	// that of a world run for as many events in one go.
	w := big.Kernel(1)
	w.Run(sim.Limits{MaxEvents: big.Warm + 3*big.MinRound})
	require.Equal(t, w.Fingerprint(), cs[1].Fingerprint)
}

// Past its warm-up, a fan-out run (connection messages, datagrams, timers,
// disk writes, partitions, crashes and restarts, pauses, clogs, loss,
// clock faults) allocates next to nothing per event: a restart's Env and
// node object, and the odd buffer that grows.
func TestFanOutSteadyStateAllocatesAlmostNothing(t *testing.T) {
	const d = 6 * time.Second
	w := FanOut(5, 30, d)
	w.Run(FanOutWarm(d))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out := w.Run(sim.Limits{Until: d})
	runtime.ReadMemStats(&after)
	require.Greater(t, out.Events, uint64(20_000))
	perEvent := float64(after.Mallocs-before.Mallocs) / float64(out.Events)
	require.Less(t, perEvent, 0.002, "%d allocations in %d events", after.Mallocs-before.Mallocs, out.Events)

	again := FanOut(5, 30, d)
	again.Run(sim.Limits{Until: d})
	require.Equal(t, w.Fingerprint(), again.Fingerprint(), "a warm-up changes nothing but what is measured")
}
