package registry

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// The slot function is SOFARegistry's: Math.abs(crc32c as a Java int) &
// (slots-1). These ids have a crc32c with the top bit set, so the old
// unsigned crc32c % slots put them elsewhere: svc-0's crc32c is 3160652758,
// as a Java int -1134314538, abs 1134314538 = 4430916*256 + 42.
func TestSlotOfIsJavaCrc32cSlotFunction(t *testing.T) {
	for _, c := range []struct {
		id        string
		slot, old int
	}{{"svc-0", 42, 214}, {"svc-3", 222, 34}, {"svc-5", 54, 202}, {"svc-10", 145, 111}} {
		require.Equal(t, c.slot, SlotOf(c.id, 256), c.id)
		require.NotEqual(t, c.old, SlotOf(c.id, 256), c.id)
	}
	// Java's Math.abs(Integer.MIN_VALUE) is MIN_VALUE, whose low bits are 0.
	require.Equal(t, 0, slotOfCRC(0x80000000, 256))
	require.Equal(t, 1, slotOfCRC(0xFFFFFFFF, 256)) // -1 -> 1
	require.Equal(t, 5, slotOfCRC(5, 256))
}

// A power-of-two slot count masks: halving the slots keeps the low bits.
func TestSlotOfMasks(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		id := rapid.String().Draw(t, "id")
		bits := rapid.IntRange(0, 15).Draw(t, "bits")
		n := 1 << bits
		s := SlotOf(id, 2*n)
		require.Less(t, s, 2*n)
		require.GreaterOrEqual(t, s, 0)
		require.Equal(t, s&(n-1), SlotOf(id, n))
	})
}
