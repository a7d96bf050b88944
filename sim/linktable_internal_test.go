package sim

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// The link table finds every link added by its pair, as it grows, and
// nothing for a pair never added.
func TestLinkTableFindsEveryLink(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		type pair struct{ from, to int32 }
		node := rapid.Int32Range(0, 200)
		pairs := rapid.SliceOfDistinct(rapid.Custom(func(t *rapid.T) pair {
			return pair{node.Draw(t, "from"), node.Draw(t, "to")}
		}), func(p pair) pair { return p }).Draw(rt, "pairs")
		var tab linkTable
		links := map[pair]*link{}
		for _, p := range pairs {
			require.Nil(rt, tab.get(p.from, p.to))
			l := &link{from: p.from, to: p.to}
			tab.add(l)
			links[p] = l
			require.Same(rt, l, tab.get(p.from, p.to))
		}
		for _, p := range pairs {
			require.Same(rt, links[p], tab.get(p.from, p.to))
		}
		require.LessOrEqual(rt, 4*len(pairs), 3*len(tab.tab), "at most three quarters full")
		p := pair{node.Draw(rt, "from"), node.Draw(rt, "to")}
		if links[p] == nil {
			require.Nil(rt, tab.get(p.from, p.to))
		}
	})
}
