package sim

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// A link's pcg draws exactly what the *rand.Rand stream of the same name
// draws, so that moving links off *rand.Rand changed no run.
func TestPCGDrawsLikeRandRand(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		root := rapid.Uint64().Draw(rt, "root")
		name := rapid.StringN(0, 12, -1).Draw(rt, "name")
		p, r := newPCG(root, name), NewStream(root, name)
		for i := 0; i < 50; i++ {
			switch rapid.IntRange(0, 2).Draw(rt, "op") {
			case 0:
				n := rapid.Int64Range(1, 1<<62).Draw(rt, "n")
				require.Equal(rt, r.Int64N(n), p.int64n(n))
			case 1:
				ppm := rapid.Int64Range(-1, 1_100_000).Draw(rt, "ppm")
				require.Equal(rt, chance(r, ppm), p.chance(ppm))
			default:
				lo := rapid.Int64Range(0, 1000).Draw(rt, "min")
				l := Latency{Min: time.Duration(lo), Max: time.Duration(lo + rapid.Int64Range(0, 1<<40).Draw(rt, "width")),
					TailPPM: rapid.Int64Range(0, 1_100_000).Draw(rt, "tail"),
					TailMax: time.Duration(rapid.Int64Range(0, 1<<41).Draw(rt, "tailmax"))}
				want := l.drawRand(r)
				d := l.prepare()
				require.Equal(rt, want, d.draw(&p))
			}
		}
	})
}

// drawRand is Latency.draw as it was on *rand.Rand.
func (l Latency) drawRand(r *rand.Rand) int64 {
	lo, hi := int64(l.Min), int64(l.Max)
	if l.TailPPM > 0 && l.TailMax > l.Max && chance(r, l.TailPPM) {
		lo, hi = hi, int64(l.TailMax)
	}
	if hi <= lo {
		return lo
	}
	return lo + r.Int64N(hi-lo+1)
}
