package registry

import (
	"fmt"
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
