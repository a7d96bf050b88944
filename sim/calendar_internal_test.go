package sim

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// The calendar pops exactly what a binary heap on (time, sequence) pops,
// whatever mix of near, far, equal-time and peeked events it is given, as
// long as nothing is scheduled before the last event popped.
func TestCalendarPopsInHeapOrder(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var c calendar
		var h queue
		var now int64
		seq := uint64(0)
		offset := rapid.OneOf(
			rapid.Int64Range(0, 0),
			rapid.Int64Range(0, 3000),          // within a few buckets
			rapid.Int64Range(0, 2*span),        // around the span
			rapid.Int64Range(span, 1_000*span), // far
		)
		for i, n := 0, rapid.IntRange(1, 300).Draw(rt, "ops"); i < n; i++ {
			switch rapid.IntRange(0, 2).Draw(rt, "op") {
			case 0, 1:
				seq++
				e := entry{at: now + offset.Draw(rt, "offset"), key: seq << 8, a: seq}
				c.push(e)
				h.push(e)
			default:
				if len(h.h) == 0 {
					require.Nil(rt, c.peek())
					continue
				}
				require.Equal(rt, h.h[0], *c.peek())
				if rapid.Bool().Draw(rt, "only peek") {
					continue // and push next at now, before what was peeked
				}
				want, got := h.pop(), c.pop()
				require.Equal(rt, want, got)
				now = got.at
			}
		}
		for len(h.h) > 0 {
			require.Equal(rt, h.pop(), c.pop())
		}
		require.Nil(rt, c.peek())
		require.Zero(rt, c.n)
		require.Zero(rt, c.summary)
	})
}
