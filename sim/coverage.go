package sim

import (
	"maps"
	"slices"
)

// Coverage of interesting states, in the spirit of "sometimes" assertions:
// node code names a state worth reaching (a snapshot installed over live
// data, a lease expired by a clock jump) and the world counts how often the
// run reached it. A sweep then says how many seeds reached each state, and
// a state no seed reached is a gap in the scenario, not luck.
//
// Marks are observation only: they are kept out of the fingerprint and the
// trace, so adding or moving a mark never changes a run or its
// fingerprint, and seeds-to-detection figures survive instrumentation.
// They cost one map update.

// Reached records that the node reached the named state (by convention
// "<system>/<state>"). A crashed incarnation's marks are ignored.
func (e *Env) Reached(state string) {
	if e.live() {
		e.w.Reach(state)
	}
}

// Reach records a state reached by the harness itself (a workload or a
// scenario's own nemesis).
func (w *World) Reach(state string) {
	if w.reached == nil {
		w.reached = map[string]uint64{}
	}
	w.reached[state]++
}

// Reached returns how often each state was reached, by name.
func (w *World) Reached() map[string]uint64 { return maps.Clone(w.reached) }

// ReachedNames returns the names of the states reached, sorted.
func (w *World) ReachedNames() []string { return slices.Sorted(maps.Keys(w.reached)) }
