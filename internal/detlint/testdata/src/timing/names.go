package timing

import (
	. "context"
	wall "time"
)

type simClock struct{ now wall.Duration }

func (c *simClock) Now() wall.Duration { return c.now }

func Sleep(wall.Duration) {}

// Identity comes from type information, not from spelling.
func names(ctx Context, c *simClock) {
	_ = c.Now()
	Sleep(wall.Second)
	_ = wall.Now()                   // want `time.Now reads the wall clock`
	_, cancel := WithTimeout(ctx, 1) // want `context.WithTimeout expires on the real clock`
	cancel()
}
