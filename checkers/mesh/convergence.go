package mesh

import (
	"github.com/sofasim/sofasim/checkers"
)

// Convergence: after the faults healed and a quiet period, every live
// sidecar holds exactly what the last configuration and the registry's
// true endpoints make of it: each xDS type's content, and the hosts each
// cluster really holds. The harness compares at the end (Ended).
type Convergence struct{}

func (Convergence) Name() string { return "convergence" }

func (c Convergence) Check(h *History, _ checkers.Options) checkers.Result {
	f := load(h)
	var v found
	if f.ended == nil {
		res := checkers.Result{Checker: c.Name(), Verdict: checkers.Unknown, Explanation: "the history has no end state"}
		return res
	}
	end := len(h.Records) - 1
	for _, d := range f.ended.Divergence {
		v.add(end, "at the end (%v): %s", f.end, d)
	}
	return v.result(c.Name(), "every live sidecar holds the latest configuration and the registry's endpoints")
}
