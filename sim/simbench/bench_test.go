package simbench

import (
	"fmt"
	"testing"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// Worlds and references are built once per size and reused across the
// benchmark's b.N calls: building 100,000 nodes or a million timers each
// time would swamp the measurement.
var (
	worlds = map[string]*sim.World{}
	refs   = map[string]*Reference{}
)

func benchKernel(b *testing.B, wl Workload) {
	key := fmt.Sprintf("%s/%d", wl.Name, wl.Size)
	w := worlds[key]
	if w == nil {
		w = wl.Kernel(1)
		w.Run(sim.Limits{MaxEvents: wl.Warm})
		worlds[key] = w
	}
	b.ReportAllocs()
	b.ResetTimer()
	w.Run(sim.Limits{MaxEvents: uint64(b.N)})
}

func benchReference(b *testing.B, wl Workload) {
	key := fmt.Sprintf("%s/%d", wl.Name, wl.Size)
	r := refs[key]
	if r == nil {
		r = wl.Reference(1)
		r.Run(wl.Warm)
		refs[key] = r
	}
	b.ReportAllocs()
	b.ResetTimer()
	r.Run(uint64(b.N))
}

func BenchmarkPingPong(b *testing.B)          { benchKernel(b, PingPongWorkload()) }
func BenchmarkPingPongReference(b *testing.B) { benchReference(b, PingPongWorkload()) }

// RingSizes and TimerCounts are the scaling table's rows.
var (
	RingSizes   = []int{10, 1_000, 10_000, 100_000}
	TimerCounts = []int{0, 1_000, 1_000_000}
)

func BenchmarkRing(b *testing.B) {
	for _, n := range RingSizes {
		b.Run(fmt.Sprintf("nodes=%d/kernel", n), func(b *testing.B) { benchKernel(b, RingWorkload(n)) })
		b.Run(fmt.Sprintf("nodes=%d/reference", n), func(b *testing.B) { benchReference(b, RingWorkload(n)) })
	}
}

func BenchmarkIdleTimers(b *testing.B) {
	for _, n := range TimerCounts {
		b.Run(fmt.Sprintf("timers=%d/kernel", n), func(b *testing.B) { benchKernel(b, IdleTimersWorkload(n)) })
		b.Run(fmt.Sprintf("timers=%d/reference", n), func(b *testing.B) { benchReference(b, IdleTimersWorkload(n)) })
	}
}

// BenchmarkFanOut measures fan-out runs past their warm-up (FanOutWarm):
// allocs/op are those of the steady state, faults and restarts included.
func BenchmarkFanOut(b *testing.B) {
	b.ReportAllocs()
	events := uint64(0)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		w := FanOut(uint64(i), 50, 10*time.Second)
		w.Run(FanOutWarm(10 * time.Second))
		b.StartTimer()
		out := w.Run(sim.Limits{Until: 10 * time.Second})
		events += out.Events
	}
	b.ReportMetric(float64(events)/float64(b.N), "events/op")
}
