package registry

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestAllLeased: walking the led slots' index, or their sessions' counts,
// finds an unleased publisher exactly when walking every datum and hashing
// its slot does.
func TestAllLeased(t *testing.T) {
	found := 0
	rapid.Check(t, func(rt *rapid.T) {
		d := newSyncServer()
		for i := range rapid.IntRange(1, 60).Draw(rt, "steps") {
			changeSync(rt, d, i)
			if rapid.IntRange(0, 4).Draw(rt, "read") == 0 { // counted slots are asked per session
				d.sessionDigest(rapid.IntRange(0, d.cfg.Slots-1).Draw(rt, "read-slot"), rapid.SampledFrom(syncSessions).Draw(rt, "read-session"))
			}
		}
		d.slots, d.leases = map[int]*slotState{}, map[Proc]time.Duration{}
		for slot := range d.cfg.Slots {
			if rapid.Bool().Draw(rt, "held") {
				d.slots[slot] = &slotState{leader: rapid.Bool().Draw(rt, "leader")}
			}
		}
		for _, s := range syncSessions {
			if rapid.IntRange(0, 3).Draw(rt, "leased") > 0 {
				d.leases[s] = 0
			}
		}
		want := true
		for _, id := range slices.Sorted(maps.Keys(d.datums)) {
			if st := d.slots[d.m.slotOf(id)]; st == nil || !st.leader {
				continue
			}
			for _, p := range d.datums[id].pubs { //detlint:allow a conjunction: the order does not matter
				want = want && d.leased(*p.Session)
			}
		}
		if !want {
			found++
		}
		require.Equal(rt, want, d.allLeased())
	})
	require.Positive(t, found, "no unleased publisher was drawn")
}
