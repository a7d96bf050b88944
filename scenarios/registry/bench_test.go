package registry

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/checkers"
	regcheck "github.com/sofasim/sofasim/checkers/registry"
	regnode "github.com/sofasim/sofasim/nodes/registry"
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

// regHuge is the Double-Eleven rehearsal's size: 100,000 clients on the
// same 100 session and 10 data servers, 10,000 services.
var regHuge = map[string]string{
	"sessions": "100", "data": "10", "clients": "100000", "services": "10000",
	"ops": "50000", "duration": "20s", "liveness": "10s",
}

// BenchmarkRegistryLarge runs the capacity topology (faults removed from
// the plan) and reports the simulator's events per wall second, the live
// heap per client while the safety phase ends (servers, clients and the
// recorded history together, divided by the clients; B/client-sys leaves
// out the benchmark's own latency histogram), the virtual push latency from
// a publish to each subscriber of its service receiving it (p50, p99, to
// 0.1 ms), and
// the virtual/wall speed-up (speedup-cpu: virtual time over the process's
// CPU time, what a quiet machine would show).
//
//	go test ./scenarios/registry -run '^$' -bench RegistryLarge -benchtime 1x
//
// SOFASIM_REG_BENCH=sessions=10,clients=1000 overrides parameters,
// SOFASIM_REG_HEAP=FILE writes the live heap at the end of the safety
// phase, and SOFASIM_REG_CHECK=0 leaves out the convergence verdict (most
// of a profile's samples otherwise).
func BenchmarkRegistryLarge(b *testing.B) {
	benchRegistry(b, regLarge, os.Getenv("SOFASIM_REG_CHECK") != "0", false)
}

// BenchmarkRegistryHuge is the 100,000-client run (minutes; not a default
// test). Its plan's services are spread uniformly: rapid's draws favour
// svc-0, which would get a tenth of all clients (16,000 subscribers of one
// 17,000-publisher datum), and the benchmark's recorder, which compares
// every push with the subscriber's previous one and counts a latency per
// publisher and subscriber, would measure itself (hundreds of millions of
// deliveries). The convergence verdict is left out unless
// SOFASIM_REG_CHECK=1.
//
//	go test ./scenarios/registry -run '^$' -bench RegistryHuge -benchtime 1x -timeout 60m
func BenchmarkRegistryHuge(b *testing.B) {
	benchRegistry(b, regHuge, os.Getenv("SOFASIM_REG_CHECK") == "1", true)
}

