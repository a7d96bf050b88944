package rehearsal

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

func TestLog2Q32(t *testing.T) {
	for _, x := range []uint64{1, 2, 3, 10, 1000, 1 << 31, 1<<32 - 1, 1 << 32} {
		got := float64(log2Q32(x)) / (1 << 32)
		require.InDelta(t, math.Log2(float64(x)), got, 1e-8, "x=%d", x)
	}
}

func TestExponentialMeanAndTail(t *testing.T) {
	r := sim.NewStream(1, "exp")
	d := Dist{Kind: "exp", Mean: sim.Duration(10 * time.Millisecond)}
	const n = 200_000
	var sum, over int64
	for range n {
		v := int64(d.Draw(r))
		require.GreaterOrEqual(t, v, int64(0))
		sum += v
		if v > int64(30*time.Millisecond) {
			over++
		}
	}
	require.InDelta(t, 10e6, float64(sum)/n, 10e6*0.01, "mean")
	// P(X > 3 mean) = e^-3.
	require.InDelta(t, math.Exp(-3), float64(over)/n, 0.002)
}
