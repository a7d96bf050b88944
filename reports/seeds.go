package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseSeedRange reads "A..B" (inclusive, A <= B) or a single seed "N".
func ParseSeedRange(s string) (SeedRange, error) {
	a, b, ok := strings.Cut(s, "..")
	if !ok {
		n, err := parseSeed(s)
		if err != nil {
			return SeedRange{}, fmt.Errorf("seed range %q: want A..B such as 1..100, or one seed", s)
		}
		return SeedRange{n, n}, nil
	}
	first, err1 := parseSeed(a)
	last, err2 := parseSeed(b)
	if err1 != nil || err2 != nil {
		return SeedRange{}, fmt.Errorf("seed range %q: want A..B with A and B unsigned integers, such as 1..100", s)
	}
	if first > last {
		return SeedRange{}, fmt.Errorf("seed range %q is reversed: did you mean %d..%d?", s, last, first)
	}
	if first == 0 && last == math.MaxUint64 {
		return SeedRange{}, fmt.Errorf("seed range %q has 2^64 seeds: that is too many to count", s)
	}
	return SeedRange{first, last}, nil
}

func parseSeed(s string) (uint64, error) {
	if s == "" || s[0] == '+' || s[0] == '-' {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseUint(s, 10, 64)
}

// Len counts the seeds of the range.
func (r SeedRange) Len() uint64 { return r.Last - r.First + 1 }

// ParseShard reads "I/N": shard I of N, 1 <= I <= N.
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := parseSeed(a)
	n, err2 := parseSeed(b)
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q: want I/N such as 2/8 (shard I of N, counting from 1)", s)
	}
	if n == 0 || i < 1 || i > n {
		return Shard{}, fmt.Errorf("shard %q: I must be between 1 and N (N >= 1), as in 1/%d", s, max(n, 1))
	}
	return Shard{Index: i, Count: n}, nil
}

// ShardOf is the shard (1-based) of n that seed s of the range belongs to.
func ShardOf(r SeedRange, s uint64, n uint64) uint64 { return (s-r.First)%n + 1 }

// Seeds calls fn with each seed of the range in the shard, in order, until
// fn returns false.
func Seeds(r SeedRange, sh Shard, fn func(seed uint64) bool) {
	count := Planned(r, sh)
	for k := uint64(0); k < count; k++ {
		if !fn(r.First + (sh.Index - 1) + k*sh.Count) {
			return
		}
	}
}
