package sim

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// The queue pops in (time, sequence) order whatever the interleaving of
// pushes and pops.
func TestQueuePopsInOrder(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var q queue
		var model []entry
		seq := uint64(0)
		for i, n := 0, rapid.IntRange(1, 400).Draw(rt, "ops"); i < n; i++ {
			if len(model) == 0 || rapid.IntRange(0, 2).Draw(rt, "op") < 2 {
				seq++
				e := entry{at: rapid.Int64Range(0, 50).Draw(rt, "at"), key: seq<<8 | uint64(evDeliver), a: seq}
				q.push(e)
				model = append(model, e)
				continue
			}
			slices.SortFunc(model, func(a, b entry) int {
				if a.less(&b) {
					return -1
				}
				return 1
			})
			require.Equal(rt, model[0], q.pop())
			model = model[1:]
		}
		require.Len(rt, q.h, len(model))
	})
}

// The wheel pops in (time, sequence) order, as the heap does, whatever
// the mix of near, far and simultaneous events, as long as nothing is
// pushed before the last event popped (the kernel never does).
func TestWheelPopsInOrder(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var w wheel
		var model []entry
		seq, now := uint64(0), int64(0)
		for i, n := 0, rapid.IntRange(1, 600).Draw(rt, "ops"); i < n; i++ {
			if len(model) == 0 || rapid.IntRange(0, 2).Draw(rt, "op") < 2 {
				seq++
				var d int64
				switch rapid.IntRange(0, 3).Draw(rt, "how far") {
				case 0:
					d = rapid.Int64Range(0, 3).Draw(rt, "same bucket")
				case 1:
					d = rapid.Int64Range(0, 3<<wheelShift).Draw(rt, "near")
				case 2:
					d = rapid.Int64Range(0, 2*wheelSize<<wheelShift).Draw(rt, "around the ring")
				default:
					d = rapid.Int64Range(0, 1<<40).Draw(rt, "far")
				}
				e := entry{at: now + d, key: seq<<8 | uint64(evDeliver), a: seq}
				w.push(e, now)
				model = append(model, e)
				require.Equal(rt, len(model), w.len())
				continue
			}
			slices.SortFunc(model, func(a, b entry) int {
				if a.less(&b) {
					return -1
				}
				return 1
			})
			q := w.front()
			require.NotNil(rt, q)
			e := q.pop()
			require.Equal(rt, model[0], e)
			model = model[1:]
			now = e.at
		}
		require.Equal(rt, len(model), w.len())
		got := 0
		w.each(func(*entry) { got++ })
		require.Equal(rt, len(model), got)
	})
}

