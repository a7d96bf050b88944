package registry

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestSentTable: the table a meta sends its members is always a copy of
// its table now, shares no array with it, and is made again only when the
// table was replaced.
func TestSentTable(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		m := &MetaServer{db: &dbElector{}}
		procs := func(label string) []Proc {
			var ps []Proc
			for i := range rapid.IntRange(0, 3).Draw(rt, label) {
				ps = append(ps, Proc{ID: fmt.Sprintf("%s-%d", label, i), Inc: uint32(rapid.IntRange(1, 3).Draw(rt, "inc"))})
			}
			return ps
		}
		var prev *Table
		for range rapid.IntRange(1, 20).Draw(rt, "steps") {
			replaced := prev == nil || rapid.Bool().Draw(rt, "replace")
			if replaced {
				next := Table{Epoch: m.local.Epoch + uint64(rapid.IntRange(0, 1).Draw(rt, "epoch step")), Data: procs("data"), Sessions: procs("session")}
				for range rapid.IntRange(1, 4).Draw(rt, "slots") {
					next.Slots = append(next.Slots, Slot{Leader: Proc{ID: rapid.SampledFrom([]string{"data-1", "data-2"}).Draw(rt, "leader")}})
				}
				m.local = next
			}
			sent := m.sentTable()
			require.Equal(rt, m.local, *sent)
			require.False(rt, len(sent.Slots) > 0 && &sent.Slots[0] == &m.local.Slots[0], "shares the meta's slots")
			if !replaced {
				require.Same(rt, prev, sent, "a copy made again for the same table")
			}
			prev = sent
		}
	})
}
