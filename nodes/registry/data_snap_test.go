package registry

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestSnapshotEpochs: the packed, numbered snapshot epochs answer as a map
// of (session, slot) to the newest epoch applied would.
func TestSnapshotEpochs(t *testing.T) {
	refused := 0
	rapid.Check(t, func(rt *rapid.T) {
		d := &DataServer{snaps: map[Proc][]slotEpoch{}}
		model := map[Proc]map[int]uint64{}
		for range rapid.IntRange(1, 100).Draw(rt, "steps") {
			s := rapid.SampledFrom(syncSessions).Draw(rt, "session")
			slot := rapid.IntRange(0, 300).Draw(rt, "slot")
			epoch := rapid.Uint64Range(0, 6).Draw(rt, "epoch") * 1_000_000_007
			last, seen := model[s][slot]
			want := !seen || epoch >= last
			if !want {
				refused++
			}
			require.Equal(rt, want, d.snapshotApplied(s, slot, epoch), "session %v slot %d epoch %d", s, slot, epoch)
			if want {
				if model[s] == nil {
					model[s] = map[int]uint64{}
				}
				model[s][slot] = epoch
			}
		}
	})
	require.Positive(t, refused, "no older snapshot was drawn")
}
