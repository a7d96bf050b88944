package sim

import (
	crand "crypto/rand" //detlint:allow the world swaps crypto/rand.Reader for its seeded stream
	"sync"
	"time"

	"github.com/pingcap/failpoint"
)

// processMu is held by the running world: crypto/rand.Reader and the
// failpoint registry are process-wide.
var processMu sync.Mutex

// acquire takes the process for the world and returns the function that
// gives it back.
func (w *World) acquire() func() {
	processMu.Lock()
	saved := crand.Reader
	crand.Reader = streamReader{w.crypto}
	w.running = true
	for _, name := range w.Armed() {
		w.enableFailpoint(w.armed[name])
	}
	return func() {
		for _, name := range w.Armed() {
			_ = failpoint.Disable(name)
		}
		w.running = false
		crand.Reader = saved
		processMu.Unlock()
	}
}

// wallNow and wallSince read the real clock, for the wall-time figures of a
// run only; nothing simulated depends on them.
func wallNow() time.Time { return time.Now() } //detlint:allow wall time is reported, never simulated

func wallSince(t time.Time) time.Duration { return time.Since(t) } //detlint:allow as above
