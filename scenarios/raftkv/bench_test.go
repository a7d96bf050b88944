package raftkv_test

import (
	"testing"
	"time"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/scenarios"
)

// BenchmarkRaftkvChaos runs raftkv-chaos at its defaults (5 members, 10
// clients, 60 virtual seconds) over successive seeds and reports the
// virtual/wall speed-up of the simulation and the porcupine check time.
//
//	go test ./scenarios/raftkv -run '^$' -bench RaftkvChaos -benchtime 20x
func BenchmarkRaftkvChaos(b *testing.B) {
	var virtual, wall, check time.Duration
	for i := 0; i < b.N; i++ {
		plan, err := scenarios.PlanForSeed("raftkv-chaos", uint64(i+1), nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		res, err := scenarios.Run(plan, scenarios.Options{})
		if err != nil {
			b.Fatal(err)
		}
		virtual += time.Duration(res.Virtual)
		wall += time.Duration(res.SimWallSeconds * float64(time.Second))
		start := time.Now()
		checkers.Linearizable{Model: "kv"}.Check(res.History.(checkers.History), checkers.Options{})
		check += time.Since(start)
	}
	b.ReportMetric(float64(virtual)/float64(wall), "speedup")
	b.ReportMetric(float64(check.Microseconds())/float64(b.N)/1000, "check-ms/op")
	b.ReportMetric(float64(wall.Microseconds())/float64(b.N)/1000, "sim-ms/op")
}
