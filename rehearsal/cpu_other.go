//go:build !unix

package rehearsal

import "time"

func cpuTime() time.Duration { return 0 }
