package mesh

import (
	"fmt"
	"slices"
	"time"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/sim"
)

// NoRequestToRemovedHost: no attempt starts on an instance more than
// Bound after it began draining, or more than CrashBound after it crashed
// (its registry session must notice first), until it publishes again;
// and once an instance published a new incarnation, no attempt is refused
// for naming its old identity more than Bound later (the old incarnation
// is a removed host too). Each bound starts once the sidecar has heard
// from a control plane after the change: a sidecar cut off from every
// pilot keeps serving with its last configuration, as Envoy and MOSN do,
// and cannot know better; convergence judges whether it ever catches up.
type NoRequestToRemovedHost struct {
	Bound, CrashBound time.Duration
}

func (NoRequestToRemovedHost) Name() string { return "no-request-to-removed-host" }

func (c NoRequestToRemovedHost) Check(h *History, _ checkers.Options) checkers.Result {
	f := load(h)
	var v found
	type gone struct {
		at    time.Duration
		bound time.Duration
		why   string
	}
	since := map[sim.NodeID]gone{}
	type pubAt struct {
		t     time.Duration
		epoch uint32
	}
	pub := map[sim.NodeID]pubAt{}
	heard := map[sim.NodeID][]time.Duration{} // each sidecar's xDS receipts so far
	// stale says whether sidecar n acted more than bound after it could
	// have learnt of a change made at t.
	stale := func(n sim.NodeID, now, t, bound time.Duration) bool {
		hs := heard[n]
		i, _ := slices.BinarySearch(hs, t)
		return i < len(hs) && now-hs[i] > bound
	}
	attempts := 0
	for i, r := range h.Records {
		switch e := r.Ev.(type) {
		case XDSEvent:
			if e.Kind == XDSReceived {
				heard[r.Node] = append(heard[r.Node], r.T)
			}
		case Crashed, Restarted:
			if f.service[r.Node] != "" {
				since[r.Node] = gone{r.T, c.CrashBound, "went down"}
			}
		case Lifecycle:
			switch e.State {
			case StateDraining:
				since[r.Node] = gone{r.T, c.Bound, "began draining"}
			case StatePublished:
				delete(since, r.Node)
				pub[r.Node] = pubAt{r.T, e.Endpoint.Epoch}
			}
		case Attempt:
			attempts++
			if g, ok := since[e.Host]; ok && stale(r.Node, r.T, g.at, g.bound) {
				v.add(i, "%s sent %s (attempt %d) to %s at %v, %v after it %s", r.Node, e.ReqID, e.N, e.Host, r.T, r.T-g.at, g.why)
			}
		case AttemptDone:
			if p, ok := pub[e.Host]; ok && e.Resp.Flag == FlagStaleIdentity && p.epoch != e.Epoch && stale(r.Node, r.T, p.t, c.Bound) {
				v.add(i, "%s: %s refused by %s for its old identity (epoch %d, now %d) at %v, %v after it republished", r.Node, e.ReqID, e.Host, e.Epoch, p.epoch, r.T, r.T-p.t)
			}
		}
	}
	return v.result(c.Name(), fmt.Sprintf("%d attempts, none to a host drained, crashed or replaced more than %v earlier", attempts, c.Bound))
}