func benchRegistry(b *testing.B, base map[string]string, check, uniform bool) {
	for i := 0; i < b.N; i++ {
		params := maps.Clone(base)
		if v := os.Getenv("SOFASIM_REG_BENCH"); v != "" { // e.g. sessions=10,clients=1000,services=100,ops=2000
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
		if uniform {
			spreadServices(b, plan)
		}
		m := runMeasured(b, plan, check)
		b.ReportMetric(m.eventsPerSec, "events/s")
		b.ReportMetric(float64(m.events), "events")
		b.ReportMetric(m.heapPerClient, "B/client")
		b.ReportMetric(m.sysPerClient, "B/client-sys")
		b.ReportMetric(float64(m.p50)/1e6, "push-p50-ms")
		b.ReportMetric(float64(m.p99)/1e6, "push-p99-ms")
		b.ReportMetric(float64(m.pushes), "pushes")
		b.ReportMetric(m.speedup, "speedup")
		b.ReportMetric(m.cpuSpeedup, "speedup-cpu")
		b.Logf("fingerprint %016x", m.fingerprint) // a speed-up must not change the run
		if check && !m.converged {
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

// spreadServices gives each operation a service drawn uniformly from the
// plan's (a stream of the plan's seed), instead of rapid's draws.
func spreadServices(b *testing.B, plan *scenarios.Plan) {
	n, err := strconv.Atoi(plan.Params["services"])
	if err != nil {
		b.Fatal(err)
	}
	rng := sim.NewStream(plan.Seed, "harness/bench-services")
	for i, raw := range plan.Ops {
		var op Op
		if err := json.Unmarshal(raw, &op); err != nil {
			b.Fatal(err)
		}
		op.Service = fmt.Sprintf("svc-%d", rng.IntN(n))
		if plan.Ops[i], err = json.Marshal(op); err != nil {
			b.Fatal(err)
		}
	}
}

type regMeasure struct {
	eventsPerSec, heapPerClient, sysPerClient, speedup, cpuSpeedup float64
	events                                                         uint64
	p50, p99                                                       time.Duration
	pushes                                                         int
	converged                                                      bool
	explain                                                        string
	fingerprint                                                    uint64
}

// runMeasured runs a registry plan as Run does, measuring the live heap
// at the end of the safety phase (while the world is alive).
func runMeasured(b *testing.B, plan *scenarios.Plan, check bool) regMeasure {
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
	start, cpuStart := time.Now(), scenariotest.CPUTime()
	w := sim.NewWorld(sim.Config{Seed: plan.Seed})
	rs := build(w, plan, params, planOps(b, plan), true)
	w.Run(sim.Limits{Until: time.Duration(plan.Duration)})
	wallSafety, cpuSafety := time.Since(start), scenariotest.CPUTime()-cpuStart
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if path := os.Getenv("SOFASIM_REG_HEAP"); path != "" { // the live heap here, for go tool pprof
		writeHeap(b, path)
	}
	restart, cpuRestart := time.Now(), scenariotest.CPUTime()
	w.Run(sim.Limits{Until: w.Now() + time.Duration(plan.Liveness)})
	wall, cpu := wallSafety+time.Since(restart), cpuSafety+scenariotest.CPUTime()-cpuRestart
	clients := params.Int("clients")
	heap := float64(int64(after.HeapAlloc) - int64(before.HeapAlloc))
	m := regMeasure{
		events:        w.Events(),
		eventsPerSec:  float64(w.Events()) / wall.Seconds(),
		heapPerClient: heap / float64(clients),
		sysPerClient:  (heap - float64(cap(rs.lean.latency.counts)*4)) / float64(clients),
		speedup:       float64(w.Now()) / float64(wall),
		cpuSpeedup:    float64(w.Now()) / float64(cpu),
		converged:     true,
		fingerprint:   w.Fingerprint(),
	}
	if check {
		evs := rs.lean.events(rs.rec.Events, w.Now())
		m.converged = regcheck.Converged(evs)
		if !m.converged {
			m.explain = regcheck.Convergence{}.Check(&regcheck.History{Events: evs}, checkers.Options{}).Explanation
		}
	}
	lat := &rs.lean.latency
	m.pushes = lat.n
	if lat.n > 0 {
		m.p50, m.p99 = lat.at(lat.n/2), lat.at(lat.n*99/100)
	}
	runtime.KeepAlive(w)
	return m
}

func planOps(tb testing.TB, plan *scenarios.Plan) []Op {
	var ops []Op
	for _, raw := range plan.Ops {
		var op Op
		if err := json.Unmarshal(raw, &op); err != nil {
			tb.Fatal(err)
		}
		ops = append(ops, op)
	}
	return ops
}

// TestLeanRecording: the benchmarks' recording leaves the run as it is
// (same fingerprint) and, merged back, holds the full recording's events
// in order, pushes aside; its pushes are each subscriber's last one.
func TestLeanRecording(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		plan, err := scenarios.PlanForSeed("registry-chaos", seed, nil, nil)
		require.NoError(t, err)
		sc, err := scenarios.Lookup(plan.Scenario)
		require.NoError(t, err)
		params, err := scenarios.ResolveParams(sc, plan.Params)
		require.NoError(t, err)
		run := func(lean bool) (*system, *sim.World) {
			w := sim.NewWorld(sim.Config{Seed: plan.Seed})
			rs := build(w, plan, params, planOps(t, plan), lean)
			w.Run(sim.Limits{Until: time.Duration(plan.Duration + plan.Liveness)})
			return rs, w
		}
		full, fw := run(false)
		lean, lw := run(true)
		require.Equal(t, fw.Fingerprint(), lw.Fingerprint(), "seed %d", seed)
		split := func(evs []regcheck.Event) (rest []regcheck.Event, last map[string]regcheck.Event) {
			last = map[string]regcheck.Event{}
			for _, ev := range evs {
				if ev.Kind != regcheck.Push {
					rest = append(rest, ev)
					continue
				}
				ev.T = 0
				last[strconv.Itoa(ev.Client)+"/"+ev.RegID] = ev
			}
			return rest, last
		}
		wantRest, wantLast := split(full.rec.Events)
		gotRest, gotLast := split(lean.lean.events(lean.rec.Events, lw.Now()))
		require.NotEmpty(t, wantLast, "seed %d", seed)
		require.Equal(t, wantRest, gotRest, "seed %d", seed)
		require.Equal(t, wantLast, gotLast, "seed %d", seed)
	}
}

// TestLatencies: the histogram's k-th latency is the k-th of the samples
// sorted, rounded down to its step.
func TestLatencies(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		samples := rapid.SliceOfN(rapid.Int64Range(0, int64(3*time.Second)), 1, 200).Draw(rt, "samples")
		var h latencies
		sorted := make([]time.Duration, len(samples))
		for i, s := range samples {
			h.add(time.Duration(s))
			sorted[i] = time.Duration(s)
		}
		slices.Sort(sorted)
		require.Equal(rt, len(samples), h.n)
		for k, d := range sorted {
			require.Equal(rt, d/latencyStep*latencyStep, h.at(k), "sample %d", k)
		}
	})
}

// TestLeanPushLatencies: the recorder's latencies, computed once per pair
// of datums, are those of comparing each push with the subscriber's
// previous one.
func TestLeanPushLatencies(t *testing.T) {
	defer func(d, a int) { maxDiffs, maxAt = d, a }(maxDiffs, maxAt)
	rapid.Check(t, func(rt *rapid.T) {
		maxDiffs, maxAt = rapid.IntRange(1, 40).Draw(rt, "max-diffs"), rapid.IntRange(1, 40).Draw(rt, "max-at") // the memos' bounds passed
		l, pubAt := newRegLean(), map[string]time.Duration{}
		var datums []*regnode.Datum
		for i := range rapid.IntRange(1, 90).Draw(rt, "datums") {
			d := &regnode.Datum{DataID: "svc", Version: uint64(i + 1)}
			for r := range 5 {
				if v := rapid.IntRange(-2, 2).Draw(rt, "data"); v >= 0 {
					data := fmt.Sprintf("r%d-v%d", r, v)
					if r%2 == 0 { // the workload's form, and another
						data = fmt.Sprintf("c%d-d%d", r, v)
					}
					d.Pubs = append(d.Pubs, regnode.PubData{RegID: fmt.Sprintf("r%d", r), Data: data})
					if v != 2 { // some data not the workload's
						pubAt[data] = time.Duration(r*3+v) * time.Millisecond
						l.pubAt.set(data, pubAt[data])
					}
				}
			}
			datums = append(datums, d)
		}
		var want latencies
		last := map[int]*regnode.Datum{}
		now := time.Second
		for _, k := range rapid.SliceOfN(rapid.IntRange(0, 3*len(datums)-1), 1, 300).Draw(rt, "pushes") {
			sub, d := k%3, datums[k/3]
			had := map[string]bool{}
			if prev := last[sub]; prev != nil {
				for _, p := range prev.Pubs {
					had[p.RegID+"="+p.Data] = true
				}
			}
			for _, p := range d.Pubs {
				if t, ok := pubAt[p.Data]; ok && !had[p.RegID+"="+p.Data] {
					want.add(now - t)
				}
			}
			last[sub] = d
			l.push(sub, "s", d, now)
			now += time.Millisecond
		}
		require.Equal(rt, want.n, l.latency.n)
		require.Equal(rt, want.counts, l.latency.counts)
	})
}

// TestPubTimes: publish times kept by the workload's data values and by
// others read back as a map's, and only the values set are found.
func TestPubTimes(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var p pubTimes
		model := map[string]time.Duration{}
		value := rapid.OneOf(
			rapid.Custom(func(rt *rapid.T) string {
				return fmt.Sprintf("c%d-d%d", rapid.IntRange(0, 30).Draw(rt, "client"), rapid.IntRange(0, 30).Draw(rt, "n"))
			}),
			rapid.SampledFrom([]string{"c01-d1", "c1-d01", "c-d1", "c1-d", "c1-d1x", "c1-d1-d2", "x1-d1", "c+1-d1", "c1-d5000", ""}),
			rapid.String(),
		)
		for range rapid.IntRange(0, 50).Draw(rt, "sets") {
			v, at := value.Draw(rt, "value"), time.Duration(rapid.Int64Range(0, 1e12).Draw(rt, "at"))
			p.set(v, at)
			model[v] = at
		}
		for range 20 {
			v := value.Draw(rt, "read")
			want, wok := model[v]
			got, ok := p.get(v)
			require.Equal(rt, wok, ok, "%q", v)
			require.Equal(rt, want, got, "%q", v)
		}
		for v, want := range model {
			got, ok := p.get(v)
			require.True(rt, ok, "%q", v)
			require.Equal(rt, want, got, "%q", v)
		}
	})
}

