package rehearsal

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// erlangC returns the M/M/c probability that an arrival waits, for
// offered load a = lambda/mu Erlangs on c servers.
func erlangC(c int, a float64) float64 {
	term, sum := 1.0, 0.0 // a^k / k!
	for k := 0; k < c; k++ {
		sum += term
		term *= a / float64(k+1)
	}
	rho := a / float64(c)
	top := term / (1 - rho)
	return top / (sum + top)
}

// One service, Poisson arrivals (open-loop generators), exponential
// service times and c workers is an M/M/c queue: over a long run the
// simulator's utilisation is rho and its mean wait is Erlang C's
// C(c, a) / (c mu - lambda). The wait comes from Little's law on the
// time-averaged queue length (sampled every 5 ms over 600 s) and the measured
// arrival rate; the network and sidecars are outside the queue.
func TestMMcMatchesErlangC(t *testing.T) {
	const (
		c      = 4
		lambda = 320.0 // per second
		mean   = 10 * time.Millisecond
		secs   = 600
	)
	f := &File{Version: Version, Name: "mmc", Seed: 11, Zones: []string{"z"},
		Services: []Service{{Name: "svc", Instances: map[string]int{"z": 1}, Workers: c, Queue: 100_000,
			ServiceTime: Dist{Kind: "exp", Mean: sim.Duration(mean)}, Timeout: sim.Duration(time.Minute)}},
		Mesh:        Mesh{Pilots: 1},
		Registry:    Registry{Metas: 1, Data: 1, Sessions: 1},
		Coordinator: Coordinator{TCs: 1, TxTimeout: sim.Duration(time.Second)},
		Traffic: Traffic{Entry: []string{"svc"}, Clients: 8,
			Points: []Point{{0, int(lambda)}, {sim.Duration(secs * time.Second), int(lambda)}}},
		Tail: sim.Duration(2 * time.Second)}
	require.NoError(t, f.Validate())
	r := Run(f, Options{SampleEvery: 5 * time.Millisecond})
	s := r.service("svc")
	// Skip the first 10 s (the queue starts empty).
	var arrivals, queue, util float64
	for i := 10; i < secs; i++ {
		arrivals += float64(s.Offered[i])
		queue += s.Queue[i]
		util += s.Util[i]
	}
	n := float64(secs - 10)
	lam, lq, rho := arrivals/n, queue/n, util/n
	mu := float64(time.Second / mean)
	a := lambda / mu
	wantRho := a / c
	wantWq := erlangC(c, a) / (c*mu - lambda) // seconds
	gotWq := lq / lam
	t.Logf("lambda %.1f/s (want %.0f), utilisation %.4f (want %.4f), mean wait %.2f ms (Erlang C %.2f ms), success %.4f",
		lam, lambda, rho, wantRho, gotWq*1000, wantWq*1000, s.SuccessTotal)
	require.InEpsilon(t, lambda, lam, 0.01, "arrival rate")
	require.InEpsilon(t, wantRho, rho, 0.02, "utilisation")
	require.InEpsilon(t, wantWq, gotWq, 0.05, "mean wait")
	require.Equal(t, 1.0, s.SuccessTotal)
}
