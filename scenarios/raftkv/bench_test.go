package raftkv_test

import (
	"testing"
	"time"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/reports"
	"github.com/sofasim/sofasim/scenarios/scenariotest"
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
	var check time.Duration
	var ops uint64
	t := scenariotest.Speedup(b, "raftkv-chaos", nil, func(res *reports.Result) {
		h := res.History.(checkers.History)
		ops += uint64(len(h.Ops))
		t0 := time.Now()
		checkers.Linearizable{Model: "kv"}.Check(h, checkers.Options{})
		check += time.Since(t0)
	})
	b.ReportMetric(float64(check.Microseconds())/float64(b.N)/1000, "check-ms/op")
	b.ReportMetric(float64(ops)/float64(b.N), "client-ops/op")
	if ops > 0 {
		b.ReportMetric(float64(t.Mallocs)/float64(ops), "allocs/client-op")
	}
}
