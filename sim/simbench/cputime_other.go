//go:build !linux

package simbench

import "time"

const clockName = "wall"

var clockStart = time.Now() //detlint:allow benchmark timing, nothing simulated

// threadClock falls back to the wall clock where no thread CPU clock is read.
func threadClock() time.Duration { return time.Since(clockStart) } //detlint:allow as above
