package raftkv_test

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/scenarios"
)

// BenchmarkRaftkvChaos runs raftkv-chaos at its defaults (5 members, 10
// clients, 60 virtual seconds) over successive seeds and reports the
// virtual/wall speed-up of the simulation (speedup), the virtual time per
// CPU second of the process while scenarios.Run runs (speedup-cpu: the
// collector's threads count, other jobs on a shared machine do not), the
// porcupine check time, the client operations per run and the allocations
// per client operation of the runs (plan drawing and the check left out).
// An idle cluster's ticks and heartbeats are most of the events, so most
// allocations per operation are etcd raft's per heartbeat round. The CLI
// runs with GOGC=400; set it to measure as the CLI runs:
//
//	go test ./scenarios/raftkv -run '^$' -bench RaftkvChaos -benchtime 20x
//	GOGC=400 go test ./scenarios/raftkv -run '^$' -bench RaftkvChaos -benchtime 20x
func BenchmarkRaftkvChaos(b *testing.B) {
	var check, cpu, virtual, wall time.Duration
	var ops, events, mallocs uint64
	var ms runtime.MemStats
	for i := 0; i < b.N; i++ {
		plan, err := scenarios.PlanForSeed("raftkv-chaos", uint64(i+1), nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		runtime.ReadMemStats(&ms)
		m0, c0 := ms.Mallocs, cpuTime()
		res, err := scenarios.Run(plan, scenarios.Options{})
		if err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - c0
		runtime.ReadMemStats(&ms)
		mallocs += ms.Mallocs - m0
		virtual += time.Duration(res.Virtual)
		wall += time.Duration(res.SimWallSeconds * float64(time.Second))
		events += res.Events
		h := res.History.(checkers.History)
		ops += uint64(len(h.Ops))
		t0 := time.Now()
		checkers.Linearizable{Model: "kv"}.Check(h, checkers.Options{})
		check += time.Since(t0)
	}
	b.ReportMetric(float64(virtual)/float64(wall), "speedup")
	b.ReportMetric(float64(virtual)/float64(cpu), "speedup-cpu")
	b.ReportMetric(float64(events)/wall.Seconds(), "events/s")
	b.ReportMetric(float64(wall.Microseconds())/float64(b.N)/1000, "sim-ms/op")
	b.ReportMetric(float64(check.Microseconds())/float64(b.N)/1000, "check-ms/op")
	b.ReportMetric(float64(ops)/float64(b.N), "client-ops/op")
	if ops > 0 {
		b.ReportMetric(float64(mallocs)/float64(ops), "allocs/client-op")
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
