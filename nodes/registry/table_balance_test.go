package registry

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// counts of each data server's leaders and followers in t.
func counts(t *Table, data []Proc) (lead, foll []int) {
	lead, foll = make([]int, len(data)), make([]int, len(data))
	for _, s := range t.Slots {
		for d, p := range data {
			if s.Leader == p {
				lead[d]++
			}
			if s.Follower == p {
				foll[d]++
			}
		}
	}
	return lead, foll
}

// inBand: every data server leads and follows within the balancer's water
// marks.
func inBand(t *Table, data []Proc) bool {
	slots, n := len(t.Slots), len(data)
	lo, hi := lowWater(slots/n), highWater(ceilDiv(slots, n))
	lead, foll := counts(t, data)
	for d := range data {
		if lead[d] < lo || lead[d] > hi || foll[d] < lo || foll[d] > hi {
			return false
		}
	}
	return true
}

// moves counts the slots whose leader changed and those whose follower
// changed to another data server than the old leader (an upgrade swaps
// the two; the old leader simply stops being a replica).
func moves(a, b *Table) (leaders, followers int) {
	for i := range a.Slots {
		if a.Slots[i].Leader != b.Slots[i].Leader {
			leaders++
		} else if a.Slots[i].Follower != b.Slots[i].Follower {
			followers++
		}
	}
	return leaders, followers
}

// drawTable: an assigned table of slots over data, drawn at random (any
// imbalance), every slot led and followed by two different data servers.
func drawTable(rt *rapid.T, data []Proc, slots int) Table {
	t := Table{Data: data, Slots: make([]Slot, slots)}
	for i := range t.Slots {
		l := rapid.IntRange(0, len(data)-1).Draw(rt, "leader")
		f := (l + rapid.IntRange(1, len(data)-1).Draw(rt, "follower")) % len(data)
		t.Slots[i] = Slot{Leader: data[l], Follower: data[f]}
	}
	return t
}

// TestBalanceRoundWithinCaps: a balancing round changes one kind of
// replica, leaders by at most MaxLeaderMoves and followers by at most
// MaxFollowerMoves, each plus fewer than the data servers (the real loops
// check their caps between passes), and leaves every slot with a leader.
func TestBalanceRoundWithinCaps(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		data := procs("data", rapid.IntRange(2, 6).Draw(rt, "data"), 1)
		cur := drawTable(rt, data, rapid.IntRange(1, 256).Draw(rt, "slots"))
		next := computeTable(&cur, data, nil, len(cur.Slots), true)
		leaders, followers := moves(&cur, &next)
		require.LessOrEqual(rt, leaders, MaxLeaderMoves+len(data)-1)
		require.LessOrEqual(rt, followers, MaxFollowerMoves+len(data)-1)
		require.True(rt, leaders == 0 || followers == 0, "one kind of move a round: %d leaders, %d followers", leaders, followers)
		for i, s := range next.Slots {
			require.NotEqualf(rt, Proc{}, s.Leader, "slot %d", i)
			require.NotEqualf(rt, s.Leader, s.Follower, "slot %d", i)
		}
	})
}

// TestBalanceLeavesTheBandAlone: a table whose data servers all lead and
// follow within the water marks is not balanced.
func TestBalanceLeavesTheBandAlone(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		data := procs("data", rapid.IntRange(2, 6).Draw(rt, "data"), 1)
		slots := rapid.IntRange(1, 256).Draw(rt, "slots")
		cur := balanceTask(data, nil, slots) // round-robin: within the band
		for range rapid.IntRange(0, 8).Draw(rt, "swaps") {
			i := rapid.IntRange(0, slots-1).Draw(rt, "slot")
			cur.Slots[i].Leader, cur.Slots[i].Follower = cur.Slots[i].Follower, cur.Slots[i].Leader
		}
		if !inBand(&cur, data) {
			rt.Skip("swapped out of the band")
		}
		next := computeTable(&cur, data, nil, slots, true)
		require.True(rt, tablesEqual(&cur, &next), "a table within the band is left as it is")
	})
}

// TestBalanceConverges: from any assigned table, arranging round after
// round (each settled before the next) reaches a table that no round
// changes, with every data server within the band.
func TestBalanceConverges(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		data := procs("data", rapid.IntRange(2, 6).Draw(rt, "data"), 1)
		cur := drawTable(rt, data, rapid.IntRange(1, 256).Draw(rt, "slots"))
		final := arrange(&cur, data, len(cur.Slots))
		lead, foll := counts(&final, data)
		require.Truef(rt, inBand(&final, data), "leaders %v, followers %v", lead, foll)
	})
}

// TestBalanceStepByStep: two data servers join one that holds every slot.
// The first table only gives them the missing followers; then each
// settled round moves a few replicas of one kind (a leader handed to its
// follower leaves the slot without one, which the next round assigns),
// nothing moves before the table settles but missing followers, and in
// the end each data server leads and follows within the band.
func TestBalanceStepByStep(t *testing.T) {
	prev := arrange(&Table{}, procs("data", 1, 1), 256)
	three := procs("data", 3, 1)
	cur := computeTable(&prev, three, nil, 256, false)
	lead, foll := counts(&cur, three)
	require.Equal(t, []int{256, 0, 0}, lead, "assigning moves no leader")
	require.Equal(t, 256, foll[1]+foll[2])
	rounds := 0
	for ; rounds < 200; rounds++ {
		unsettled := computeTable(&cur, three, nil, 256, false)
		next := computeTable(&cur, three, nil, 256, true)
		if tablesEqual(&cur, &next) {
			break
		}
		leaders, followers := moves(&cur, &next)
		if !tablesEqual(&cur, &unsettled) { // a slot lacked its follower: assigned, not balanced
			require.True(t, tablesEqual(&unsettled, &next))
			require.Zero(t, leaders)
		} else {
			require.LessOrEqual(t, leaders, MaxLeaderMoves+2)
			require.LessOrEqual(t, followers, MaxFollowerMoves+2)
			require.True(t, leaders == 0 || followers == 0)
		}
		cur = next
	}
	require.Greater(t, rounds, 256/3/MaxLeaderMoves, "leaders moved a few at a time")
	require.Less(t, rounds, 200, "balanced in the end")
	lead, foll = counts(&cur, three)
	require.Truef(t, inBand(&cur, three), "leaders %v, followers %v", lead, foll)
}

// TestRealAssignerFillsGaps: DefaultSlotAssigner's choices give every slot
// a live leader and another live follower, keep every live replica a
// replica, and promote a dead leader's follower while it leads fewer than
// the high water mark.
func TestRealAssignerFillsGaps(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		all := procs("data", rapid.IntRange(2, 6).Draw(rt, "data"), 1)
		prev := drawTable(rt, all, rapid.IntRange(1, 64).Draw(rt, "slots"))
		live := rapid.SliceOfNDistinct(rapid.SampledFrom(all), 2, len(all), func(p Proc) string { return p.ID }).Draw(rt, "live")
		sortProcs(live)
		next := arrangeTable(&prev, live, nil, len(prev.Slots), false, true)
		isLive := func(p Proc) bool { return slices.Contains(live, p) }
		for i, s := range next.Slots {
			require.Truef(rt, isLive(s.Leader) && isLive(s.Follower) && s.Leader != s.Follower, "slot %d: %v", i, s)
			old := prev.Slots[i]
			for _, p := range []Proc{old.Leader, old.Follower} {
				if isLive(p) {
					require.Truef(rt, s.Leader == p || s.Follower == p, "slot %d: live replica %v dropped", i, p)
				}
			}
		}
	})
}
