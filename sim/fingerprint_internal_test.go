package sim

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func hashWords(ws []uint64) uint64 {
	f := newFingerprint()
	for _, w := range ws {
		f.u64(w)
	}
	return f.sum()
}

// Mix is a bijection in each argument, so word sequences of one length
// that differ in a single word never collide: the guarantee byte-wise
// FNV-1a gave for a single differing byte, for whole words.
func TestFingerprintSeesEverySingleWordChange(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		ws := rapid.SliceOfN(rapid.Uint64(), 1, 40).Draw(rt, "words")
		i := rapid.IntRange(0, len(ws)-1).Draw(rt, "at")
		v := rapid.Uint64().Filter(func(v uint64) bool { return v != ws[i] }).Draw(rt, "new")
		changed := append([]uint64(nil), ws...)
		changed[i] = v
		require.NotEqual(rt, hashWords(ws), hashWords(changed))
	})
}

// Strings hash 8 bytes at a time, zero-padded, then their length: padding
// cannot make two strings alike, nor can moving bytes between neighbours.
func TestFingerprintStrings(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		a := rapid.StringN(0, 30, -1).Draw(rt, "a")
		b := rapid.StringN(0, 30, -1).Draw(rt, "b")
		hash := func(ss ...string) uint64 {
			f := newFingerprint()
			for _, s := range ss {
				f.str(s)
			}
			return f.sum()
		}
		if a != b {
			require.NotEqual(rt, hash(a), hash(b))
		}
		require.NotEqual(rt, hash(a), hash(a+"\x00"), "zero padding")
		if len(a) > 0 {
			require.NotEqual(rt, hash(a, b), hash(a[:len(a)-1], a[len(a)-1:]+b), "a byte moved to the next string")
		}
	})
}

// The avalanche spreads a one-bit change of the state over the whole sum.
func TestFingerprintSumAvalanches(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		h := rapid.Uint64().Draw(rt, "h")
		bit := rapid.IntRange(0, 63).Draw(rt, "bit")
		a, b := fingerprint{h: h}, fingerprint{h: h ^ 1<<bit}
		diff := a.sum() ^ b.sum()
		n := 0
		for ; diff != 0; diff &= diff - 1 {
			n++
		}
		require.GreaterOrEqual(rt, n, 8, "one flipped bit changed only %d bits of the sum", n)
	})
}
