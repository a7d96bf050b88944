package raftkv_test

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/reports"
	"github.com/sofasim/sofasim/scenarios/scenariotest"
)

// BenchmarkRaftkvChaos runs raftkv-chaos at its defaults (5 members, 10
// clients, 60 virtual seconds) over successive seeds and reports the
// virtual/wall speed-up of the simulation, the virtual time per CPU second
// of the process (speedup-cpu: the collector's threads count, other jobs
// on a shared machine do not), the porcupine check time, the client
// operations per run and the allocations per client operation of the runs
// (the check's own left out). An idle cluster's ticks and heartbeats are
// most of the events, so most allocations per operation are etcd raft's
// per heartbeat round. The CLI runs with GOGC=400; set it to measure as the
// CLI runs:
//
//	go test ./scenarios/raftkv -run '^$' -bench RaftkvChaos -benchtime 20x
//	GOGC=400 go test ./scenarios/raftkv -run '^$' -bench RaftkvChaos -benchtime 20x
func BenchmarkRaftkvChaos(b *testing.B) {
	var check, cpu, virtual time.Duration
	var ops, checkMallocs uint64
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	start := ms.Mallocs
	mark := cpuTime()
	scenariotest.Speedup(b, "raftkv-chaos", nil, func(res *reports.Result) {
		cpu += cpuTime() - mark
		virtual += time.Duration(res.Virtual)
		h := res.History.(checkers.History)
		ops += uint64(len(h.Ops))
		runtime.ReadMemStats(&ms)
		m0 := ms.Mallocs
		t0 := time.Now()
		checkers.Linearizable{Model: "kv"}.Check(h, checkers.Options{})
		check += time.Since(t0)
		runtime.ReadMemStats(&ms)
		checkMallocs += ms.Mallocs - m0
		mark = cpuTime()
	})
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(virtual)/float64(cpu), "speedup-cpu")
	b.ReportMetric(float64(check.Microseconds())/float64(b.N)/1000, "check-ms/op")
	b.ReportMetric(float64(ops)/float64(b.N), "client-ops/op")
	if ops > 0 {
		b.ReportMetric(float64(ms.Mallocs-start-checkMallocs)/float64(ops), "allocs/client-op")
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
