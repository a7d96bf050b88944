package rehearsal

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/sofasim/sofasim/internal/procstat"
)

// Scale100th is the default rehearsal at 1/100 of the 2020 peak (about
// 5,830 orders a second): ten times the traffic, the instances and the
// databases and the rows in them, 10,000 clients entering through 20
// ingress gateways, more registry, pilot and TC capacity.
func Scale100th() *File {
	f := Default()
	f.Name = "double-eleven-2020-100th"
	for i := range f.Services {
		s := &f.Services[i]
		inst := map[string]int{}
		for z, n := range s.Instances { //detlint:allow building a map
			inst[z] = 10 * n
		}
		s.Instances = inst
		s.DBs *= 5
	}
	for i := range f.Traffic.Points {
		f.Traffic.Points[i].Rate *= 10
	}
	f.Traffic.Clients, f.Traffic.Gateways = 10_000, 20
	// Ten times the users own ten times the accounts and items: with the
	// databases x5, twice the rows per database keep each row as hot as
	// at 1/1000 (with the rows per database unchanged, AT global-lock
	// conflicts on accounts grew until payment saturated at second 43).
	f.Coordinator.Accounts, f.Coordinator.Items = 2000, 200
	f.Registry = Registry{Metas: 3, Data: 6, Sessions: 12}
	f.Mesh.Pilots = 6
	return f
}

func benchRehearsal(b *testing.B, f *File) {
	for range b.N {
		r := Run(f, Options{Progress: func(p Progress) {
			if testing.Verbose() && p.Virtual%(10*time.Second) == 0 {
				fmt.Fprintf(os.Stderr, "  %s: virtual %v of %v, %d req/s, RSS %.0f MB\n", f.Name, p.Virtual, p.Total, p.Rate, procstat.PeakRSS())
			}
		}})
		b.ReportMetric(r.Speedup, "x-realtime")
		b.ReportMetric(r.CPUSpeedup, "x-realtime-cpu")
		b.ReportMetric(float64(r.Events)/r.Wall, "events/s")
		b.ReportMetric(r.PeakHeapMB, "peak-heap-MB")
		b.ReportMetric(r.PeakRSSMB, "peak-RSS-MB")
		b.Logf("%s: %.0f s virtual in %.1f s wall (%.1fx), %.1f s CPU (%.1fx), %d events, verdict met=%v first=%v, correctness %v",
			r.Name, r.Virtual, r.Wall, r.Speedup, r.CPU, r.CPUSpeedup, r.Events, r.Verdict.Met, r.Verdict.First, r.Correctness)
	}
}

// go test ./rehearsal -run '^$' -bench DefaultRehearsal -benchtime 1x
func BenchmarkDefaultRehearsal(b *testing.B) { benchRehearsal(b, Default()) }

// go test ./rehearsal -run '^$' -bench Rehearsal100th -benchtime 1x -timeout 2h
func BenchmarkRehearsal100th(b *testing.B) { benchRehearsal(b, Scale100th()) }
