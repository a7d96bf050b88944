package sim

import (
	"math/bits"
	"math/rand/v2"
)

// StreamSeed derives the two PCG seed words of the stream called name under
// the root seed. The derivation is stable: it depends only on the root seed
// and the name, never on creation order.
func StreamSeed(root uint64, name string) (uint64, uint64) {
	h := uint64(fnvOffset)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= fnvPrime
	}
	s1 := splitmix64(root ^ h)
	s2 := splitmix64(s1 ^ 0x9e3779b97f4a7c15)
	return s1, s2
}

// NewStream returns the random stream called name under the root seed.
func NewStream(root uint64, name string) *rand.Rand {
	s1, s2 := StreamSeed(root, name)
	return rand.New(rand.NewPCG(s1, s2))
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// chance reports whether an event of probability ppm (parts per million)
// happens. Integer arithmetic keeps runs identical across architectures.
func chance(r *rand.Rand, ppm int64) bool {
	if ppm <= 0 {
		return false
	}
	if ppm >= 1_000_000 {
		return true
	}
	return r.Int64N(1_000_000) < ppm
}

// streamReader adapts a random stream to io.Reader, for crypto/rand.Reader.
type streamReader struct{ r *rand.Rand }

func (s streamReader) Read(p []byte) (int, error) {
	for i := 0; i < len(p); i += 8 {
		v := s.r.Uint64()
		for j := i; j < i+8 && j < len(p); j++ {
			p[j] = byte(v)
			v >>= 8
		}
	}
	return len(p), nil
}

// pcg is a link's random stream: math/rand/v2's PCG called directly rather
// than through *rand.Rand and its Source interface, held by value in the
// link. It draws exactly what rand.New(&p.PCG) would (on 64-bit platforms,
// where Rand.Int64N takes the path written out below).
type pcg struct{ rand.PCG }

func newPCG(root uint64, name string) pcg {
	var p pcg
	p.Seed(StreamSeed(root, name))
	return p
}

// int64n is rand.Rand.Int64N: Lemire's multiply-shift, with the rare
// rejection retry out of line so that the draw inlines.
func (p *pcg) int64n(n int64) int64 {
	u := uint64(n)
	if u&(u-1) == 0 { // a power of two, or n <= 0: retry masks or panics
		return int64(p.retry(u, 0, 0))
	}
	hi, lo := bits.Mul64(p.Uint64(), u)
	if lo < u {
		hi = p.retry(u, hi, lo)
	}
	return int64(hi)
}

// retry finishes int64n's draw below u: the masked draw for a power of
// two, otherwise the rejection loop from a first product (hi, lo).
func (p *pcg) retry(u, hi, lo uint64) uint64 {
	if int64(u) <= 0 {
		panic("sim: int64n of a non-positive bound")
	}
	if u&(u-1) == 0 {
		return p.Uint64() & (u - 1)
	}
	thresh := -u % u
	for lo < thresh {
		hi, lo = bits.Mul64(p.Uint64(), u)
	}
	return hi
}

// chance is the package chance on a link's stream.
func (p *pcg) chance(ppm int64) bool {
	if ppm <= 0 {
		return false
	}
	if ppm >= 1_000_000 {
		return true
	}
	const n = 1_000_000 // int64n(n) written out with the bound a constant
	hi, lo := bits.Mul64(p.Uint64(), n)
	if lo < n {
		hi = p.retry(n, hi, lo)
	}
	return int64(hi) < ppm
}
