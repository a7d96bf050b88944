package mesh

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/sim"
)

// index is what Entry needs to tell a request's story.
type index struct {
	byReq   map[string][]int     // request id -> its records
	applied map[sim.NodeID][]int // sidecar -> its ConfigApplied records
	num     map[sim.NodeID]int   // node -> number, by first appearance
}

func (h *History) index() *index {
	if h.idx != nil {
		return h.idx
	}
	x := &index{byReq: map[string][]int{}, applied: map[sim.NodeID][]int{}, num: map[sim.NodeID]int{}}
	for i, r := range h.Records {
		if _, ok := x.num[r.Node]; !ok {
			x.num[r.Node] = len(x.num)
		}
		if id := reqID(r.Ev); id != "" {
			x.byReq[id] = append(x.byReq[id], i)
		}
		if _, ok := r.Ev.(ConfigApplied); ok {
			x.applied[r.Node] = append(x.applied[r.Node], i)
		}
	}
	h.idx = x
	return x
}

// Versions returns the xDS version of each type the sidecar held at t,
// as "CDS=v EDS=v LDS=v RDS=v".
func (h *History) Versions(node sim.NodeID, t time.Duration) string {
	held := map[string]string{}
	var types []string
	for _, i := range h.index().applied[node] {
		r := h.Records[i]
		if r.T > t {
			break
		}
		e := r.Ev.(ConfigApplied)
		if _, ok := held[e.Type]; !ok {
			types = append(types, e.Type)
		}
		held[e.Type] = e.Version
	}
	if len(types) == 0 {
		return "no configuration"
	}
	slices.Sort(types)
	var out []string
	for _, t := range types {
		out = append(out, t+"="+held[t])
	}
	return strings.Join(out, " ")
}

// Entry describes event i for people. A request's events (issued, routed,
// attempts, retries, executions, answer) all tell the whole request: what
// was asked, each attempt's host and outcome, the retries and why, the
// answer, and the xDS versions the caller's sidecar and every host's
// sidecar held at the time.
func (h *History) Entry(i int) checkers.Entry {
	r := h.Records[i]
	x := h.index()
	e := checkers.Entry{ID: i, Client: x.num[r.Node], Call: int64(r.T), Return: int64(r.T), Result: ""}
	if id := reqID(r.Ev); id != "" {
		return h.requestEntry(e, id)
	}
	e.Key = string(r.Node)
	e.Op = fmt.Sprintf("%s: %s", r.Node, describe(r.Ev))
	return e
}

