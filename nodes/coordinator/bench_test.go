package coordinator

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"
)

// BenchmarkChaos runs the chaos plan (file store, 1 TC, 3 RMs, 4 apps, 16
// virtual seconds) and reports the virtual/wall speed-up.
func BenchmarkChaos(b *testing.B) {
	for _, store := range []Store{StoreFile, StoreRaft} {
		b.Run(string(store), func(b *testing.B) {
			o := opts{wl: mixed, store: store}
			if store == StoreRaft {
				o.tcs = 3
			}
			var virt, wall time.Duration
			for i := 0; i < b.N; i++ {
				_, _, d := simulate(uint64(i+1), o, chaos(uint64(i+1)), 6*time.Second, 10*time.Second)
				virt += d.w.Now()
				wall += d.w.Wall()
			}
			b.ReportMetric(float64(virt)/float64(wall), "virtual/wall")
		})
	}
}

// BenchmarkConcurrent1000: 3 TCs (raft), 20 RMs, 1,000 apps each running
// one global transfer at a time with no think time, so about 1,000 global
// transactions are open at once. 1,000 accounts per RM keep contention
// moderate (uniform picks over 20,000 rows).
func BenchmarkConcurrent1000(b *testing.B) {
	for i := 0; i < b.N; i++ {
		const load = 10 * time.Second
		d := newDeployment(uint64(i+1), opts{store: StoreRaft, tcs: 3, rms: 20, apps: 1000,
			wl:   Workload{Think: time.Millisecond, Until: load},
			tune: func(c *Config) { c.Accounts = 1000; c.TxTimeout = 10 * time.Second; c.SnapshotEvery = 5000 }})
		var ms0, ms1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		d.run(load / 2)
		runtime.GC()
		runtime.ReadMemStats(&ms1)
		open := len(d.serving().Sessions())
		d.run(load)
		begun := map[XID]time.Duration{}
		var lat []time.Duration
		committed := 0
		for j, e := range d.rec.tm {
			switch {
			case e.Op == "begin":
				begun[e.XID] = d.rec.tmAt[j]
			case e.Op == "commit" && e.Outcome == OutcomeCommitted:
				committed++
				lat = append(lat, d.rec.tmAt[j]-begun[e.XID])
			}
		}
		slices.Sort(lat)
		pct := func(p int) time.Duration {
			if len(lat) == 0 {
				return 0
			}
			return lat[min(len(lat)-1, len(lat)*p/100)]
		}
		b.ReportMetric(float64(committed)/d.w.Wall().Seconds(), "commits/wall-s")
		b.ReportMetric(float64(committed)/load.Seconds(), "commits/virtual-s")
		b.ReportMetric(float64(pct(50).Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(pct(99).Microseconds())/1000, "p99-ms")
		if open > 0 && ms1.HeapAlloc > ms0.HeapAlloc {
			b.ReportMetric(float64(ms1.HeapAlloc-ms0.HeapAlloc)/float64(open), "heap-B/open-txn")
		}
		b.ReportMetric(float64(load)/float64(d.w.Wall()), "virtual/wall")
		if v := d.violations(false); len(v) > 0 {
			b.Fatal(fmt.Sprint(v[:min(3, len(v))]))
		}
	}
}
