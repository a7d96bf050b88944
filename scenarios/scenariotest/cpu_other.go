//go:build !unix

package scenariotest

import "time"

// CPUTime is not measured here: CPU-time figures read as zero.
func CPUTime() time.Duration { return 0 }
