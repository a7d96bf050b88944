package sim

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// fifoItems lists a direction's queued items' ready times, front first.
func fifoItems(it *items, f *fifo) []int64 {
	var out []int64
	if f.n == 0 {
		return out
	}
	out = append(out, f.front.ready)
	for i := f.first; i != 0; i = it.v[i-1].next {
		out = append(out, it.v[i-1].ready)
	}
	return out
}

// The item table keeps each direction's items in order however pushes,
// pops and resets interleave, and whenever it is dropped on emptying.
func TestItemsKeepOrder(t *testing.T) {
	defer func(k int) { itemsKeep = k }(itemsKeep)
	itemsKeep = 8 // so that the bursts drawn drop the table
	rapid.Check(t, func(rt *rapid.T) {
		var it items
		fs := make([]fifo, 3)
		model := make([][]int64, len(fs))
		next := int64(0)
		for range rapid.IntRange(0, 60).Draw(rt, "steps") {
			d := rapid.IntRange(0, len(fs)-1).Draw(rt, "fifo")
			switch op := rapid.IntRange(0, 11).Draw(rt, "op"); {
			case op < 6:
				for range rapid.IntRange(1, 1<<rapid.IntRange(0, 12).Draw(rt, "log")).Draw(rt, "burst") {
					next++
					it.push(&fs[d], queued{ready: next})
					model[d] = append(model[d], next)
				}
			case op < 9:
				for range min(int(fs[d].n), rapid.IntRange(1, 1<<rapid.IntRange(0, 12).Draw(rt, "logp")).Draw(rt, "pops")) {
					it.pop(&fs[d])
					model[d] = model[d][1:]
				}
			case op < 11:
				it.reset(&fs[d])
				model[d] = nil
			default: // the table empties: a burst may drop it
				for i := range fs {
					it.reset(&fs[i])
					model[i] = nil
				}
			}
			live := 0
			for i := range fs {
				require.Equal(rt, len(model[i]), int(fs[i].n))
				if len(model[i]) > 0 {
					require.Equal(rt, model[i], fifoItems(&it, &fs[i]))
					live += len(model[i]) - 1
				}
			}
			require.Equal(rt, live, int(it.live))
		}
	})
}

// A burst's table is dropped when a burst starts after two far smaller
// ones, and not before: a burst that recurs keeps its room.
func TestItemsDropAfterBurst(t *testing.T) {
	var it items
	var f fifo
	burst := func(n int) {
		for i := range n + 1 { // the first is the front, not in the table
			it.push(&f, queued{ready: int64(i)})
		}
		for i := range n + 1 {
			require.Equal(t, int64(i), f.front.ready, "in order")
			it.pop(&f)
		}
		require.Zero(t, f.n)
	}
	burst(3 * itemsKeep)
	big := cap(it.v)
	require.GreaterOrEqual(t, big, 3*itemsKeep)
	burst(10)
	require.Equal(t, big, cap(it.v), "the burst before is recent")
	burst(3 * itemsKeep)
	burst(10)
	require.Equal(t, big, cap(it.v), "the burst recurred")
	burst(10)
	require.Equal(t, big, cap(it.v), "one small burst since the last large one")
	burst(10)
	require.Less(t, cap(it.v), 64, "two small bursts since: dropped as the third started")
	burst(itemsKeep / 2)
	small := cap(it.v)
	burst(10)
	burst(10)
	burst(10)
	require.Equal(t, small, cap(it.v), "below itemsKeep the table is kept")
}
