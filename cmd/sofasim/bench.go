package main

import (
	"fmt"
	"io"
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
// the kernel-vs-reference ratio, the scaling table and the fan-out.
type benchResult struct {
	Seed uint64 `json:"seed"`
	kernelBench
	// ReferenceRatio is ping-pong's kernel/reference time per event.
	ReferenceRatio float64               `json:"reference_ratio"`
	PingPong       simbench.Comparison   `json:"ping_pong_vs_reference"`
	Scaling        []simbench.Comparison `json:"scaling"`
	FanOut         kernelBench           `json:"fanout"`
}

func newBenchCmd() *cobra.Command {
	var (
		seed     uint64
		events   uint64
		rounds   int
		leaves   int
		duration time.Duration
		nodes    []int
		timers   []int
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the simulation kernel's throughput, against a bare reference and as worlds grow",
		Long: `bench measures the kernel on these workloads:

  ping-pong    two nodes bounce one message over a connection; every delivery
               is one event (the kernel's raw speed)
  ring         N nodes in a ring, one token in flight per node, each on its
               own connection (--nodes): the cost per event as worlds grow
  idle-timers  ping-pong next to a node with T timers pending far in the
               future (--timers): what idle timers cost the other events
  fan-out      a hub and many leaves exchange connection messages, datagrams and
               timers under a fault plan of partitions, crashes, pauses, clogs,
               loss and clock faults drawn from the seed; measured past its
               first second (start-up, first dials, buffers growing)

Ping-pong, ring and idle-timers also run on a bare reference simulator (a
typed binary heap of value events, a hash per event, the same latency draws,
no interfaces, no allocation). Every world and reference is built and warmed
up first (a ring: 40 events per node, past its start-up), then measured in
interleaved rounds: each round runs every size's kernel and reference in
turn (a ring at least 10 events per node), so that all figures of a round
see the same machine load. Ratio is kernel/reference and growth a row's
kernel time over its workload's first row's (how far the kernel is from flat
as worlds grow), each the median over the rounds.
The fingerprints depend only on the seed.`,
		Example: `  sofasim bench
  sofasim bench --seed 7 --json
  sofasim bench --events 20000000 --nodes 10,10000 --timers 0,1000000`,
		Args: argsNamed(0, 0, "", ""),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if events == 0 || rounds < 1 || leaves < 1 || duration <= 0 {
				return usageErr("bench: --events, --rounds, --leaves and --duration must be positive")
			}
			for _, n := range nodes {
				if n < 2 {
					return usageErr("bench: --nodes must be at least 2, got %d", n)
				}
			}
			for _, n := range timers {
				if n < 0 {
					return usageErr("bench: --timers must not be negative, got %d", n)
				}
			}
			perRound := max(events/uint64(rounds), 1)
			res := benchResult{Seed: seed}
			res.kernelBench = measure(simbench.PingPong(seed, 1), sim.Limits{MaxEvents: events}, sim.Limits{MaxEvents: 10_000})
			res.PingPong = simbench.Compare([]simbench.Workload{simbench.PingPongWorkload()}, seed, perRound, rounds)[0]
			res.ReferenceRatio = res.PingPong.Ratio
			var ring, idle []simbench.Workload
			for _, n := range nodes {
				ring = append(ring, simbench.RingWorkload(n))
			}
			for _, n := range timers {
				idle = append(idle, simbench.IdleTimersWorkload(n))
			}
			res.Scaling = append(simbench.Compare(ring, seed, perRound, rounds), simbench.Compare(idle, seed, perRound, rounds)...)
			rows := append([]simbench.Comparison{res.PingPong}, res.Scaling...)
			res.FanOut = measure(simbench.FanOut(seed, leaves, duration), sim.Limits{Until: duration}, simbench.FanOutWarm(duration))
			out := cmd.OutOrStdout()
			if asJSON {
				return printJSON(out, res)
			}
			fmt.Fprintf(out, "seed %d\n", seed)
			printBench(out, "ping-pong", res.kernelBench)
			printBench(out, fmt.Sprintf("fan-out (%d leaves, %v, faults)", leaves, duration), res.FanOut)
			fmt.Fprintf(out, "\nkernel vs reference, %d interleaved rounds (medians):\n", rounds)
			printComparisons(out, rows)
			return nil
		},
	}
	f := cmd.Flags()
	f.Uint64Var(&seed, "seed", 1, "root seed")
	f.Uint64Var(&events, "events", 5_000_000, "ping-pong events to measure; each comparison runs this many per workload, split in rounds (a large ring more)")
	f.IntVar(&rounds, "rounds", 7, "interleaved kernel/reference rounds per comparison")
	f.IntVar(&leaves, "leaves", 50, "fan-out leaves")
	f.DurationVar(&duration, "duration", 30*time.Second, "fan-out virtual duration")
	f.IntSliceVar(&nodes, "nodes", []int{10, 1_000, 10_000, 100_000}, "ring sizes of the scaling table")
	f.IntSliceVar(&timers, "timers", []int{0, 1_000, 1_000_000}, "idle timer counts of the scaling table")
	f.BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

// measure runs w up to warm (a warm-up: nodes started, connections and
// queues grown) and then up to lim, and reports throughput and allocations
// of the measured part.
func measure(w *sim.World, lim, warm sim.Limits) kernelBench {
	if warm != (sim.Limits{}) {
		w.Run(warm)
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

func printBench(out io.Writer, name string, b kernelBench) {
	fmt.Fprintf(out, "%-36s %11.0f events/s  %8.1fx virtual/wall  %.3f allocs/event  %d events  fingerprint %s\n",
		name, b.EventsPerSec, b.VirtualPerWall, b.AllocsPerEvent, b.Events, b.Fingerprint)
}

func printComparisons(out io.Writer, cs []simbench.Comparison) {
	fmt.Fprintf(out, "  %-12s %9s %10s %12s %12s %7s %8s %10s %11s\n", "workload", "size", "events/rd", "kernel ns", "ref ns", "ratio", "growth", "allocs/ev", "heap/node")
	for _, c := range cs {
		fmt.Fprintf(out, "  %-12s %9d %10d %12.1f %12.1f %6.2fx %7.2fx %10.3f %10.0fB\n",
			c.Workload, c.Size, c.Events, c.KernelNs, c.ReferenceNs, c.Ratio, c.Growth, c.AllocsPerEvent, c.HeapPerNode)
	}
	fmt.Fprintln(out, "  (ratio: kernel/reference; growth: kernel time over the workload's first row in the same rounds)")
}
