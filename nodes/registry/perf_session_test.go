package registry

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestSlotSet: a slotSet holds exactly the slots added to it.
func TestSlotSet(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var set slotSet
		model := map[int]bool{}
		for _, slot := range rapid.SliceOf(rapid.IntRange(0, 300)).Draw(rt, "added") {
			set.add(slot)
			model[slot] = true
		}
		for slot := -1; slot <= 320; slot++ {
			require.Equal(rt, model[slot], set.has(slot), "slot %d", slot)
		}
	})
}

// TestSlotIndex: after random publishes, moves to another dataInfoId and
// removals (as any code removes a publisher: from the map alone), a
// session's slot index of its publishers is the one computed afresh.
func TestSlotIndex(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := &SessionServer{pubs: map[string]*sessPub{}, m: member{cfg: Config{Slots: 8}}}
		for range rapid.IntRange(0, 60).Draw(rt, "steps") {
			reg := fmt.Sprintf("r%d", rapid.IntRange(0, 12).Draw(rt, "reg"))
			switch rapid.IntRange(0, 2).Draw(rt, "op") {
			case 0, 1: // publish, perhaps to another dataInfoId
				id := fmt.Sprintf("svc-%d", rapid.IntRange(0, 20).Draw(rt, "data"))
				s.pubs[reg] = &sessPub{Pub: Pub{RegID: reg, DataID: id}}
				s.indexPub(reg, s.slotOf(id))
			case 2:
				delete(s.pubs, reg)
			}
			slot := rapid.IntRange(0, 7).Draw(rt, "read")
			var want []string
			for _, reg := range sortedKeys(s.pubs) {
				if s.slotOf(s.pubs[reg].DataID) == slot {
					want = append(want, reg)
				}
			}
			require.Equal(rt, want, []string(s.slotRegs(slot)), "slot %d", slot)
		}
	})
}

// TestPendingRegs: with the registerId index, queueing writes replaces
// exactly the pending publishes and unpublishes a walk of the outbox
// finds, while writes are also removed behind the index's back (accepted,
// given up, dropped with their connection).
func TestPendingRegs(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := &SessionServer{outbox: map[uint64]*pending{}}
		model := map[uint64]*DataWrite{}
		next := uint64(0)
		for range rapid.IntRange(0, 300).Draw(rt, "steps") {
			if len(model) > 0 && rapid.IntRange(0, 3).Draw(rt, "remove") == 0 {
				r := rapid.SampledFrom(slices.Sorted(maps.Keys(model))).Draw(rt, "removed")
				delete(model, r)
				delete(s.outbox, r)
				continue
			}
			next++
			w := &DataWrite{ReqID: next, Kind: rapid.SampledFrom([]string{"pub", "unpub", "sync", "clientoff"}).Draw(rt, "kind"),
				Pub: Pub{RegID: fmt.Sprintf("r%d", rapid.IntRange(0, 5).Draw(rt, "reg")), DataID: fmt.Sprintf("svc-%d", rapid.IntRange(0, 2).Draw(rt, "data"))}}
			if isRegWrite(w) {
				for r, o := range model { //detlint:allow deletes every match
					if isRegWrite(o) && o.Pub.RegID == w.Pub.RegID && o.Pub.DataID == w.Pub.DataID {
						delete(model, r)
					}
				}
				s.dropPendingRegs(w.Pub.RegID, w.Pub.DataID)
			}
			model[w.ReqID] = w
			s.outbox[w.ReqID] = &pending{w: w}
			if isRegWrite(w) {
				s.pendingRegs.add(s, w.Pub.RegID, w.ReqID)
			}
			require.Equal(rt, slices.Sorted(maps.Keys(model)), sortedReqs(s.outbox))
			require.LessOrEqual(rt, s.pendingRegs.n, 2*len(s.outbox)+64)
		}
	})
}

// TestSubIndex: after random subscriptions (a registerId subscribing
// again, perhaps to another dataInfoId) and removals, each dataInfoId's
// subscriber list is the one computed afresh from s.subs: the very
// subscribers held, sorted by registerId; and a subscriber is marked gone
// exactly when s.subs no longer holds it (its pipeline timers rely on it).
func TestSubIndex(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := &SessionServer{subs: map[string]*sub{}, byData: map[string]subList{}}
		var made []*sub
		for range rapid.IntRange(0, 80).Draw(rt, "steps") {
			reg := fmt.Sprintf("r%d", rapid.IntRange(0, 15).Draw(rt, "reg"))
			if rapid.IntRange(0, 2).Draw(rt, "op") == 0 {
				s.dropSub(reg)
			} else {
				x := &sub{regID: reg, dataID: fmt.Sprintf("svc-%d", rapid.IntRange(0, 4).Draw(rt, "data"))}
				made = append(made, x)
				s.putSub(x)
			}
			for i, x := range made {
				require.Equal(rt, s.subs[x.regID] != x, x.gone, "subscriber %d", i)
			}
			want := map[string]subList{}
			for _, reg := range sortedKeys(s.subs) {
				x := s.subs[reg]
				want[x.dataID] = append(want[x.dataID], x)
			}
			require.Equal(rt, len(want), len(s.byData))
			for id, subs := range want { //detlint:allow each compared alone
				require.Len(rt, s.byData[id], len(subs), "%s", id)
				for i, x := range subs {
					require.Same(rt, x, s.byData[id][i], "%s #%d", id, i)
				}
			}
		}
	})
}