// TestWorkloadDataParse: the one-pass parse is the plain one (cut the
// prefix and the separator, each part a canonical decimal) on the
// workload's values, near misses and arbitrary strings.
func TestWorkloadDataParse(t *testing.T) {
	plain := func(s string) (int, int, bool) {
		dec := func(s string) (int, bool) {
			v, err := strconv.Atoi(s)
			return v, err == nil && s != "" && len(s) <= 9 && s[0] >= '0' && s[0] <= '9' && (s[0] != '0' || len(s) == 1)
		}
		rest, ok := strings.CutPrefix(s, "c")
		cs, ns, ok2 := strings.Cut(rest, "-d")
		c, okc := dec(cs)
		n, okn := dec(ns)
		if !ok || !ok2 || !okc || !okn || c >= 1<<22 || n >= 1<<12 {
			return 0, 0, false
		}
		return c, n, true
	}
	rapid.Check(t, func(rt *rapid.T) {
		s := rapid.OneOf(
			rapid.Custom(func(rt *rapid.T) string {
				return fmt.Sprintf("c%d-d%d", rapid.IntRange(0, 1<<23).Draw(rt, "client"), rapid.IntRange(0, 1<<13).Draw(rt, "n"))
			}),
			rapid.StringOf(rapid.SampledFrom([]rune("c-d0192x+ "))),
			rapid.SampledFrom([]string{"c01-d1", "c1-d01", "c-d1", "c1-d", "c1-d1x", "c1-d1-d2", "c1-x-d2", "c0-d0", "c1234567890-d1", "c4194303-d4095", "c4194304-d1"}),
			rapid.String(),
		).Draw(rt, "data")
		wc, wn, wok := plain(s)
		c, n, ok := workloadData(s)
		require.Equal(rt, wok, ok, "%q", s)
		if wok {
			require.Equal(rt, [2]int{wc, wn}, [2]int{c, n}, "%q", s)
		}
	})
}

