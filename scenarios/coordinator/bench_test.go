package coordinator

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	coordcheck "github.com/sofasim/sofasim/checkers/coordinator"
	coordnode "github.com/sofasim/sofasim/nodes/coordinator"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/scenarios/scenariotest"
	"github.com/sofasim/sofasim/sim"
)

// BenchmarkTxnChaos runs txn-chaos at its defaults (3 raft TCs, 3 RMs, 10
// apps, 20 virtual seconds and the liveness phase) over successive seeds
// and reports the virtual/wall speed-up of the simulation, and the
// virtual time per CPU second of the process (the speed-up an idle core
// would give: the shared CI machine's wall clock counts other jobs too).
//
//	go test ./scenarios/coordinator -run '^$' -bench TxnChaos -benchtime 20x
func BenchmarkTxnChaos(b *testing.B) {
	var virtual, wall time.Duration
	cpu0 := scenariotest.CPUTime()
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
	b.ReportMetric(float64(virtual)/float64(scenariotest.CPUTime()-cpu0), "speedup-cpu")
	b.ReportMetric(float64(wall.Microseconds())/float64(b.N)/1000, "sim-ms/op")
}

// BenchmarkTxnConcurrent1000 is the capacity topology: 3 raft TCs, 20 RMs
// with 1,000 accounts each and 1,000 applications each running AT
// transfers back to back, so about 1,000 global transactions are open at
// once, for 10 virtual seconds with no faults. It reports committed
// transactions per wall and per virtual second, the live heap per open
// transaction half way through (servers, apps and the TM outcomes
// recorded, divided by the sessions the TC holds), the virtual commit
// latency from begin to the commit's answer (p50, p99) and the speed-up.
// commits/cpu-s divides by the process's CPU time instead of the wall
// clock, which on a shared machine counts other jobs too.
//
//	go test ./scenarios/coordinator -run '^$' -bench TxnConcurrent1000 -benchtime 1x
func BenchmarkTxnConcurrent1000(b *testing.B) {
	const load = 10 * time.Second
	for i := 0; i < b.N; i++ {
		tp := topo{napps: 1000, balance: 1000, stock: 100}
		tp.cfg = coordnode.Config{TCs: []sim.NodeID{"tc-1", "tc-2", "tc-3"}, Store: coordnode.StoreRaft,
			TxTimeout: 10 * time.Second, Accounts: 1000, Items: 1, Balance: tp.balance, Stock: tp.stock, SnapshotEvery: 5000}
		for r := 1; r <= 20; r++ {
			tp.cfg.RMs = append(tp.cfg.RMs, sim.NodeID("rm-"+string(rune('a'+r-1))))
		}
		rng := rand.New(rand.NewPCG(uint64(i+1), 12))
		var ops []Op
		for c := 0; c < tp.napps; c++ {
			for k := 0; k < 100; k++ {
				op := Op{OpTiming: scenarios.OpTiming{Client: c}, Kind: OpTransfer, FromRM: rng.IntN(20), From: rng.IntN(1000),
					ToRM: rng.IntN(20), To: rng.IntN(1000), Amount: 1 + rng.Int64N(50)}
				if op.ToRM == op.FromRM && op.To == op.From {
					op.To = (op.To + 1) % 1000
				}
				ops = append(ops, op)
			}
		}
		cpu0 := scenariotest.CPUTime()
		var before, mid runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		w := sim.NewWorld(sim.Config{Seed: uint64(i + 1)})
		sys, err := build(w, &scenarios.Plan{Duration: sim.Duration(load)}, tp, ops, true)
		if err != nil {
			b.Fatal(err)
		}
		w.Run(sim.Limits{Until: load / 2})
		runtime.GC()
		runtime.ReadMemStats(&mid)
		open := 0
		if tc := coordnode.ServingTC(w, sys.tp.cfg); tc != nil {
			open = len(tc.Sessions())
		}
		w.Run(sim.Limits{Until: load})
		begun := map[uint64]int64{}
		var lat []time.Duration
		for _, ev := range sys.hist.Events {
			switch {
			case ev.Kind == coordcheck.TMBegin:
				begun[ev.XID] = ev.T
			case ev.Kind == coordcheck.TMCommit && ev.Outcome == coordcheck.OutcomeCommitted:
				lat = append(lat, time.Duration(ev.T-begun[ev.XID]))
			}
		}
		if len(lat) == 0 || open == 0 {
			b.Fatalf("no work done: %d commits, %d open", len(lat), open)
		}
		slices.Sort(lat)
		pct := func(p int) float64 { return float64(lat[min(len(lat)-1, len(lat)*p/100)]) / 1e6 }
		b.ReportMetric(float64(len(lat))/w.Wall().Seconds(), "commits/wall-s")
		b.ReportMetric(float64(len(lat))/(scenariotest.CPUTime()-cpu0).Seconds(), "commits/cpu-s")
		b.ReportMetric(float64(len(lat))/load.Seconds(), "commits/virtual-s")
		b.ReportMetric(pct(50), "p50-ms")
		b.ReportMetric(pct(99), "p99-ms")
		b.ReportMetric(float64(int64(mid.HeapAlloc)-int64(before.HeapAlloc))/float64(open), "heap-B/open-txn")
		b.ReportMetric(float64(open), "open-txns")
		b.ReportMetric(float64(load)/float64(w.Wall()), "speedup")
	}
}
