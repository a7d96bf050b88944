package mesh

import (
	"fmt"
	"slices"

	"github.com/sofasim/sofasim/checkers"
)

// LBRespectsHealth: outside panic mode the load balancer never picks a
// host that outlier detection ejected or active health checks found
// unhealthy.
type LBRespectsHealth struct{}

func (LBRespectsHealth) Name() string { return "lb-respects-health" }

func (c LBRespectsHealth) Check(h *History, _ checkers.Options) checkers.Result {
	var v found
	picks := 0
	for i, r := range h.Records {
		e, ok := r.Ev.(Attempt)
		if !ok {
			continue
		}
		picks++
		if !e.Panic && (slices.Contains(e.Ejected, e.Host) || slices.Contains(e.Unhealthy, e.Host)) {
			v.add(i, "%s picked %s for %s in %s outside panic mode at %v (ejected %v, unhealthy %v)", r.Node, e.Host, e.ReqID, e.Cluster, r.T, e.Ejected, e.Unhealthy)
		}
	}
	return v.result(c.Name(), fmt.Sprintf("%d picks, none of an ejected or unhealthy host outside panic mode", picks))
}
