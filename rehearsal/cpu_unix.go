//go:build unix

package rehearsal

import (
	"runtime"
	"syscall"
	"time"
)

// cpuTime is the process's user and system CPU time: under a loaded
// machine the speed-up against CPU time is the one that reproduces.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is the process's peak resident set in MiB (what the kernel
// charged it, heap, stacks and runtime overhead included).
func peakRSS() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return float64(ru.Maxrss) / (1 << 20) // bytes there, KiB elsewhere
	}
	return float64(ru.Maxrss) / 1024
}
