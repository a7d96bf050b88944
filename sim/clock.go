package sim

import (
	"math/bits"
	"time"
)

// Epoch is virtual time zero on every node's wall clock: the start of
// Double Eleven, 2026.
var Epoch = time.Date(2026, 11, 11, 0, 0, 0, 0, time.UTC)

// ClockConfig sets how far the nodes' clocks start from true time.
type ClockConfig struct {
	// MaxOffset bounds each node's initial wall-clock offset (±).
	MaxOffset time.Duration
	// MaxDriftPPM bounds each node's initial rate error in parts per million (±).
	MaxDriftPPM int64
}

// clock is one machine's clock. It belongs to the machine, so it survives
// crashes and restarts of the node process.
//
// The monotonic clock advances at rate (1e6+ppm)/1e6 of virtual time; the
// wall clock is the monotonic clock plus an offset that jumps move.
// Integer arithmetic only, so that every architecture computes the same.
type clock struct {
	vBase    int64 // virtual time of the last rate change
	monoBase int64 // monotonic reading at vBase
	ppm      int64 // rate error, > -1e6
	wallOff  int64 // wall = mono + wallOff
	syncOff  int64 // wallOff as NTP keeps it: the machine's offset before any jump
	gen      uint64
}

func (c *clock) mono(v int64) int64 {
	return c.monoBase + mulDiv(v-c.vBase, uint64(1_000_000+c.ppm), 1_000_000, false)
}

// virt is the earliest virtual time at which the monotonic clock reads m.
func (c *clock) virt(m int64) int64 {
	if m <= c.monoBase {
		return c.vBase
	}
	return c.vBase + mulDiv(m-c.monoBase, 1_000_000, uint64(1_000_000+c.ppm), true)
}

func (c *clock) wall(v int64) int64 { return c.mono(v) + c.wallOff }

// setRate changes the drift at virtual time v without moving the reading.
func (c *clock) setRate(v, ppm int64) {
	if ppm <= -1_000_000 {
		ppm = -999_999
	}
	c.monoBase = c.mono(v)
	c.vBase = v
	c.ppm = ppm
	c.gen++
}

// mulDiv returns a*num/den for a >= 0 with a 128-bit intermediate,
// rounding up when ceil is set.
func mulDiv(a int64, num, den uint64, ceil bool) int64 {
	if a <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(a), num)
	if hi >= den {
		return int64(^uint64(0) >> 1) // saturate; never reached in practice
	}
	q, r := bits.Div64(hi, lo, den)
	if ceil && r != 0 {
		q++
	}
	return int64(q)
}
