package simbench

import (
	"testing"
	"time"

	"github.com/sofasim/sofasim/sim"
)

func BenchmarkPingPong(b *testing.B) {
	w := PingPong(1, 1)
	w.Run(sim.Limits{MaxEvents: 10_000}) // warm up: connection established, queues grown
	b.ReportAllocs()
	b.ResetTimer()
	w.Run(sim.Limits{MaxEvents: uint64(b.N)})
}

func BenchmarkFanOut(b *testing.B) {
	b.ReportAllocs()
	events := uint64(0)
	for i := 0; i < b.N; i++ {
		w := FanOut(uint64(i), 50, 10*time.Second)
		out := w.Run(sim.Limits{Until: 10 * time.Second})
		events += out.Events
	}
	b.ReportMetric(float64(events)/float64(b.N), "events/op")
}
