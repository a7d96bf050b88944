//go:build linux

package simbench

import (
	"syscall"
	"time"
	"unsafe"
)

// clockName names what threadClock measures.
const clockName = "thread-cpu"

// threadClock reads the calling thread's CPU time
// (CLOCK_THREAD_CPUTIME_ID): unlike the wall clock, it does not count the
// time other processes on a busy machine hold the core.
func threadClock() time.Duration {
	var ts syscall.Timespec
	const clockThreadCPUTimeID = 3
	//detlint:allow the syscall passes the address, nothing keys on it
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		panic("simbench: clock_gettime(CLOCK_THREAD_CPUTIME_ID): " + errno.Error())
	}
	return time.Duration(ts.Nano())
}
