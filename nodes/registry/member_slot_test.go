package registry

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestMemberSlotOf: the member's slot of a dataInfoId, read in place, is
// SlotOf's, for local and remote dataInfoIds and any slot count.
func TestMemberSlotOf(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		id := rapid.String().Draw(rt, "id")
		if rapid.Bool().Draw(rt, "remote") {
			id = RemoteID(rapid.StringMatching(`dc[0-9]`).Draw(rt, "dc"), id)
		}
		slots := rapid.SampledFrom([]int{1, 16, 256, 100, 7}).Draw(rt, "slots")
		m := member{cfg: Config{Slots: slots}}
		require.Equal(rt, SlotOf(id, slots), m.slotOf(id))
	})
}
