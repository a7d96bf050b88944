package rehearsal

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/sofasim/sofasim/sim"
)

func TestSmokeDefault(t *testing.T) {
	if os.Getenv("SMOKE") == "" {
		t.Skip()
	}
	f := Default()
	f.Traffic.Points = []Point{{0, 400}, {Point{}.At + sim.Duration(15*time.Second), 400}}
	f.Drills = nil
	f.Tail = sim.Duration(12 * time.Second)
	r := Run(f, Options{})
	fmt.Printf("fp %s events %d wall %.1f speedup %.2f heap %.0fMB\n", r.Fingerprint, r.Events, r.Wall, r.Speedup, r.PeakHeapMB)
	for _, s := range r.Services {
		fmt.Println(s.Name, s.Requests, s.SuccessTotal, s.P99Total, s.PeakUtil)
	}
	fmt.Println(r.Verdict.First, r.Correctness, r.Unjudged)
}
