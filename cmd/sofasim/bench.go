package main

import (
	"fmt"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/sofasim/sofasim/sim"
	"github.com/sofasim/sofasim/sim/simbench"
)

// kernelBench is one kernel throughput measurement.
type kernelBench struct {
	Fingerprint    string  `json:"fingerprint"`
	Events         uint64  `json:"events"`
	EventsPerSec   float64 `json:"events_per_sec"`
	AllocsPerEvent float64 `json:"allocs_per_event"`
	VirtualSeconds float64 `json:"virtual_seconds"`
	WallSeconds    float64 `json:"wall_seconds"`
	VirtualPerWall float64 `json:"virtual_per_wall"`
	BytesPerEvent  float64 `json:"bytes_per_event"`
}

// benchResult is the --json output: the ping-pong figures at the top level,
// other benchmarks under their own keys.
type benchResult struct {
	Seed uint64 `json:"seed"`
	kernelBench
	FanOut kernelBench `json:"fanout"`
}

func newBenchCmd() *cobra.Command {
	var (
		seed     uint64
		events   uint64
		leaves   int
		duration time.Duration
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the simulation kernel's throughput",
		Long: `bench measures the kernel on two workloads:

  ping-pong  two nodes bounce one message over a connection; every delivery
             is one event (the kernel's raw speed)
  fan-out    a hub and many leaves exchange connection messages, datagrams and
             timers under a fault plan of partitions, crashes, pauses, clogs,
             loss and clock faults drawn from the seed

It prints events per second, the virtual-to-wall time ratio and allocations
per event. The fingerprints depend only on the seed.`,
		Example: `  sofasim bench
  sofasim bench --seed 7 --json
  sofasim bench --events 20000000 --leaves 200 --duration 60s`,
		Args: argsNamed(0, 0, "", ""),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if events == 0 || leaves < 1 || duration <= 0 {
				return usageErr("bench: --events, --leaves and --duration must be positive")
			}
			res := benchResult{Seed: seed}
			res.kernelBench = measure(simbench.PingPong(seed, 1), sim.Limits{MaxEvents: events}, 10_000)
			res.FanOut = measure(simbench.FanOut(seed, leaves, duration), sim.Limits{Until: duration}, 0)
			out := cmd.OutOrStdout()
			if asJSON {
				return printJSON(out, res)
			}
			fmt.Fprintf(out, "seed %d\n", seed)
			printBench(cmd, "ping-pong", res.kernelBench)
			printBench(cmd, fmt.Sprintf("fan-out (%d leaves, %v, faults)", leaves, duration), res.FanOut)
			return nil
		},
	}
	f := cmd.Flags()
	f.Uint64Var(&seed, "seed", 1, "root seed")
	f.Uint64Var(&events, "events", 5_000_000, "ping-pong events to measure")
	f.IntVar(&leaves, "leaves", 50, "fan-out leaves")
	f.DurationVar(&duration, "duration", 30*time.Second, "fan-out virtual duration")
	f.BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

// measure runs w (after warm events of warm-up) and reports throughput and
// allocations of the measured part.
func measure(w *sim.World, lim sim.Limits, warm uint64) kernelBench {
	if warm > 0 {
		w.Run(sim.Limits{MaxEvents: warm})
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v0 := w.Now()
	out := w.Run(lim)
	runtime.ReadMemStats(&after)
	b := kernelBench{
		Fingerprint:    fmt.Sprintf("%016x", w.Fingerprint()),
		Events:         out.Events,
		VirtualSeconds: (out.Now - v0).Seconds(),
		WallSeconds:    out.Wall.Seconds(),
	}
	if out.Events > 0 {
		b.AllocsPerEvent = float64(after.Mallocs-before.Mallocs) / float64(out.Events)
		b.BytesPerEvent = float64(after.TotalAlloc-before.TotalAlloc) / float64(out.Events)
	}
	if s := out.Wall.Seconds(); s > 0 {
		b.EventsPerSec = float64(out.Events) / s
		b.VirtualPerWall = b.VirtualSeconds / s
	}
	return b
}

func printBench(cmd *cobra.Command, name string, b kernelBench) {
	fmt.Fprintf(cmd.OutOrStdout(), "%-36s %11.0f events/s  %8.1fx virtual/wall  %.3f allocs/event  %d events  fingerprint %s\n",
		name, b.EventsPerSec, b.VirtualPerWall, b.AllocsPerEvent, b.Events, b.Fingerprint)
}
