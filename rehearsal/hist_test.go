package rehearsal

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestHistQuantileWithinResolution(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		vals := rapid.SliceOfN(rapid.Int64Range(0, int64(20*time.Second)), 1, 300).Draw(t, "latencies")
		var h Hist
		for _, v := range vals {
			h.Add(time.Duration(v))
		}
		ppm := rapid.Int64Range(1, 1_000_000).Draw(t, "ppm")
		got := h.Quantile(ppm)
		// The true quantile by rank, with the bucket's resolution.
		sorted := append([]int64(nil), vals...)
		for i := range sorted {
			for j := i + 1; j < len(sorted); j++ {
				if sorted[j] < sorted[i] {
					sorted[i], sorted[j] = sorted[j], sorted[i]
				}
			}
		}
		rank := max((int64(len(vals))*ppm+999_999)/1_000_000, 1)
		want := time.Duration(sorted[rank-1])
		require.GreaterOrEqual(t, got, want)
		require.LessOrEqual(t, got, want+want/14+2*time.Microsecond)
	})
}
