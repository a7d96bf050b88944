package coordinator

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// TestSweep runs many chaos seeds with no bug armed; set COORD_SWEEP=N
// (and COORD_PLAN=harsh for clock, disk and loss faults too).
func TestSweep(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("COORD_SWEEP"))
	if n == 0 {
		t.Skip("set COORD_SWEEP=<seeds>")
	}
	for _, store := range []Store{StoreFile, StoreRaft} {
		o := opts{wl: mixed, store: store}
		if store == StoreRaft {
			o.tcs = 3
		}
		fails := 0
		for seed := uint64(1); seed <= uint64(n); seed++ {
			plan := chaos
			if os.Getenv("COORD_PLAN") == "harsh" {
				plan = harsh
			}
			v, _, _ := simulate(seed, o, plan(seed), 6*time.Second, 12*time.Second)
			if len(v) > 0 {
				fails++
				t.Errorf("%s seed %d: %v", store, seed, v[:min(3, len(v))])
			}
		}
		t.Logf("%s: %d/%d seeds failed", store, fails, n)
	}
}
