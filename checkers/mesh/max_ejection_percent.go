package mesh

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// MaxEjectionPercent: outlier detection never has more than max ejection
// percent of a cluster's hosts ejected at once.
type MaxEjectionPercent struct{}

func (MaxEjectionPercent) Name() string { return "max-ejection-percent" }

func (c MaxEjectionPercent) Check(h *History, _ checkers.Options) checkers.Result {
	var v found
	n := 0
	for i, r := range h.Records {
		e, ok := r.Ev.(Ejection)
		if !ok || !e.Ejected {
			continue
		}
		n++
		if e.NumEjected*100 > e.MaxPercent*e.Hosts {
			v.add(i, "%s ejected %s from %s at %v: %d of %d hosts ejected, max %d%%", r.Node, e.Host, e.Cluster, r.T, e.NumEjected, e.Hosts, e.MaxPercent)
		}
	}
	return v.result(c.Name(), fmt.Sprintf("%d ejections, all within max ejection percent", n))
}
