package registry

// Balancing a settled table, as SOFARegistry's DefaultSlotBalancer with
// NaiveBalancePolicy (sofa-registry b3e89e9, server/server/meta/.../slot/
// balance): a round makes the first kind of move that finds something to
// do, in this order, and only that kind:
//
//  1. leaders above the high water mark (ceil of slots/n, x 1.1 rounded
//     up) hand slots to their followers (at most MaxLeaderMoves), or, when
//     none of their followers may take one, their followers move to data
//     servers that may (at most MaxFollowerMoves);
//  2. followers above the high water mark move to the data servers with
//     the fewest followers (at most MaxFollowerMoves, one at a time);
//  3. data servers below the low water mark (floor of slots/n, x 0.9
//     rounded down) take followers from those with the most;
//  4. data servers leading fewer than the low water mark take over slots
//     they follow (at most MaxLeaderMoves).
//
// A data server inside the band [low, high] is left alone. As in the real
// loops, the caps are checked between passes over the data servers out of
// the band, so a round may exceed a cap by fewer moves than there are data
// servers.

import (
	"cmp"
	"slices"
)

// balance takes one round; it reports whether anything moved.
func (b *builder) balance() bool {
	if len(b.data) < 2 {
		return false // LeaderOnlyBalancer: one replica, nothing to swap with
	}
	slots, n := len(b.w.t.Slots), len(b.data)
	ceil, floor := ceilDiv(slots, n), slots/n
	return b.upgradeHighLeaders(highWater(ceil)) || b.migrateHighLeaders(highWater(ceil)) ||
		b.balanceHighFollowers(highWater(ceil)) || b.balanceLowFollowers(lowWater(floor)) ||
		b.upgradeLowLeaders(lowWater(floor))
}

func (b *builder) leadsAbove(th int) func(int) bool {
	return func(d int) bool { return b.lead[d] > th }
}
func (b *builder) leadsBelow(th int) func(int) bool {
	return func(d int) bool { return b.lead[d] < th }
}
func (b *builder) followsAbove(th int) func(int) bool {
	return func(d int) bool { return b.foll[d] > th }
}
func (b *builder) followsBelow(th int) func(int) bool {
	return func(d int) bool { return b.foll[d] < th }
}

// set marks the data servers listed.
func (b *builder) set(lists ...[]int) []bool {
	out := make([]bool, len(b.data))
	for _, l := range lists {
		for _, d := range l {
			out[d] = true
		}
	}
	return out
}

// upgradeHighLeaders: each data server above th hands one of its slots to
// the follower with the fewest leaders that is neither above th nor at it.
func (b *builder) upgradeHighLeaders(th int) bool {
	moved := 0
	stuck := make([]bool, len(b.data))
	for moved < MaxLeaderMoves {
		last := moved
		highs := b.servers(b.leadsAbove(th), b.mostLeaders)
		if len(highs) == 0 || allOf(highs, stuck) {
			break
		}
		excl := b.set(highs, b.servers(b.leadsAbove(th-1), b.mostLeaders))
		for _, h := range highs {
			if stuck[h] {
				continue
			}
			to, slot := b.upgradeOut(h, excl)
			if to < 0 {
				stuck[h] = true
				continue
			}
			b.replaceLeader(slot, to)
			moved++
		}
		if last == moved {
			break
		}
	}
	return moved > 0
}

// upgradeOut (selectFollower4LeaderUpgradeOut): among the followers of h's
// slots not excluded, the one with the fewest leaders, and its first slot.
func (b *builder) upgradeOut(h int, excl []bool) (to, slot int) {
	to, slot = -1, -1
	for i, s := range b.w.t.Slots {
		if s.Leader != b.data[h] {
			continue
		}
		if f := b.index(s.Follower); f >= 0 && !excl[f] && (to < 0 || cmp.Or(b.leastLeaders(f, to), cmp.Compare(f, to)) < 0) {
			to, slot = f, i
		}
	}
	return to, slot
}

// migrateHighLeaders: when no follower of a high leader may take a slot,
// move one of those followers (from the data server following most of
// its slots) to the data server with the fewest leaders that may, so that
// the next round can upgrade it; each data server above th once a pass.
func (b *builder) migrateHighLeaders(th int) bool {
	moved := 0
	for moved < MaxFollowerMoves {
		last := moved
		highs := b.servers(b.leadsAbove(th), b.mostLeaders)
		if len(highs) == 0 {
			return false
		}
		excl := b.set(highs, b.servers(b.leadsAbove(th-1), b.mostLeaders))
		fresh := make([]bool, len(b.data)) // this pass's new followers are not moved again
		for _, h := range highs {
			slot, to := b.migrateFollower(h, excl, fresh)
			if slot < 0 {
				continue
			}
			b.moveFollower(slot, to)
			fresh[to] = true
			moved++
		}
		if last == moved {
			break
		}
	}
	return moved > 0
}

