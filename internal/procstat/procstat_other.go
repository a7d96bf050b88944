//go:build !unix

package procstat

import "time"

// CPUTime is 0 where getrusage is missing: callers then report no CPU figures.
func CPUTime() time.Duration { return 0 }

// PeakRSS is 0 where getrusage is missing.
func PeakRSS() float64 { return 0 }
