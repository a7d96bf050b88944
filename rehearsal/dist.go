package rehearsal

import (
	"math/bits"
	"math/rand/v2"
	"time"
)

// Draw returns a service time. Integer-only, so runs reproduce to the
// byte on every architecture.
func (d Dist) Draw(r *rand.Rand) time.Duration {
	switch d.Kind {
	case "exp":
		return time.Duration(expScaled(r, int64(d.Mean)))
	default:
		lo, hi := int64(d.Min), int64(d.Max)
		if d.TailPPM > 0 && d.TailMax > d.Max && r.Int64N(1_000_000) < d.TailPPM {
			lo, hi = int64(d.Max), int64(d.TailMax)
		}
		if hi <= lo {
			return time.Duration(lo)
		}
		return time.Duration(lo + r.Int64N(hi-lo+1))
	}
}

// Mean is the distribution's mean.
func (d Dist) MeanDuration() time.Duration {
	if d.Kind == "exp" {
		return time.Duration(d.Mean)
	}
	base := (d.Min + d.Max) / 2
	tail := (d.Max + d.TailMax) / 2
	return time.Duration((int64(base)*(1_000_000-d.TailPPM) + int64(tail)*d.TailPPM) / 1_000_000)
}

const ln2Q32 = 2977044472 // ln 2 in Q32 fixed point

// expScaled draws an exponential variate of the given mean: -ln(u) * mean
// with u uniform in (0, 1] as a 32-bit fraction, -ln(u) = ln2 * -log2(u).
func expScaled(r *rand.Rand, mean int64) int64 {
	u := uint64(r.Uint32()) + 1 // 1 .. 2^32
	nl := (32<<32 - log2Q32(u)) // -log2(u/2^32) in Q32, in [0, 32<<32]
	hi, lo := bits.Mul64(nl, ln2Q32)
	lnQ32 := hi<<32 | lo>>32 // Q32 of -ln(u)
	hi, lo = bits.Mul64(lnQ32, uint64(mean))
	return int64(hi<<32 | lo>>32)
}

// log2Q32 is log2(x) in Q32 fixed point for x >= 1, by the binary
// logarithm algorithm (repeated squaring of the mantissa): exact integer
// arithmetic.
func log2Q32(x uint64) uint64 {
	n := uint64(bits.Len64(x) - 1)
	// Mantissa m in [1, 2) as Q62.
	var m uint64
	if n <= 62 {
		m = x << (62 - n)
	} else {
		m = x >> (n - 62)
	}
	res := n << 32
	for b := uint64(1) << 31; b > 0; b >>= 1 {
		hi, lo := bits.Mul64(m, m) // Q124
		m = hi<<2 | lo>>62         // back to Q62
		if m >= 2<<62 {
			m >>= 1
			res |= b
		}
	}
	return res
}
