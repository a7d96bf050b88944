package registry

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestComputeTableCopyOnWrite: computeTable shares cur's slots only while
// it changes none of them, never changes cur, and once a table has
// settled arranging it again allocates no slots (the result shares them).
func TestComputeTableCopyOnWrite(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		slots := rapid.IntRange(1, 64).Draw(rt, "slots")
		all := procs("data", rapid.IntRange(1, 6).Draw(rt, "data"), 1)
		distinct := func(label string) []Proc {
			ps := rapid.SliceOfNDistinct(rapid.SampledFrom(all), 1, len(all), func(p Proc) string { return p.ID }).Draw(rt, label)
			sortProcs(ps)
			return ps
		}
		prev := arrange(&Table{}, distinct("prev"), slots)
		before := copyTable(&prev)
		live := distinct("live")
		next := computeTable(&prev, live, nil, slots, rapid.Bool().Draw(rt, "stable"))
		require.Equal(rt, before.Slots, prev.Slots, "cur is unchanged")
		shared := &next.Slots[0] == &prev.Slots[0]
		require.True(rt, !shared || slices.Equal(next.Slots, prev.Slots), "slots are shared only while unchanged")

		settled := arrange(&prev, live, slots)
		again := computeTable(&settled, live, nil, slots, true)
		require.True(rt, tablesEqual(&settled, &again))
		require.Same(rt, &settled.Slots[0], &again.Slots[0], "a settled table's slots are shared, not copied")
	})
}

// TestLoadCounts: load's counts are those of a plain count per slot.
func TestLoadCounts(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		all := append(procs("data", rapid.IntRange(1, 6).Draw(rt, "data"), 1), Proc{})
		tab := Table{Slots: rapid.SliceOf(rapid.Custom(func(rt *rapid.T) Slot {
			return Slot{Leader: rapid.SampledFrom(all).Draw(rt, "leader"), Follower: rapid.SampledFrom(all).Draw(rt, "follower")}
		})).Draw(rt, "slots")}
		wantLead, wantTotal := map[Proc]int{}, map[Proc]int{}
		for _, s := range tab.Slots {
			if s.Leader != (Proc{}) {
				wantLead[s.Leader]++
				wantTotal[s.Leader]++
			}
			if s.Follower != (Proc{}) {
				wantTotal[s.Follower]++
			}
		}
		lead, total := load(&tab)
		require.Equal(rt, wantLead, lead)
		require.Equal(rt, wantTotal, total)
	})
}
