package intern

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// Numbers are dense, stable and given in the order values are first seen;
// At inverts Of.
func TestTableNumbersInFirstSeenOrder(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var tab Table[string]
		first := map[string]uint32{}
		for _, v := range rapid.SliceOf(rapid.StringMatching(`[a-e]{0,2}`)).Draw(rt, "values") {
			n := tab.Of(v)
			if want, ok := first[v]; ok {
				require.Equal(rt, want, n)
			} else {
				require.Equal(rt, uint32(len(first)), n)
				first[v] = n
			}
			require.Equal(rt, v, tab.At(n))
		}
		require.Equal(rt, len(first), tab.Len())
	})
}
