//go:build unix

package procstat

import (
	"runtime"
	"syscall"
	"time"
)

// CPUTime is the process's user and system CPU time: on a loaded machine
// a speed-up against CPU time is the one that reproduces.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// PeakRSS is the process's peak resident set in MiB (what the kernel
// charged it, heap, stacks and runtime overhead included).
func PeakRSS() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return float64(ru.Maxrss) / (1 << 20) // bytes there, KiB elsewhere
	}
	return float64(ru.Maxrss) / 1024
}
