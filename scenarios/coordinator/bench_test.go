package coordinator_test

import (
	"testing"
	"time"

	"github.com/sofasim/sofasim/scenarios"
)

// BenchmarkTxnChaos runs txn-chaos at its defaults (3 raft TCs, 3 RMs, 10
// apps, 20 virtual seconds and the liveness phase) over successive seeds
// and reports the virtual/wall speed-up of the simulation.
//
//	go test ./scenarios/coordinator -run '^$' -bench TxnChaos -benchtime 20x
func BenchmarkTxnChaos(b *testing.B) {
	var virtual, wall time.Duration
	for i := 0; i < b.N; i++ {
		plan, err := scenarios.PlanForSeed("txn-chaos", uint64(i+1), nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		res, err := scenarios.Run(plan, scenarios.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if !res.Passed() {
			b.Fatalf("seed %d: %s", i+1, res.Explain())
		}
		virtual += time.Duration(res.Virtual)
		wall += time.Duration(res.SimWallSeconds * float64(time.Second))
	}
	b.ReportMetric(float64(virtual)/float64(wall), "speedup")
	b.ReportMetric(float64(wall.Microseconds())/float64(b.N)/1000, "sim-ms/op")
}
