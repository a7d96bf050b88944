package sim

import (
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