// TestLeanEventsAcrossChunks: client events recorded over several chunks
// merge back with the other events in the order they were recorded.
func TestLeanEventsAcrossChunks(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		l, rec := newRegLean(), &regcheck.History{}
		var want []regcheck.Event
		kinds := []regcheck.Kind{regcheck.Publish, regcheck.Subscribe, regcheck.Connect, regcheck.PublishAck}
		n := rapid.IntRange(leanChunk+1, 3*leanChunk).Draw(rt, "events")
		every := rapid.IntRange(2, 50).Draw(rt, "other-every")
		for i := range n {
			if i%every == 0 {
				ev := regcheck.Event{Kind: regcheck.Slots, T: int64(i), Client: -1, Node: "data-1"}
				rec.Record(ev)
				want = append(want, ev)
			}
			ev := regcheck.Event{Kind: kinds[i%len(kinds)], T: int64(i), Client: i % 7, DataID: fmt.Sprintf("svc.%d", i%5),
				RegID: fmt.Sprintf("c%d-p", i%7), Data: fmt.Sprintf("d%d", i), Node: fmt.Sprintf("session-%d", i%3), Version: uint64(i)}
			l.record(rec, ev)
			want = append(want, ev)
		}
		require.Greater(rt, len(l.evs), 1)
		require.Equal(rt, want, l.events(rec.Events, 0))
	})
}

// TestLeanEventSize: a lean event stays within one 64-byte line (the
// recording is a twentieth of the benchmark's heap).
func TestLeanEventSize(t *testing.T) {
	require.Equal(t, uintptr(64), unsafe.Sizeof(leanEvent{}))
}
