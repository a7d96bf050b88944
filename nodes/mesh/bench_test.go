package mesh

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// latencies is a light Observer for benchmarks: request latencies only.
type latencies struct {
	w      *sim.World
	issued map[string]time.Duration
	lat    []time.Duration
	ok     int
}

func (l *latencies) Observe(_ sim.NodeID, ev Event) {
	switch e := ev.(type) {
	case Issued:
		l.issued[e.Req.ID] = l.w.Now()
	case Answered:
		if t, ok := l.issued[e.ReqID]; ok {
			l.lat = append(l.lat, l.w.Now()-t)
			delete(l.issued, e.ReqID)
		}
		if e.Resp.OK() {
			l.ok++
		}
	}
}

func (l *latencies) quantile(q int) time.Duration { // q in per mille
	if len(l.lat) == 0 {
		return 0
	}
	return l.lat[min(len(l.lat)-1, len(l.lat)*q/1000)]
}

// benchMesh runs services x instances app pods and clients client pods
// for d of virtual time and reports speed, memory per sidecar and latency.
func benchMesh(b *testing.B, services, instances, clients, rate int, d time.Duration, healthChecks bool) {
	for i := 0; i < b.N; i++ {
		w := sim.NewWorld(sim.Config{Seed: uint64(i + 1)})
		lat := &latencies{w: w, issued: map[string]time.Duration{}}
		var names []string
		topo := Topology{Clients: clients, Pilots: 3, Observer: lat,
			App:  AppConfig{Workers: 16, Queue: 64, ServiceTime: Dist{Min: 2 * time.Millisecond, Max: 20 * time.Millisecond, TailPPM: 10_000, TailMax: 200 * time.Millisecond}, ReadyAfter: 300 * time.Millisecond},
			Load: LoadConfig{Rate: rate, Paths: []string{"/", "/api/x"}, IdempotentPPM: 700_000, Users: 100, Start: 2 * time.Second}}
		for s := 0; s < services; s++ {
			name := fmt.Sprintf("svc-%d", s)
			names = append(names, name)
			topo.Services = append(topo.Services, ServiceTopo{Name: name, Instances: instances})
		}
		topo.Config = DefaultConfig(names)
		if !healthChecks {
			for j := range topo.Config.Services {
				topo.Config.Services[j].Policy.HealthCheck = nil
			}
		}
		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		Build(w, topo)
		out := w.Run(sim.Limits{Until: d})
		var after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&after)
		slices.Sort(lat.lat)
		pods := services*instances + clients
		b.ReportMetric(out.Speedup, "virtual/wall")
		b.ReportMetric(float64(len(lat.lat))/out.Wall.Seconds(), "req/wall-s")
		b.ReportMetric(float64(len(lat.lat))/(d-2*time.Second).Seconds(), "req/virtual-s")
		b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(pods), "heap-B/sidecar")
		b.ReportMetric(float64(lat.quantile(500))/1e6, "p50-ms")
		b.ReportMetric(float64(lat.quantile(990))/1e6, "p99-ms")
		b.ReportMetric(float64(lat.quantile(999))/1e6, "p999-ms")
		b.ReportMetric(float64(lat.ok)*100/float64(max(1, len(lat.lat))), "ok-%")
	}
}

// BenchmarkMesh3x3: the test topology (9 instances, 3 clients at 50/s).
func BenchmarkMesh3x3(b *testing.B) { benchMesh(b, 3, 3, 3, 50, 30*time.Second, true) }

// BenchmarkMeshChaos: the chaos nemesis on the test topology.
func BenchmarkMeshChaos(b *testing.B) {
	for i := 0; i < b.N; i++ {
		tm := newTestMesh(b, meshOpts{seed: uint64(i + 1), chaos: chaos})
		start := time.Now() //detlint:allow benchmark wall time
		tm.run()
		wall := time.Since(start) //detlint:allow benchmark wall time
		b.ReportMetric(float64(tm.w.Now())/float64(wall), "virtual/wall")
	}
}

// BenchmarkMesh1000: 1,000 sidecars (50 services x 10 instances and 500
// clients at 5/s), without active health checks (Istio's default).
func BenchmarkMesh1000(b *testing.B) { benchMesh(b, 50, 10, 500, 5, 12*time.Second, false) }
