package mesh

import (
	"runtime"
	"slices"
	"testing"
	"time"

	meshnode "github.com/sofasim/sofasim/nodes/mesh"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/scenarios/scenariotest"
	"github.com/sofasim/sofasim/sim"
)

// BenchmarkMeshChaos: mesh-chaos with default parameters (the real
// registry as discovery), one seed per iteration, checks included:
//
//	go test ./scenarios/mesh -run '^$' -bench MeshChaos -benchtime 20x
//
// virtual/cpu divides by the process's CPU time instead (every thread, the
// collector's included): on a shared machine it moves less than wall time.
func BenchmarkMeshChaos(b *testing.B) {
	var virtual, wall float64
	cpu0 := scenariotest.CPUTime()
	for i := 0; i < b.N; i++ {
		plan, err := scenarios.PlanForSeed("mesh-chaos", uint64(i+1), nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		res, err := scenarios.Run(plan, scenarios.Options{})
		if err != nil {
			b.Fatal(err)
		}
		wall += time.Since(start).Seconds()
		virtual += time.Duration(res.Virtual).Seconds()
		if !res.Passed() {
			b.Fatalf("seed %d: %s", i+1, res.Explain())
		}
	}
	b.ReportMetric(virtual/wall, "virtual/wall")
	b.ReportMetric(virtual/(scenariotest.CPUTime()-cpu0).Seconds(), "virtual/cpu")
}

// latencies is the large benchmark's observer: request latencies only
// (the checkers' full recording grows with every event).
type latencies struct {
	w      *sim.World
	issued map[string]time.Duration
	lat    []time.Duration
	ok     int
}

func (l *latencies) Observe(_ sim.NodeID, ev meshnode.Event) {
	switch e := ev.(type) {
	case meshnode.Issued:
		l.issued[e.Req.ID] = l.w.Now()
	case meshnode.Answered:
		if t, ok := l.issued[e.ReqID]; ok {
			l.lat = append(l.lat, l.w.Now()-t)
			delete(l.issued, e.ReqID)
		}
		if e.Resp.OK() {
			l.ok++
		}
	}
}

func (l *latencies) quantile(perMille int) time.Duration {
	if len(l.lat) == 0 {
		return 0
	}
	return l.lat[min(len(l.lat)-1, len(l.lat)*perMille/1000)]
}

// BenchmarkMesh1000: 1,000 sidecars (50 services x 10 instances and 500
// client pods at 5 requests a second), discovery through the real
// registry, 2 pilots, 20 s of virtual time with no faults:
//
//	go test ./scenarios/mesh -run '^$' -bench Mesh1000 -benchtime 1x
func BenchmarkMesh1000(b *testing.B) {
	params := map[string]string{"services": "50", "instances": "10", "clients": "500", "intruders": "0", "rate": "5", "duration": "14s", "liveness": "6s"}
	for i := 0; i < b.N; i++ {
		plan, err := scenarios.PlanForSeed("mesh-basic", uint64(i+1), params, nil)
		if err != nil {
			b.Fatal(err)
		}
		plan.Ops = nil
		sc, _ := scenarios.Lookup("mesh-basic")
		p, err := scenarios.ResolveParams(sc, params)
		if err != nil {
			b.Fatal(err)
		}
		w := sim.NewWorld(sim.Config{Seed: plan.Seed})
		lat := &latencies{w: w, issued: map[string]time.Duration{}}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		build(w, plan, p, nil, false, lat)
		end := time.Duration(plan.Duration + plan.Liveness)
		cpu0 := scenariotest.CPUTime()
		out := w.Run(sim.Limits{Until: end})
		cpu := (scenariotest.CPUTime() - cpu0).Seconds()
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(w)
		slices.Sort(lat.lat)
		sidecars := 50*10 + 500
		load := (end - quiet - time.Second).Seconds() // the clients' load runs from 1s to the quiet period
		b.ReportMetric(out.Speedup, "virtual/wall")
		b.ReportMetric(end.Seconds()/cpu, "virtual/cpu")
		b.ReportMetric(float64(len(lat.lat))/out.Wall.Seconds(), "req/wall-s")
		b.ReportMetric(float64(len(lat.lat))/cpu, "req/cpu-s")
		b.ReportMetric(float64(len(lat.lat))/load, "req/virtual-s")
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(sidecars), "heap-B/sidecar")
		b.ReportMetric(float64(lat.quantile(500))/1e6, "p50-ms")
		b.ReportMetric(float64(lat.quantile(990))/1e6, "p99-ms")
		b.ReportMetric(float64(lat.quantile(999))/1e6, "p999-ms")
		b.ReportMetric(float64(lat.ok)*100/float64(max(1, len(lat.lat))), "ok-%")
	}
}
