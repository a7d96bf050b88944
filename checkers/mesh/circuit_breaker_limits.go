package mesh

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// CircuitBreakerLimits: no attempt runs while its cluster has more
// requests active or pending than the circuit breakers allow.
type CircuitBreakerLimits struct{}

func (CircuitBreakerLimits) Name() string { return "circuit-breaker-limits" }

func (c CircuitBreakerLimits) Check(h *History, _ checkers.Options) checkers.Result {
	var v found
	n, overflows := 0, 0
	for i, r := range h.Records {
		switch e := r.Ev.(type) {
		case Attempt:
			n++
			if e.Active > e.MaxRequests || e.Pending > e.MaxPending {
				v.add(i, "%s sent %s to %s at %v with %d requests active (max %d), %d pending (max %d)", r.Node, e.ReqID, e.Cluster, r.T, e.Active, e.MaxRequests, e.Pending, e.MaxPending)
			}
		case Overflow:
			overflows++
		}
	}
	return v.result(c.Name(), fmt.Sprintf("%d attempts within the breakers' limits (%d refused by a breaker)", n, overflows))
}
