package rehearsal

import (
	"math/bits"
	"time"
)

// Hist is a log-linear latency histogram over microseconds: 16 buckets
// per power of two (about 4% resolution), so percentiles of millions of
// requests take a few kilobytes.
type Hist struct {
	Counts []int64
	N      int64
}

const subBits = 4

func bucketOf(d time.Duration) int {
	us := uint64(max(d, 0) / time.Microsecond)
	if us < 1<<subBits {
		return int(us)
	}
	e := bits.Len64(us) - 1 - subBits
	return (e+1)<<subBits + int(us>>e) - 1<<subBits
}

// upper is a bucket's upper bound.
func upper(b int) time.Duration {
	if b < 1<<subBits {
		return time.Duration(b+1) * time.Microsecond
	}
	e := b>>subBits - 1
	m := b&(1<<subBits-1) + 1<<subBits
	return time.Duration(uint64(m+1)<<e) * time.Microsecond
}

// Add records one latency.
func (h *Hist) Add(d time.Duration) {
	b := bucketOf(d)
	if b >= len(h.Counts) {
		h.Counts = append(h.Counts, make([]int64, b+1-len(h.Counts))...)
	}
	h.Counts[b]++
	h.N++
}

// Merge adds another histogram.
func (h *Hist) Merge(o *Hist) {
	if len(o.Counts) > len(h.Counts) {
		h.Counts = append(h.Counts, make([]int64, len(o.Counts)-len(h.Counts))...)
	}
	for i, c := range o.Counts {
		h.Counts[i] += c
	}
	h.N += o.N
}

// Quantile returns the upper bound of the bucket holding the ppm-th
// part per million (0 when empty).
func (h *Hist) Quantile(ppm int64) time.Duration {
	if h.N == 0 {
		return 0
	}
	rank := (h.N*ppm + 999_999) / 1_000_000
	rank = max(rank, 1)
	var seen int64
	for b, c := range h.Counts {
		seen += c
		if seen >= rank {
			return upper(b)
		}
	}
	return upper(len(h.Counts) - 1)
}
