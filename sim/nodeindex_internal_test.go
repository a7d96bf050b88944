package sim

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// The node index finds every node added, at its index, and no other name,
// as it grows (past thousands of names, 8-bit hash tags collide often).
func TestNodeIndexFindsEveryNode(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		names := rapid.SliceOfNDistinct(rapid.String(), 0, 300, rapid.ID[string]).Draw(rt, "names")
		for i := range rapid.IntRange(0, 3000).Draw(rt, "more") {
			names = append(names, fmt.Sprintf("\x00client-%d", i)) // rapid.String never starts so
		}
		var x nodeIndex
		var nodes []*slot
		for i, name := range names {
			nodes = append(nodes, &slot{idx: int32(i), slotCold: &slotCold{id: NodeID(name)}})
			x.added(nodes)
			j, ok := x.get(nodes, NodeID(name))
			require.True(rt, ok)
			require.Equal(rt, int32(i), j)
		}
		for i, name := range names {
			j, ok := x.get(nodes, NodeID(name))
			require.True(rt, ok, name)
			require.Equal(rt, int32(i), j)
		}
		require.LessOrEqual(rt, 4*len(nodes), 3*len(x.tab), "at most three quarters full")
		absent := rapid.String().Filter(func(s string) bool { return !slices.Contains(names, s) }).Draw(rt, "absent")
		_, ok := x.get(nodes, NodeID(absent))
		require.False(rt, ok)
	})
}
