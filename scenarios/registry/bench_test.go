package registry

import (
	"encoding/json"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sofasim/sofasim/checkers"
	regcheck "github.com/sofasim/sofasim/checkers/registry"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/scenarios/scenariotest"
	"github.com/sofasim/sofasim/sim"
)

// regLarge is the capacity topology: 100 session servers, 10,000 clients,
// each subscribing to one of 1,000 services and publishing to one, then
// updating, unpublishing and subscribing at random; no faults.
var regLarge = map[string]string{

	"sessions": "100", "data": "10", "clients": "10000", "services": "1000",
	"ops": "5000", "duration": "20s", "liveness": "10s",
}

// BenchmarkRegistryLarge runs the capacity topology (faults removed from
// the plan) and reports the simulator's events per wall second, the live
// heap per client while the safety phase ends (servers, clients and the
// recorded history together, divided by the clients), the virtual push
// latency from a publish to each subscriber of its service receiving it
// (p50, p99), and the virtual/wall speed-up.
//
//	go test ./scenarios/registry -run '^$' -bench RegistryLarge -benchtime 1x
func BenchmarkRegistryLarge(b *testing.B) {
	for i := 0; i < b.N; i++ {
		params := regLarge
		if v := os.Getenv("SOFASIM_REG_BENCH"); v != "" { // e.g. sessions=10,clients=1000,services=100,ops=2000
			params = map[string]string{}
			for k, v := range regLarge {
				params[k] = v
			}
			for _, kv := range strings.Split(v, ",") {
				k, v, _ := strings.Cut(kv, "=")
				params[k] = v
			}
		}
		plan, err := scenarios.PlanForSeed("registry-basic", uint64(i+1), params, nil)
		if err != nil {
			b.Fatal(err)
		}
		plan.Faults = nil
		m := runMeasured(b, plan)
		b.ReportMetric(m.eventsPerSec, "events/s")
		b.ReportMetric(m.heapPerClient, "B/client")
		b.ReportMetric(float64(m.p50)/1e6, "push-p50-ms")
		b.ReportMetric(float64(m.p99)/1e6, "push-p99-ms")
		b.ReportMetric(float64(m.pushes), "pushes")
		b.ReportMetric(m.speedup, "speedup")
		if !m.converged {
			b.Fatalf("the registry did not converge: %s", m.explain)
		}
	}
}

// BenchmarkRegistryChaos: the virtual/wall speed-up of registry-chaos at
// its defaults over successive seeds.
//
//	go test ./scenarios/registry -run '^$' -bench RegistryChaos -benchtime 20x
func BenchmarkRegistryChaos(b *testing.B) { scenariotest.Speedup(b, "registry-chaos", nil, nil) }

func writeHeap(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}

type regMeasure struct {
	eventsPerSec, heapPerClient, speedup float64
	p50, p99                             time.Duration
	pushes                               int
	converged                            bool
	explain                              string
}

// runMeasured runs a registry plan as Run does, measuring the live heap
// at the end of the safety phase (while the world is alive).
func runMeasured(b *testing.B, plan *scenarios.Plan) regMeasure {
	b.Helper()
	sc, err := scenarios.Lookup(plan.Scenario)
	if err != nil {
		b.Fatal(err)
	}
	params, err := scenarios.ResolveParams(sc, plan.Params)
	if err != nil {
		b.Fatal(err)
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	w := sim.NewWorld(sim.Config{Seed: plan.Seed})
	var ops []Op
	for _, raw := range plan.Ops {
		var op Op
		if err := json.Unmarshal(raw, &op); err != nil {
			b.Fatal(err)
		}
		ops = append(ops, op)
	}
	rs := build(w, plan, params, ops, true)
	w.Run(sim.Limits{Until: time.Duration(plan.Duration)})
	wallSafety := time.Since(start)
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if path := os.Getenv("SOFASIM_REG_HEAP"); path != "" { // the live heap here, for go tool pprof
		writeHeap(b, path)
	}
	restart := time.Now()
	w.Run(sim.Limits{Until: w.Now() + time.Duration(plan.Liveness)})
	wall := wallSafety + time.Since(restart)
	clients := params.Int("clients")
	m := regMeasure{
		eventsPerSec:  float64(w.Events()) / wall.Seconds(),
		heapPerClient: float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(clients),
		speedup:       float64(w.Now()) / float64(wall),
	}
	evs := rs.lean.events(rs.rec.Events, w.Now())
	m.converged = regcheck.Converged(evs)
	if !m.converged {
		m.explain = regcheck.Convergence{}.Check(&regcheck.History{Events: evs}, checkers.Options{}).Explanation
	}
	lat := rs.lean.latency
	m.pushes = len(lat)
	if len(lat) > 0 {
		slices.Sort(lat)
		m.p50, m.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	}
	runtime.KeepAlive(w)
	return m
}
