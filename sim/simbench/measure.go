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
	// Warm is how many events run before measuring: connections are up and
	// queues have grown.
	Warm uint64
}

// PingPongWorkload is PingPong with one message in flight.
func PingPongWorkload() Workload {
	return Workload{Name: "ping-pong", Size: 2, Warm: 10_000,
		Kernel:    func(seed uint64) *sim.World { return PingPong(seed, 1) },
		Reference: RefPingPong}
}

// RingWorkload is Ring with the given number of nodes.
func RingWorkload(nodes int) Workload {
	return Workload{Name: "ring", Size: nodes, Warm: uint64(10*nodes + 10_000),
		Kernel:    func(seed uint64) *sim.World { return Ring(seed, nodes) },
		Reference: func(seed uint64) *Reference { return RefRing(seed, nodes) }}
}

// IdleTimersWorkload is IdleTimers with the given number of pending timers.
func IdleTimersWorkload(timers int) Workload {
	return Workload{Name: "idle-timers", Size: timers, Warm: 10_000,
		Kernel:    func(seed uint64) *sim.World { return IdleTimers(seed, timers) },
		Reference: func(seed uint64) *Reference { return RefIdleTimers(seed, timers) }}
}

// Comparison is a workload measured in interleaved rounds: each round runs
// the kernel, then the reference, for the same number of events, so that
// both see the same machine load; figures are medians over the rounds.
// Times are the thread's CPU time where the platform has it (Clock says),
// so that other processes on a busy machine inflate them less.
type Comparison struct {
	Clock          string  `json:"clock"`
	Workload       string  `json:"workload"`
	Size           int     `json:"size"`
	Events         uint64  `json:"events_per_round"`
	Rounds         int     `json:"rounds"`
	KernelNs       float64 `json:"kernel_ns_per_event"`
	ReferenceNs    float64 `json:"reference_ns_per_event"`
	Ratio          float64 `json:"ratio"` // median of the rounds' kernel/reference
	AllocsPerEvent float64 `json:"kernel_allocs_per_event"`
	// HeapPerNode is the kernel world's live heap after warm-up, per node.
	HeapPerNode float64 `json:"kernel_heap_bytes_per_node"`
	// Growth is KernelNs over that of the workload's first row (see
	// Growth): how far the kernel is from flat in size.
	Growth      float64 `json:"kernel_growth"`
	Fingerprint uint64  `json:"-"`
}

// Compare builds the workload's kernel world and reference, warms both up
// and measures rounds of events each.
func Compare(wl Workload, seed, events uint64, rounds int) Comparison {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	heap0 := ms.HeapAlloc
	w := wl.Kernel(seed)
	w.Run(sim.Limits{MaxEvents: wl.Warm})
	runtime.GC()
	runtime.ReadMemStats(&ms)
	c := Comparison{Workload: wl.Name, Size: wl.Size, Events: events, Rounds: rounds}
	if nodes := len(w.NodeIDs()); nodes > 0 && ms.HeapAlloc > heap0 {
		c.HeapPerNode = float64(ms.HeapAlloc-heap0) / float64(nodes)
	}
	ref := wl.Reference(seed)
	ref.Run(wl.Warm)

	c.Clock = clockName
	runtime.LockOSThread() // one thread's clock times both
	defer runtime.UnlockOSThread()
	var kern, refs, ratios []float64
	var mallocs, done uint64
	for i := 0; i < rounds; i++ {
		runtime.ReadMemStats(&ms)
		m0 := ms.Mallocs
		t0 := threadClock()
		out := w.Run(sim.Limits{MaxEvents: events})
		t1 := threadClock()
		ref.Run(events)
		t2 := threadClock()
		runtime.ReadMemStats(&ms)
		mallocs += ms.Mallocs - m0
		done += out.Events

		k := float64((t1 - t0).Nanoseconds()) / float64(max(out.Events, 1))
		r := float64((t2 - t1).Nanoseconds()) / float64(events)
		kern, refs = append(kern, k), append(refs, r)
		if r > 0 {
			ratios = append(ratios, k/r)
		}
	}
	c.KernelNs, c.ReferenceNs, c.Ratio = median(kern), median(refs), median(ratios)
	if done > 0 {
		c.AllocsPerEvent = float64(mallocs) / float64(done)
	}
	c.Fingerprint = w.Fingerprint()
	runtime.KeepAlive(w)
	return c
}

// Growth sets each comparison's Growth against the first comparison of
// the same workload in cs, the smallest size when listed first: the
// figure the flat-in-size targets are stated in (a ring of 10,000 nodes
// within 3x of one of 10).
func Growth(cs []Comparison) {
	first := map[string]float64{}
	for i := range cs {
		c := &cs[i]
		f, ok := first[c.Workload]
		if !ok {
			f = c.KernelNs
			first[c.Workload] = f
		}
		if f > 0 {
			c.Growth = c.KernelNs / f
		}
	}
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
