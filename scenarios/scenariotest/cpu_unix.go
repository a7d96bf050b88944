//go:build unix

package scenariotest

import (
	"syscall"
	"time"
)

// CPUTime is the process's user and system CPU time so far: on a shared
// machine virtual time per CPU second moves less than per wall second.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
