//go:build unix

package rehearsal

import (
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
