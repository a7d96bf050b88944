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
// virtual/wall speed-up of the simulation and the porcupine check time.
//
//	go test ./scenarios/raftkv -run '^$' -bench RaftkvChaos -benchtime 20x
func BenchmarkRaftkvChaos(b *testing.B) {
	var check time.Duration
	scenariotest.Speedup(b, "raftkv-chaos", nil, func(res *reports.Result) {
		start := time.Now()
		checkers.Linearizable{Model: "kv"}.Check(res.History.(checkers.History), checkers.Options{})
		check += time.Since(start)
	})
	b.ReportMetric(float64(check.Microseconds())/float64(b.N)/1000, "check-ms/op")
}