func (h *History) requestEntry(e checkers.Entry, id string) checkers.Entry {
	x := h.index()
	recs := x.byReq[id]
	e.Key = id
	var caller sim.NodeID
	var steps []string
	answered := false
	hosts := map[sim.NodeID]bool{}
	var last time.Duration
	for _, i := range recs {
		r := h.Records[i]
		last = r.T
		switch ev := r.Ev.(type) {
		case Issued:
			caller = r.Node
			e.Call, e.Client = int64(r.T), x.num[r.Node]
			kind := "idempotent"
			if !ev.Req.Idempotent {
				kind = "non-idempotent"
			}
			e.Op = fmt.Sprintf("%s from %s: %s%s (%s)", id, r.Node, ev.Req.Service, ev.Req.Path, kind)
		case Answered:
			answered = true
			e.Return = int64(r.T)
			steps = append(steps, fmt.Sprintf("answered %s after %d attempt(s) at %v (route %s, cluster %s)", status(ev.Resp), ev.Attempts, r.T, ev.Route, ev.Cluster))
		case Attempt:
			hosts[ev.Host] = true
			steps = append(steps, fmt.Sprintf("#%d %s at %v → %s path %s (of %v, ejected %v, unhealthy %v, panic %v, %d/%d active)",
				ev.N, ev.Cluster, r.T, ev.Host, ev.Path, ev.Hosts, ev.Ejected, ev.Unhealthy, ev.Panic, ev.Active, ev.MaxRequests))
		case AttemptDone:
			steps = append(steps, fmt.Sprintf("#%d from %s (epoch %d) at %v: %s", ev.N, ev.Host, ev.Epoch, r.T, status(ev.Resp)))
		case Retry:
			s := "admitted"
			if !ev.Admitted {
				s = "refused: " + ev.Reason
			}
			steps = append(steps, fmt.Sprintf("retry #%d %s at %v (%d outstanding, budget %d, max %d)", ev.N, s, r.T, ev.Outstanding, ev.Limit, ev.MaxRetries))
		case Executed:
			steps = append(steps, fmt.Sprintf("executed by %s (%s) at %v, attempt %d", r.Node, ev.Version, r.T, ev.Attempt))
		default:
			steps = append(steps, fmt.Sprintf("%s at %v: %s", r.Node, r.T, describe(ev)))
		}
	}
	if e.Op == "" {
		e.Op = id
	}
	if !answered {
		e.Unknown = true
		e.Return = 0
		steps = append(steps, "never answered")
	}
	held := []string{fmt.Sprintf("%s held %s", caller, h.Versions(caller, last))}
	for _, n := range sortedNodes(hosts) {
		held = append(held, fmt.Sprintf("%s held %s", n, h.Versions(n, last)))
	}
	e.Result = strings.Join(steps, "; ") + " | " + strings.Join(held, "; ")
	return e
}

func status(r Response) string {
	s := fmt.Sprint(r.Status)
	if r.Flag != "" {
		s += " " + r.Flag
	}
	if r.NotExecuted {
		s += " (not executed)"
	}
	if r.By != "" {
		s += " by " + string(r.By)
	}
	return s
}

// describe renders an event that is not part of a request.
func describe(ev Event) string {
	switch e := ev.(type) {
	case XDSEvent:
		s := fmt.Sprintf("xds %s %s version %s nonce %s (sidecar %s, pilot %s)", e.Kind, e.Type, e.Version, e.Nonce, e.Sidecar, e.Pilot)
		if e.Error != "" {
			s += ": " + e.Error
		}
		return s
	case ConfigApplied:
		return fmt.Sprintf("applied %s version %s (clusters %v, routes name %v)", e.Type, e.Version, e.Clusters, e.Referenced)
	case Routed:
		return fmt.Sprintf("routed by route %s to %s", e.Route, e.Cluster)
	case AuthzDecision:
		return fmt.Sprintf("authorization of caller %q: allowed=%v", e.Caller, e.Allowed)
	case RetryDone:
		return fmt.Sprintf("retry #%d done", e.N)
	case NoHost:
		return fmt.Sprintf("no host in %s (of %v)", e.Cluster, e.Hosts)
	case Overflow:
		return fmt.Sprintf("%s breaker of %s overflowed", e.Breaker, e.Cluster)
	case Ejection:
		verb := "returned"
		if e.Ejected {
			verb = "ejected"
		}
		return fmt.Sprintf("%s %s in %s: %d of %d ejected, max %d%%", verb, e.Host, e.Cluster, e.NumEjected, e.Hosts, e.MaxPercent)
	case Health:
		return fmt.Sprintf("health check: %s in %s healthy=%v", e.Host, e.Cluster, e.Healthy)
	case Lifecycle:
		return fmt.Sprintf("%s %s (%s epoch %d)", e.Service, e.State, e.Endpoint.Version, e.Endpoint.Epoch)
	case Deployed:
		return fmt.Sprintf("deployed %s %s", e.Service, e.Version)
	case ConfigSet:
		return fmt.Sprintf("configuration %d set", e.Version)
	case Ended:
		return fmt.Sprintf("end: %d divergences", len(e.Divergence))
	}
	return ev.EventKind()
}

func sortedNodes(m map[sim.NodeID]bool) []sim.NodeID {
	out := make([]sim.NodeID, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