// An event packed into an entry (four words) hands back every field its
// kind carries, through push, requeue and pop, and its payload once.
func TestEntryKeepsEveryField(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		w := NewWorld(Config{Seed: 1})
		for i := rapid.IntRange(0, 5).Draw(rt, "payloads before"); i > 0; i-- {
			w.payloads.put(i) // so that a payload's index is not 0
		}
		kind := rapid.SampledFrom([]uint8{evStart, evDeliver, evConnClose, evKeepalive, evConnectEnd,
			evDatagram, evTimer, evFault, evCall, evExpire}).Draw(rt, "kind")
		ev := event{at: rapid.Int64Range(0, 1<<50).Draw(rt, "at"), kind: kind,
			node: rapid.Int32Range(0, 1<<31-1).Draw(rt, "node"),
			a:    rapid.Uint64Range(0, idMask).Draw(rt, "a")}
		if kind != evDatagram && kind != evFault && kind != evCall && kind != evDeliver && kind != evStart {
			ev.inc = rapid.Uint32().Draw(rt, "inc")
		}
		switch kind {
		case evDeliver, evConnClose:
			ev.b = rapid.Uint64Range(0, 1).Draw(rt, "b")
		case evKeepalive:
			ev.b = rapid.Uint64Range(0, 1).Draw(rt, "b")
			ev.c = rapid.Uint64Range(0, genMask).Draw(rt, "c")
		case evTimer:
			ev.b = rapid.Uint64Range(0, genMask).Draw(rt, "b")
		case evDatagram, evFault, evCall:
			ev.p = rapid.String().Draw(rt, "p")
		}
		w.push(ev)
		q := w.head()
		require.NotNil(rt, q)
		e := q.pop()
		if rapid.Bool().Draw(rt, "requeue") {
			w.requeue(e, e.at+1)
			e = w.head().pop()
			ev.at++
		}
		require.Equal(rt, ev.at, e.at)
		require.Equal(rt, kind, e.kind())
		require.Equal(rt, ev.node, e.node())
		require.Equal(rt, ev.inc, e.inc())
		require.Equal(rt, ev.a, e.id())
		switch kind {
		case evDeliver, evConnClose:
			require.Equal(rt, int(ev.b), e.bit())
		case evKeepalive:
			require.Equal(rt, int(ev.b), e.bit())
			require.True(rt, sameGen(e.gen(), ev.c))
		case evTimer:
			require.True(rt, sameGen(e.gen(), ev.b))
		case evDatagram, evFault, evCall:
			require.Equal(rt, ev.p, w.payload(&e))
		}
		require.Nil(rt, w.head(), "one event in, one out")
	})
}

// BenchmarkQueueHold is the classic hold model: pop the earliest entry and
// push one a random delay (the default latency's bulk) later, with size
// entries in the queue: the heap alone, and the wheel in front of it.
func BenchmarkQueueHold(b *testing.B) {
	for _, size := range []int{10, 10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("size=%d/heap", size), func(b *testing.B) {
			var q queue
			hold(b, size, q.push, func(int64) entry { return q.pop() })
		})
		b.Run(fmt.Sprintf("size=%d/wheel", size), func(b *testing.B) {
			var w wheel
			now := int64(0)
			hold(b, size, func(e entry) { w.push(e, now) }, func(int64) entry {
				e := w.front().pop()
				now = e.at
				return e
			})
		})
	}
}

func hold(b *testing.B, size int, push func(entry), pop func(int64) entry) {
	r := newPCG(1, "hold")
	seq := uint64(0)
	for i := 0; i < size; i++ {
		seq++
		push(entry{at: r.int64n(2_000_000), key: seq << 8})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := pop(0)
		seq++
		push(entry{at: e.at + 200_000 + r.int64n(1_800_000), key: seq << 8})
	}
}

// After a burst, the wheel drops the arrays it grew for it once two laps
// of quiet traffic have passed, and pops in order throughout.
func TestWheelTrimsAfterBurst(t *testing.T) {
	var w wheel
	var model queue // the reference order (TestQueuePopsInOrder)
	seq, now := uint64(0), int64(0)
	add := func(at int64) {
		seq++
		e := entry{at: at, key: seq<<8 | uint64(evDeliver), a: seq}
		w.push(e, now)
		model.push(e)
	}
	held := func() int {
		n := cap(w.cur.h)
		for _, s := range w.ring {
			n += cap(s)
		}
		return n
	}
	for i := range 20_000 { // a burst across the ring
		add(int64(i%wheelSize) << wheelShift)
	}
	for i := range int64(100) { // then 100 chains of events a bucket apart
		add((wheelSize + i) << wheelShift)
	}
	burst := held()
	require.GreaterOrEqual(t, burst, 20_000)
	for popped := 0; len(model.h) > 0; popped++ {
		e := w.front().pop()
		require.Equal(t, model.pop(), e, "pop %d", popped)
		now = e.at
		if e.at >= wheelSize<<wheelShift && popped < 20_000+300*trimLap {
			add(e.at + 100<<wheelShift) // the chains go on
		}
	}
	require.Less(t, held(), burst/10, "the burst's arrays are gone")
}
