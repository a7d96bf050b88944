// Package timing exercises the real clock, real timers and deadlines.
package timing

import (
	"context"
	"time"
)

func clock(start time.Time) {
	_ = time.Now()        // want `^time.Now reads the wall clock; read the node's simulated clock instead, or add //detlint:allow <why>$`
	_ = time.Since(start) // want `time.Since reads the wall clock`
	_ = time.Until(start) // want `time.Until reads the wall clock`
	now := time.Now       // want `time.Now reads the wall clock`
	_ = now
}

func timers(d time.Duration) {
	time.Sleep(d)                     // want `time.Sleep blocks in real time`
	<-time.After(d)                   // want `time.After is a real-time timer` `channel receive`
	t := time.AfterFunc(d, func() {}) // want `time.AfterFunc is a real-time timer`
	t.Stop()
	tm := time.NewTimer(d) // want `time.NewTimer is a real-time timer`
	tm.Reset(d)
	tk := time.NewTicker(d) // want `time.NewTicker is a real-time ticker`
	tk.Stop()
	_ = time.Tick(d) // want `time.Tick is a real-time ticker`
}

func deadlines(ctx context.Context, at time.Time, d time.Duration) {
	_, cancel := context.WithTimeout(ctx, d) // want `context.WithTimeout expires on the real clock`
	cancel()
	_, cancel = context.WithTimeoutCause(ctx, d, nil) // want `context.WithTimeoutCause expires on the real clock`
	cancel()
	_, cancel = context.WithDeadline(ctx, at) // want `context.WithDeadline expires on the real clock`
	cancel()
	_, cancel = context.WithDeadlineCause(ctx, at, nil) // want `context.WithDeadlineCause expires on the real clock`
	cancel()
}

// Allowed: durations and time values as plain data.
func plain(ctx context.Context, t time.Time) time.Time {
	d := 3*time.Second + 250*time.Millisecond
	u := time.Unix(0, int64(d))
	_ = time.Date(2024, time.November, 11, 0, 0, 0, 0, time.UTC)
	_ = t.Sub(u).Round(time.Millisecond).String()
	_, _ = time.ParseDuration("1s")
	_ = time.UnixMilli(42).After(t)
	c, cancel := context.WithCancel(ctx)
	defer cancel()
	_ = context.WithoutCancel(c)
	_ = context.WithValue(c, struct{}{}, 1)
	if dl, ok := ctx.Deadline(); ok {
		return dl
	}
	return t.Add(d)
}
