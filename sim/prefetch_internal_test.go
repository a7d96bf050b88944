package sim

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// relay is a ring node: it dials its successor, sends one token and
// forwards every token it receives.
type relay struct {
	BaseNode
	env  *Env
	next NodeID
	out  ConnID
	tok  relayToken
}

type relayToken struct{ hops uint64 }

func (t *relayToken) Digest() uint64 { return t.hops }

func (r *relay) Start(env *Env) {
	r.env = env
	r.out = env.Dial(r.next)
	env.Send(r.out, &r.tok)
}

func (r *relay) Message(_ ConnID, _ NodeID, msg any) {
	msg.(*relayToken).hops++
	r.env.Send(r.out, msg)
}

func relayRing(seed uint64, nodes int) *World {
	w := NewWorld(Config{Seed: seed})
	for i := 0; i < nodes; i++ {
		next := NodeID(fmt.Sprintf("n%d", (i+1)%nodes))
		w.AddNode(NodeID(fmt.Sprintf("n%d", i)), func() Node { return &relay{next: next} })
	}
	return w
}

// Prefetching is a hint to the processor: with it or without it, a large
// world under faults (crashes and restarts, a partition, a clog) runs the
// same events.
func TestPrefetchChangesNothing(t *testing.T) {
	defer func() { prefetching = true }()
	run := func(on bool) (uint64, uint64) {
		prefetching = on
		w := relayRing(3, 2*prefetchNodes)
		ids := w.NodeIDs()
		require.NoError(t, w.Schedule([]Fault{
			{At: Duration(20 * time.Millisecond), Op: Crash{Nodes: ids[:20]}},
			{At: Duration(30 * time.Millisecond), Op: Partition{Cuts: MajorityMinority(ids, w.Stream("cut"))}},
			{At: Duration(40 * time.Millisecond), Op: Restart{Nodes: ids[:20]}},
			{At: Duration(50 * time.Millisecond), Op: Heal{}},
			{At: Duration(60 * time.Millisecond), Op: Clog{For: Duration(5 * time.Millisecond), Cuts: OneWay(ids[:50], ids[50:])}},
		}))
		out := w.Run(Limits{Until: 100 * time.Millisecond})
		return w.Fingerprint(), out.Events
	}
	fpOn, evOn := run(true)
	fpOff, evOff := run(false)
	require.Equal(t, fpOff, fpOn)
	require.Equal(t, evOff, evOn)
	require.Greater(t, evOn, uint64(20*prefetchNodes))
}

// BenchmarkPrefetch runs a ring of 10,000 nodes in alternating rounds
// without and with prefetching and reports the median ratio of their
// times (on/off): what prefetching saves where every event's state is a
// cache miss.
func BenchmarkPrefetch(b *testing.B) {
	defer func() { prefetching = true }()
	const nodes, round = 10_000, 50_000
	w := relayRing(1, nodes)
	w.Run(Limits{MaxEvents: 40 * nodes})
	var ratios []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var ns [2]float64
		for _, on := range []bool{i%2 == 0, i%2 != 0} {
			prefetching = on
			out := w.Run(Limits{MaxEvents: round})
			ns[btoi(on)] = float64(out.Wall.Nanoseconds()) / float64(out.Events)
		}
		ratios = append(ratios, ns[1]/ns[0])
	}
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "on/off")
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
