package simbench

import (
	"runtime"
	"slices"

	"github.com/sofasim/sofasim/sim"
)

// Workload is a kernel world and the reference running the same thing.
type Workload struct {
	Name      string // ping-pong, ring, idle-timers
	Size      int    // nodes (ring) or pending timers (idle-timers)
	Kernel    func(seed uint64) *sim.World
	Reference func(seed uint64) *Reference
	// Warm is how many events run before measuring: nodes have started,
	// connections are up, queues and buffers have grown and the start's
	// synchronised traffic has spread out. In a world of many nodes that
	// takes tens of events per node (a ring of 10,000 ran its first ten
	// events per node at two to three times the steady cost, the next ten
	// at up to 1.5 times).
	Warm uint64
	// MinRound is the fewest events a measured round runs, so that a round
	// reaches every node many times, not a few that happen to be cached.
	MinRound uint64
}

// PingPongWorkload is PingPong with one message in flight.
func PingPongWorkload() Workload {
	return Workload{Name: "ping-pong", Size: 2, Warm: 10_000,
		Kernel:    func(seed uint64) *sim.World { return PingPong(seed, 1) },
		Reference: RefPingPong}
}

// RingWorkload is Ring with the given number of nodes.
func RingWorkload(nodes int) Workload {
	return Workload{Name: "ring", Size: nodes, Warm: uint64(40*nodes + 10_000), MinRound: uint64(10 * nodes),
		Kernel:    func(seed uint64) *sim.World { return Ring(seed, nodes) },
		Reference: func(seed uint64) *Reference { return RefRing(seed, nodes) }}
}

// IdleTimersWorkload is IdleTimers with the given number of pending timers.
func IdleTimersWorkload(timers int) Workload {
	return Workload{Name: "idle-timers", Size: timers, Warm: 10_000,
		Kernel:    func(seed uint64) *sim.World { return IdleTimers(seed, timers) },
		Reference: func(seed uint64) *Reference { return RefIdleTimers(seed, timers) }}
}

// Comparison is a workload measured in interleaved rounds (see Compare):
// figures are medians over the rounds. Times are the thread's CPU time
// where the platform has it (Clock says), so that other processes on a
// busy machine inflate them less.
type Comparison struct {
	Clock          string  `json:"clock"`
	Workload       string  `json:"workload"`
	Size           int     `json:"size"`
	Warm           uint64  `json:"warm_up_events"`
	Events         uint64  `json:"events_per_round"`
	Rounds         int     `json:"rounds"`
	KernelNs       float64 `json:"kernel_ns_per_event"`
	ReferenceNs    float64 `json:"reference_ns_per_event"`
	Ratio          float64 `json:"ratio"` // median of the rounds' kernel/reference
	AllocsPerEvent float64 `json:"kernel_allocs_per_event"`
	// HeapPerNode is the kernel world's live heap after warm-up, per node.
	HeapPerNode float64 `json:"kernel_heap_bytes_per_node"`
	// Growth is the median of the rounds' kernel time per event over that
	// of the first workload compared with it in the same round: how far the
	// kernel is from flat in size.
	Growth      float64 `json:"kernel_growth"`
	Fingerprint uint64  `json:"-"`
}

// Compare measures workloads side by side, the sizes of one family
// smallest first. It builds and warms up every kernel world and reference,
// then runs rounds in which each workload's kernel and then its reference
// process the same events (events, or the workload's MinRound if more).
// Every figure of a round thus sees the same machine load: growth, a
// kernel time over the first workload's in the same round, holds on a busy
// machine as the kernel/reference ratio does, where times measured minutes
// apart swing by half.
func Compare(wls []Workload, seed, events uint64, rounds int) []Comparison {
	cs := make([]Comparison, len(wls))
	worlds := make([]*sim.World, len(wls))
	refs := make([]*Reference, len(wls))
	var ms runtime.MemStats
	for i, wl := range wls {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		heap0 := ms.HeapAlloc
		w := wl.Kernel(seed)
		w.Run(sim.Limits{MaxEvents: wl.Warm})
		runtime.GC()
		runtime.ReadMemStats(&ms)
		c := Comparison{Clock: clockName, Workload: wl.Name, Size: wl.Size, Warm: wl.Warm,
			Events: max(events, wl.MinRound), Rounds: rounds}
		if nodes := len(w.NodeIDs()); nodes > 0 && ms.HeapAlloc > heap0 {
			c.HeapPerNode = float64(ms.HeapAlloc-heap0) / float64(nodes)
		}
		ref := wl.Reference(seed)
		ref.Run(wl.Warm)
		cs[i], worlds[i], refs[i] = c, w, ref
	}

	runtime.LockOSThread() // one thread's clock times both
	defer runtime.UnlockOSThread()
	kern, refNs, ratios, growth := make([][]float64, len(wls)), make([][]float64, len(wls)), make([][]float64, len(wls)), make([][]float64, len(wls))
	mallocs, done := make([]uint64, len(wls)), make([]uint64, len(wls))
	for r := 0; r < rounds; r++ {
		var first float64
		for i := range wls {
			c := &cs[i]
			runtime.ReadMemStats(&ms)
			m0 := ms.Mallocs
			t0 := threadClock()
			out := worlds[i].Run(sim.Limits{MaxEvents: c.Events})
			t1 := threadClock()
			refs[i].Run(c.Events)
			t2 := threadClock()
			runtime.ReadMemStats(&ms)
			mallocs[i] += ms.Mallocs - m0
			done[i] += out.Events

			k := float64((t1 - t0).Nanoseconds()) / float64(max(out.Events, 1))
			rn := float64((t2 - t1).Nanoseconds()) / float64(c.Events)
			kern[i], refNs[i] = append(kern[i], k), append(refNs[i], rn)
			if rn > 0 {
				ratios[i] = append(ratios[i], k/rn)
			}
			if i == 0 {
				first = k
			}
			if first > 0 {
				growth[i] = append(growth[i], k/first)
			}
		}
	}
	for i := range cs {
		c := &cs[i]
		c.KernelNs, c.ReferenceNs, c.Ratio, c.Growth = median(kern[i]), median(refNs[i]), median(ratios[i]), median(growth[i])
		if done[i] > 0 {
			c.AllocsPerEvent = float64(mallocs[i]) / float64(done[i])
		}
		c.Fingerprint = worlds[i].Fingerprint()
	}
	runtime.KeepAlive(worlds)
	return cs
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
