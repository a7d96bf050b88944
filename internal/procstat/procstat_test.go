package procstat

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCPUTimeAdvancesWithWork(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no getrusage")
	}
	before := CPUTime()
	x := uint64(1)
	for i := 0; i < 50_000_000; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	require.NotZero(t, x)
	require.Greater(t, CPUTime(), before)
	require.Greater(t, PeakRSS(), 1.0, "a Go process holds more than 1 MiB")
}
