package registry

import (
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