// migrateFollower (selectFollower4LeaderMigrate): the slot of h whose
// follower follows most, and the data server with the fewest leaders,
// not excluded, that does not follow it already.
func (b *builder) migrateFollower(h int, excl, fresh []bool) (slot, to int) {
	of := map[int][]int{}
	var froms []int
	for i, s := range b.w.t.Slots {
		if s.Leader != b.data[h] {
			continue
		}
		if f := b.index(s.Follower); f >= 0 && !fresh[f] {
			if _, ok := of[f]; !ok {
				froms = append(froms, f)
			}
			of[f] = append(of[f], i)
		}
	}
	slices.Sort(froms)
	slices.SortStableFunc(froms, b.mostFollowers)
	cands := b.servers(func(d int) bool { return !excl[d] }, b.leastLeaders)
	for _, from := range froms {
		for _, i := range of[from] {
			for _, c := range cands {
				if c != from && b.slot(i).Follower != b.data[c] {
					return i, c
				}
			}
		}
	}
	return -1, -1
}

// balanceHighFollowers: a data server following more than th gives one
// slot to the data server with the fewest followers, neither above th nor
// at it, that holds no replica of it; one move a pass.
func (b *builder) balanceHighFollowers(th int) bool {
	moved := 0
	for moved < MaxFollowerMoves {
		highs := b.servers(b.followsAbove(th), b.mostFollowers)
		if len(highs) == 0 {
			break
		}
		excl := b.set(highs, b.servers(b.followsAbove(th-1), b.mostFollowers))
		cands := b.servers(func(d int) bool { return !excl[d] }, b.leastFollowers)
		prev := moved
	pass:
		for _, h := range highs {
			for i, s := range b.w.t.Slots {
				if s.Follower != b.data[h] {
					continue
				}
				for _, c := range cands {
					if !b.holds(c, i) {
						b.moveFollower(i, c)
						moved++
						break pass
					}
				}
			}
		}
		if prev == moved {
			break
		}
	}
	return moved > 0
}

// balanceLowFollowers: a data server following fewer than th takes a slot
// from the data server with the most followers, neither below th nor at
// it, of which it holds no replica; one move a pass.
func (b *builder) balanceLowFollowers(th int) bool {
	moved := 0
	for moved < MaxFollowerMoves {
		lows := b.servers(b.followsBelow(th), b.leastFollowers)
		if len(lows) == 0 {
			break
		}
		excl := b.set(lows, b.servers(b.followsBelow(th+1), b.leastFollowers))
		cands := b.servers(func(d int) bool { return !excl[d] }, b.mostFollowers)
		prev := moved
	pass:
		for _, l := range lows {
			for _, c := range cands {
				for i, s := range b.w.t.Slots {
					if s.Follower == b.data[c] && !b.holds(l, i) {
						b.moveFollower(i, l)
						moved++
						break pass
					}
				}
			}
		}
		if prev == moved {
			break
		}
	}
	return moved > 0
}

// upgradeLowLeaders: each data server leading fewer than th takes over a
// slot it follows from the leader with the most leaders that is neither
// below th nor at it.
func (b *builder) upgradeLowLeaders(th int) bool {
	moved := 0
	stuck := make([]bool, len(b.data))
	for moved < MaxLeaderMoves {
		last := moved
		lows := b.servers(b.leadsBelow(th), b.leastLeaders)
		if len(lows) == 0 || allOf(lows, stuck) {
			break
		}
		excl := b.set(lows, b.servers(b.leadsBelow(th+1), b.leastLeaders))
		for _, l := range lows {
			if stuck[l] {
				continue
			}
			slot := b.upgradeIn(l, excl)
			if slot < 0 {
				stuck[l] = true
				continue
			}
			b.replaceLeader(slot, l)
			moved++
		}
		if last == moved {
			break
		}
	}
	return moved > 0
}

// upgradeIn (selectFollower4LeaderUpgradeIn): among the leaders of the
// slots l follows, not excluded, the one with the most leaders; its first
// such slot.
func (b *builder) upgradeIn(l int, excl []bool) int {
	from, slot := -1, -1
	for i, s := range b.w.t.Slots {
		if s.Follower != b.data[l] {
			continue
		}
		if d := b.index(s.Leader); d >= 0 && !excl[d] && (from < 0 || cmp.Or(b.mostLeaders(d, from), cmp.Compare(d, from)) < 0) {
			from, slot = d, i
		}
	}
	return slot
}

func allOf(ds []int, marked []bool) bool {
	for _, d := range ds {
		if !marked[d] {
			return false
		}
	}
	return true
}
