package scenarios

import (
	"time"

	"github.com/sofasim/sofasim/sim"
)

// Driver runs one client's operations in order, each at its time or when
// the previous one finished, whichever is later: the one workload pump of
// every system. It is harness code that a client node embeds; the system
// records its own history in Exec and done.
type Driver[O Op] struct {
	Ops []O
	// Now reads the world's virtual time.
	Now func() time.Duration
	// Exec starts an operation and calls done once when it has finished
	// (succeeded, failed or been given up); an operation that finishes at
	// once calls done before returning.
	Exec func(op O, done func())

	next    int
	running bool
}

// driverTick is the tag of the driver's wake-up timer.
type driverTick struct{}

// IsDriverTick reports whether a timer tag is the driver's.
func IsDriverTick(tag any) bool { _, ok := tag.(driverTick); return ok }

// Start begins (or, for a restarted client node, resumes) the workload:
// an operation that was running when the node went down stays abandoned.
func (d *Driver[O]) Start(env *sim.Env) {
	d.running = false
	d.Pump(env)
}

// Pump starts every operation that is due, or sets a timer for the next.
func (d *Driver[O]) Pump(env *sim.Env) {
	for !d.running && d.next < len(d.Ops) {
		op := d.Ops[d.next]
		if wait := time.Duration(op.Timing().At) - d.Now(); wait > 0 {
			env.SetTimer(wait, driverTick{})
			return
		}
		d.next++
		d.running = true
		finished := false
		d.Exec(op, func() {
			d.running = false
			if finished { // done came later, from a reply or a timeout
				d.Pump(env)
			}
		})
		finished = true
	}
}

// Done reports whether every operation has finished.
func (d *Driver[O]) Done() bool { return d.next >= len(d.Ops) && !d.running }

// Started counts the operations begun so far.
func (d *Driver[O]) Started() int { return d.next }

// SplitOps gives each of n clients its operations, in plan order.
func SplitOps[O Op](ops []O, n int) [][]O {
	out := make([][]O, n)
	for _, op := range ops {
		c := op.Timing().Client
		out[c] = append(out[c], op)
	}
	return out
}
