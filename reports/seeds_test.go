package reports

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestParseSeedRange(t *testing.T) {
	good := map[string]SeedRange{
		"1..100": {1, 100}, "0..0": {0, 0}, "7": {7, 7}, "5..5": {5, 5},
		"18446744073709551614..18446744073709551615": {math.MaxUint64 - 1, math.MaxUint64},
	}
	for in, want := range good {
		got, err := ParseSeedRange(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "9..3", "1..", "..5", "a..b", "-1..3", "+1..3", "1...3", "1..2..3", " 1..2", "1-10",
		"0..18446744073709551615", "1..18446744073709551616"} {
		_, err := ParseSeedRange(in)
		assert.Error(t, err, in)
	}
	_, err := ParseSeedRange("9..3")
	assert.Contains(t, err.Error(), "reversed")
	assert.Contains(t, err.Error(), "3..9")
}

func TestParseShard(t *testing.T) {
	for in, want := range map[string]Shard{"1/1": {1, 1}, "3/8": {3, 8}, "8/8": {8, 8}} {
		got, err := ParseShard(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	for _, in := range []string{"", "3/2", "0/2", "1/0", "0/0", "1", "/2", "1/", "a/b", "-1/2", "1/2/3", "1 /2"} {
		_, err := ParseShard(in)
		assert.Error(t, err, in)
	}
}

// Shards of a range cover it exactly once, each seed in the shard
// ((s - A) mod n) + 1, in order, and their sizes differ by at most one.
func TestShardsCoverTheRangeOnce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		first := rapid.Uint64().Draw(t, "first")
		length := rapid.Uint64Range(1, 3000).Draw(t, "length")
		if first > math.MaxUint64-(length-1) {
			first = math.MaxUint64 - (length - 1) // near the top of uint64: no wrapping
		}
		r := SeedRange{first, first + (length - 1)}
		n := rapid.Uint64Range(1, 64).Draw(t, "shards")
		seen := map[uint64]uint64{}
		var sizes []uint64
		for i := uint64(1); i <= n; i++ {
			sh := Shard{i, n}
			var prev uint64
			var count uint64
			Seeds(r, sh, func(s uint64) bool {
				if count > 0 && s <= prev {
					t.Fatalf("shard %v: seed %d after %d", sh, s, prev)
				}
				if s < r.First || s > r.Last {
					t.Fatalf("shard %v: seed %d outside %v", sh, s, r)
				}
				if other, dup := seen[s]; dup {
					t.Fatalf("seed %d in shards %d and %d", s, other, i)
				}
				if got := ShardOf(r, s, n); got != i {
					t.Fatalf("seed %d is in shard %d, but ShardOf says %d", s, i, got)
				}
				seen[s] = i
				prev = s
				count++
				return true
			})
			if count != Planned(r, sh) {
				t.Fatalf("shard %v: %d seeds, Planned says %d", sh, count, Planned(r, sh))
			}
			sizes = append(sizes, count)
		}
		if uint64(len(seen)) != r.Len() {
			t.Fatalf("%d shards cover %d of the %d seeds of %v", n, len(seen), r.Len(), r)
		}
		lo, hi := sizes[0], sizes[0]
		for _, s := range sizes {
			lo, hi = min(lo, s), max(hi, s)
		}
		if hi-lo > 1 {
			t.Fatalf("shard sizes %v are unbalanced", sizes)
		}
	})
}

func TestSeedsStops(t *testing.T) {
	var got []uint64
	Seeds(SeedRange{10, 100}, Shard{2, 3}, func(s uint64) bool { got = append(got, s); return len(got) < 3 })
	assert.Equal(t, []uint64{11, 14, 17}, got)
}

func FuzzParseSeedRange(f *testing.F) {
	for _, s := range []string{"1..100", "9..3", "7", "0..0", "18446744073709551615", "1..18446744073709551616", "..", "1..2..3", "-1..5", "+3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseSeedRange(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error for %q spans lines: %v", s, err)
			}
			return
		}
		if r.First > r.Last || r.Len() == 0 {
			t.Fatalf("%q parsed to a bad range %+v", s, r)
		}
		back, err := ParseSeedRange(r.String())
		if err != nil || back != r {
			t.Fatalf("%q -> %v -> %v, %v", s, r, back, err)
		}
	})
}

func FuzzParseShard(f *testing.F) {
	for _, s := range []string{"1/1", "3/8", "3/2", "0/2", "1/0", "18446744073709551615/18446744073709551615", "/", "1//2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sh, err := ParseShard(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error for %q spans lines: %v", s, err)
			}
			return
		}
		if sh.Index < 1 || sh.Index > sh.Count {
			t.Fatalf("%q parsed to a bad shard %+v", s, sh)
		}
		back, err := ParseShard(sh.String())
		if err != nil || back != sh {
			t.Fatalf("%q -> %v -> %v, %v", s, sh, back, err)
		}
		// Every seed of a small range lands in exactly one shard.
		r := SeedRange{100, 120}
		if sh.Count <= 64 {
			n := uint64(0)
			for i := uint64(1); i <= sh.Count; i++ {
				n += Planned(r, Shard{i, sh.Count})
			}
			if n != r.Len() {
				t.Fatalf("%d shards plan %d of %d seeds", sh.Count, n, r.Len())
			}
		}
	})
}
