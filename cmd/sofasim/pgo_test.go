package main

import (
	"fmt"
	"testing"
)

// BenchmarkPGO runs what a profile for profile-guided optimisation is made
// from: the chaos scenarios of every system over a few seeds and the kernel
// bench, so that the profile follows real runs, not the bench alone. PGO
// was measured not to pay (issue 15: no faster ping-pong or scenario runs
// on 2 cores, and a first build of sofasim four minutes longer), so there
// is no default.pgo. To evaluate it again:
//
//	go test ./cmd/sofasim -run '^$' -bench '^BenchmarkPGO$' -benchtime 1x -cpuprofile /tmp/pgo.prof
//	go build -pgo=/tmp/pgo.prof -o /tmp/sofasim-pgo ./cmd/sofasim
//	go build -pgo=off -o /tmp/sofasim-nopgo ./cmd/sofasim
//
// and compare the two binaries' `sofasim bench` and `sofasim run` figures in
// interleaved rounds. Keeping it means committing the profile as
// cmd/sofasim/default.pgo, which go build then uses by itself.
func BenchmarkPGO(b *testing.B) {
	out := b.TempDir()
	for range b.N {
		for _, s := range []string{"raftkv-chaos", "registry-chaos", "mesh-chaos", "txn-chaos"} {
			for seed := 1; seed <= 4; seed++ {
				if code, _, stderr := cli(b, "run", s, "--seed", fmt.Sprint(seed), "--json", "--out", fmt.Sprintf("%s/%s-%d", out, s, seed)); code > 1 {
					b.Fatalf("%s seed %d: exit %d: %s", s, seed, code, stderr)
				}
			}
		}
		if code, _, stderr := cli(b, "bench", "--events", "2000000", "--rounds", "3", "--nodes", "10,10000", "--timers", "0,1000"); code != 0 {
			b.Fatalf("bench: exit %d: %s", code, stderr)
		}
	}
}