// TestSameProc: sameProc is ==, whether the names are one string, equal
// copies or different.
func TestSameProc(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		name := rapid.SampledFrom([]string{"", "data-1", "data-2", "data-10", "session-1"})
		a := Proc{ID: name.Draw(rt, "a"), Inc: rapid.Uint32Range(0, 2).Draw(rt, "a-inc")}
		b := Proc{ID: name.Draw(rt, "b"), Inc: rapid.Uint32Range(0, 2).Draw(rt, "b-inc")}
		if rapid.Bool().Draw(rt, "copy") {
			b.ID = strings.Clone(b.ID) // equal names in other memory
		}
		require.Equal(rt, a == b, sameProc(&a, &b), "%v %v", a, b)
	})
}

// TestInterests: the version scan's counting sort groups the datums as a
// map of slots did: slots ascending, each slot's datums in the given order
// with what the session holds of each.
func TestInterests(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := &SessionServer{m: member{cfg: Config{Slots: 16}}, subs: map[string]*sub{}, byData: map[string]subList{}, cache: map[string]*Datum{}}
		var ids []string
		for i := range rapid.IntRange(0, 40).Draw(rt, "datums") {
			id := fmt.Sprintf("svc-%d", i)
			ids = append(ids, id)
			if rapid.Bool().Draw(rt, "cached") {
				s.cache[id] = &Datum{DataID: id, Version: rapid.Uint64Range(1, 9).Draw(rt, "version"), Pubs: []PubData{{RegID: "p", Data: id}}}
			}
			for r := range rapid.IntRange(0, 2).Draw(rt, "subs") {
				s.putSub(&sub{regID: fmt.Sprintf("%s/r%d", id, r), dataID: id, pushed: rapid.Uint64Range(0, 9).Draw(rt, "pushed")})
			}
		}
		sortStrings(ids)
		bySlot := map[int]*SlotInterests{}
		var slots []int
		for _, id := range ids {
			slot := s.slotOf(id)
			in := bySlot[slot]
			if in == nil {
				in = &SlotInterests{Slot: slot}
				bySlot[slot] = in
				slots = append(slots, slot)
			}
			have, digest := s.held(id)
			in.IDs, in.Have, in.Digests = append(in.IDs, id), append(in.Have, have), append(in.Digests, digest)
		}
		sortInts(slots)
		want := []SlotInterests{}
		for _, slot := range slots {
			want = append(want, *bySlot[slot])
		}
		require.Equal(rt, want, s.interests(ids))
	})
}

// TestSlotDigestMemo: after random publishes (a new publisher each, as
// onPublish stores), moves to another dataInfoId and removals, a slot's
// remembered digest is the one computed afresh from its publishers.
func TestSlotDigestMemo(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := &SessionServer{pubs: map[string]*sessPub{}, m: member{cfg: Config{Slots: 8}}}
		for range rapid.IntRange(0, 80).Draw(rt, "steps") {
			reg := fmt.Sprintf("r%d", rapid.IntRange(0, 12).Draw(rt, "reg"))
			switch rapid.IntRange(0, 3).Draw(rt, "op") {
			case 0, 1: // publish, perhaps to another dataInfoId, perhaps the same data again
				id := fmt.Sprintf("svc-%d", rapid.IntRange(0, 20).Draw(rt, "data"))
				p := Pub{RegID: reg, DataID: id, Data: fmt.Sprintf("d%d", rapid.IntRange(0, 2).Draw(rt, "value")), Version: rapid.Uint64Range(1, 3).Draw(rt, "version")}
				s.pubs[reg] = &sessPub{Pub: p}
				s.indexPub(reg, s.slotOf(id))
			case 2:
				delete(s.pubs, reg)
			case 3: // read a slot, remembering its digest
			}
			slot := rapid.IntRange(0, 7).Draw(rt, "read")
			require.Equal(rt, pubsDigest(s.slotPubs(slot)), s.slotDigest(slot), "slot %d", slot)
		}
	})
}

// TestSyncPubs: a pending sync's publishers, reused while its slot holds
// the same ones, are always the slot's publishers now, and a list once
// sent is never changed afterwards.
func TestSyncPubs(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := &SessionServer{pubs: map[string]*sessPub{}, m: member{cfg: Config{Slots: 4}}}
		p := &pending{w: &DataWrite{Kind: "sync", Slot: rapid.IntRange(0, 3).Draw(rt, "slot")}}
		var sent, copies [][]Pub
		for range rapid.IntRange(0, 60).Draw(rt, "steps") {
			reg := fmt.Sprintf("r%d", rapid.IntRange(0, 8).Draw(rt, "reg"))
			switch rapid.IntRange(0, 3).Draw(rt, "op") {
			case 0: // publish, perhaps to another dataInfoId or slot
				id := fmt.Sprintf("svc-%d", rapid.IntRange(0, 9).Draw(rt, "data"))
				s.pubs[reg] = &sessPub{Pub: Pub{RegID: reg, DataID: id, Version: rapid.Uint64Range(1, 3).Draw(rt, "version")}}
				s.indexPub(reg, s.slotOf(id))
			case 1:
				delete(s.pubs, reg)
			default: // a send
			}
			got := s.syncPubs(p)
			require.Equal(rt, s.slotPubs(p.w.Slot), got)
			sent, copies = append(sent, got), append(copies, slices.Clone(got))
		}
		for i := range sent {
			require.Equal(rt, copies[i], sent[i], "send %d changed", i)
		}
	})
}
