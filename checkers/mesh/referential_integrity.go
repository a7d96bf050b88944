package mesh

import (
	"fmt"
	"slices"

	"github.com/sofasim/sofasim/checkers"
)

// ReferentialIntegrity: a sidecar never makes active a route
// configuration that names a cluster it does not have (clusters warm
// before the routes that use them), and no request is answered "no
// cluster" for a cluster its route named.
type ReferentialIntegrity struct{}

func (ReferentialIntegrity) Name() string { return "referential-integrity" }

func (c ReferentialIntegrity) Check(h *History, _ checkers.Options) checkers.Result {
	var v found
	applied := 0
	for i, r := range h.Records {
		switch e := r.Ev.(type) {
		case ConfigApplied:
			applied++
			for _, cl := range e.Referenced {
				if !slices.Contains(e.Clusters, cl) {
					v.add(i, "%s applied %s %s at %v: its routes name unknown cluster %s", r.Node, e.Type, e.Version, r.T, cl)
					break
				}
			}
		case Answered:
			if e.Resp.Flag == FlagNoCluster {
				v.add(i, "%s answered %s \"no cluster\" (%s) at %v", r.Node, e.ReqID, e.Cluster, r.T)
			}
		}
	}
	return v.result(c.Name(), fmt.Sprintf("%d configurations applied, every route's clusters present", applied))
}
