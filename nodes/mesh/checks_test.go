package mesh

import (
	"fmt"
	"slices"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// The invariants the simulation tests judge, each over the recorded events
// (and, for convergence, the sidecars' state at the end). Each returns the
// violations it found, at most a few of each kind. They are the reference
// for the checkers a scenario will run (see doc.go).

const maxReport = 5

type violations []string

func (v *violations) add(format string, args ...any) {
	if len(*v) < maxReport {
		*v = append(*v, fmt.Sprintf(format, args...))
	}
}

// checkAnsweredOnce: every request a client issued is answered exactly
// once, before the caller's timeout, unless the client crashed meanwhile.
func (tm *testMesh) checkAnsweredOnce() violations {
	var v violations
	type st struct {
		at      time.Duration
		node    sim.NodeID
		timeout time.Duration
		answers int
	}
	reqs := map[string]*st{}
	var order []string
	for _, r := range tm.rec.Records {
		switch e := r.Ev.(type) {
		case Issued:
			reqs[e.Req.ID] = &st{at: r.T, node: r.Node, timeout: e.Timeout}
			order = append(order, e.Req.ID)
		case Answered:
			s := reqs[e.ReqID]
			if s == nil {
				if _, ok := tm.crashed[r.Node]; !ok {
					v.add("answer to unknown request %s at %v", e.ReqID, r.T)
				}
				continue
			}
			s.answers++
			if s.answers > 1 {
				v.add("request %s answered twice (at %v)", e.ReqID, r.T)
			}
			if r.T-s.at > s.timeout {
				v.add("request %s answered after %v", e.ReqID, r.T-s.at)
			}
		}
	}
	for _, id := range order {
		s := reqs[id]
		if s.answers == 0 && !tm.crashedAfter(s.node, s.at) {
			v.add("request %s (issued %v) never answered", id, s.at)
		}
	}
	return v
}

func (tm *testMesh) crashedAfter(n sim.NodeID, t time.Duration) bool {
	for _, c := range tm.crashed[n] {
		if c >= t {
			return true
		}
	}
	return false
}

// checkNoDrainedHost: no attempt starts on an instance more than bound
// after it began draining, or more than crashBound after it crashed (its
// registry session must notice first), until it publishes again.
func (tm *testMesh) checkNoDrainedHost(bound, crashBound time.Duration) violations {
	var v violations
	type gone struct {
		at    time.Duration
		bound time.Duration
		why   string
	}
	since := map[sim.NodeID]gone{}
	type crash struct {
		at   time.Duration
		node sim.NodeID
	}
	var crashes []crash
	for n, ts := range tm.crashed { //detlint:allow sorted below
		for _, at := range ts {
			crashes = append(crashes, crash{at, n})
		}
	}
	slices.SortFunc(crashes, func(a, b crash) int {
		if a.at != b.at {
			return int(a.at - b.at)
		}
		return cmpAddr(a.node, b.node)
	})
	for _, r := range tm.rec.Records {
		for len(crashes) > 0 && crashes[0].at <= r.T {
			if tm.m.ServiceOf(crashes[0].node) != "" {
				since[crashes[0].node] = gone{crashes[0].at, crashBound, "crashed"}
			}
			crashes = crashes[1:]
		}
		switch e := r.Ev.(type) {
		case Lifecycle:
			switch e.State {
			case StateDraining:
				since[r.Node] = gone{r.T, bound, "began draining"}
			case StatePublished:
				delete(since, r.Node)
			}
		case Attempt:
			if g, ok := since[e.Host]; ok && r.T-g.at > g.bound {
				v.add("%s sent %s (attempt %d) to %s at %v, %v after it %s", r.Node, e.ReqID, e.N, e.Host, r.T, r.T-g.at, g.why)
			}
		}
	}
	return v
}

// checkLB: the load balancer never picks an ejected or unhealthy host
// outside panic mode, and ejections stay within max ejection percent.
func (tm *testMesh) checkLB() violations {
	var v violations
	for _, r := range tm.rec.Records {
		switch e := r.Ev.(type) {
		case Attempt:
			if !e.Panic && (slices.Contains(e.Ejected, e.Host) || slices.Contains(e.Unhealthy, e.Host)) {
				v.add("%s picked %s for %s in %s outside panic mode (ejected %v, unhealthy %v) at %v", r.Node, e.Host, e.ReqID, e.Cluster, e.Ejected, e.Unhealthy, r.T)
			}
		case Ejection:
			if e.Ejected && e.NumEjected*100 > e.MaxPercent*e.Hosts {
				v.add("%s ejected %s: %d of %d hosts ejected, max %d%% at %v", r.Node, e.Host, e.NumEjected, e.Hosts, e.MaxPercent, r.T)
			}
		}
	}
	return v
}

// checkRetries: attempts never exceed 1 + num_retries, admitted retries
// stay within the retry budget and the retry breaker, and every attempt of
// a request sends the same request (the same path).
func (tm *testMesh) checkRetries(maxAttempts int) violations {
	var v violations
	paths := map[string]string{}
	for _, r := range tm.rec.Records {
		switch e := r.Ev.(type) {
		case Answered:
			if e.Attempts > maxAttempts {
				v.add("request %s took %d attempts", e.ReqID, e.Attempts)
			}
		case Retry:
			if e.Admitted && e.Limit >= 0 && e.Outstanding > e.Limit {
				v.add("%s admitted retry %d of %s: %d retries outstanding in %s, budget %d at %v", r.Node, e.N, e.ReqID, e.Outstanding, e.Cluster, e.Limit, r.T)
			}
			if e.Admitted && e.Outstanding > e.MaxRetries {
				v.add("%s admitted retry of %s beyond max retries %d", r.Node, e.ReqID, e.MaxRetries)
			}
		case Attempt:
			if p, ok := paths[e.ReqID]; ok && p != e.Path {
				v.add("%s attempt %d of %s sent path %q, the first sent %q", r.Node, e.N, e.ReqID, e.Path, p)
			} else if !ok {
				paths[e.ReqID] = e.Path
			}
		}
	}
	return v
}

// checkBreakers: no attempt runs beyond the breakers' limits.
func (tm *testMesh) checkBreakers() violations {
	var v violations
	for _, r := range tm.rec.Records {
		if e, ok := r.Ev.(Attempt); ok && (e.Active > e.MaxRequests || e.Pending > e.MaxPending) {
			v.add("%s %s: %d active (max %d), %d pending (max %d)", r.Node, e.Cluster, e.Active, e.MaxRequests, e.Pending, e.MaxPending)
		}
	}
	return v
}

// checkExecution: no request from a caller outside the service's allow
// list reaches an application, and no non-idempotent request runs twice.
func (tm *testMesh) checkExecution() violations {
	var v violations
	runs := map[string]int{}
	for _, r := range tm.rec.Records {
		e, ok := r.Ev.(Executed)
		if !ok {
			continue
		}
		if spec := tm.m.Config().Service(tm.m.ServiceOf(r.Node)); spec != nil && len(spec.Allow) > 0 && !slices.Contains(spec.Allow, e.Req.Caller) {
			v.add("%s executed %s from %s, not allowed", r.Node, e.Req.ID, e.Req.Caller)
		}
		runs[e.Req.ID]++
		if !e.Req.Idempotent && runs[e.Req.ID] == 2 {
			v.add("non-idempotent %s executed twice (again on %s at %v)", e.Req.ID, r.Node, r.T)
		}
	}
	return v
}

// checkXDS: every response a sidecar received was ACKed with its version
// or NACKed with the version held before; no applied route configuration
// names a cluster the sidecar does not have.
func (tm *testMesh) checkXDS() violations {
	var v violations
	type key struct {
		node  sim.NodeID
		nonce string
	}
	recv := map[key]XDSEvent{}
	answered := map[key]bool{}
	held := map[sim.NodeID]map[string]string{}
	for _, r := range tm.rec.Records {
		switch e := r.Ev.(type) {
		case XDSEvent:
			k := key{r.Node, e.Nonce}
			switch e.Kind {
			case XDSSubscribe:
				if held[r.Node] == nil {
					held[r.Node] = map[string]string{}
				}
				held[r.Node][e.Type] = e.Version // what a (restarted) sidecar holds
			case XDSReceived:
				recv[k] = e
			case XDSAck, XDSNack:
				got, ok := recv[k]
				switch {
				case !ok:
					v.add("%s %s nonce %s it never received", r.Node, e.Kind, e.Nonce)
				case answered[k]:
					v.add("%s answered nonce %s twice", r.Node, e.Nonce)
				case e.Kind == XDSAck && e.Version != got.Version:
					v.add("%s ACKed %s nonce %s with version %s, sent %s", r.Node, e.Type, e.Nonce, e.Version, got.Version)
				case e.Kind == XDSNack && e.Version != held[r.Node][e.Type]:
					v.add("%s NACKed %s with version %s, held %s", r.Node, e.Type, e.Version, held[r.Node][e.Type])
				}
				answered[k] = true
				if e.Kind == XDSAck {
					if held[r.Node] == nil {
						held[r.Node] = map[string]string{}
					}
					held[r.Node][e.Type] = e.Version
				}
			}
		case ConfigApplied:
			for _, c := range e.Referenced {
				if !slices.Contains(e.Clusters, c) {
					v.add("%s applied %s %s: routes name unknown cluster %s at %v", r.Node, e.Type, e.Version, c, r.T)
					break
				}
			}
		}
	}
	for k, e := range recv { //detlint:allow checked in any order; messages are sorted by the test output
		if !answered[k] && tm.w.Up(k.node) && !tm.crashedAfter(k.node, 0) {
			v.add("%s never answered %s nonce %s", k.node, e.Type, k.nonce)
		}
	}
	v = append(v, tm.checkPilotAnswers()...)
	slices.Sort(v)
	return v
}

// checkPilotAnswers: every response a pilot sent is answered (ACK or NACK
// seen by the pilot), unless its stream closed, its pilot or sidecar
// restarted, or the run ended within a second of it.
func (tm *testMesh) checkPilotAnswers() violations {
	var v violations
	type sent struct {
		at   time.Duration
		ev   XDSEvent
		done bool
	}
	byNonce := map[string]*sent{}
	var order []string
	var closes []struct {
		k  [2]sim.NodeID
		at time.Duration
	}
	for _, r := range tm.rec.Records {
		e, ok := r.Ev.(XDSEvent)
		if !ok {
			continue
		}
		switch e.Kind {
		case XDSResponse:
			byNonce[e.Nonce] = &sent{at: r.T, ev: e}
			order = append(order, e.Nonce)
		case XDSAckSeen, XDSNackSeen:
			if s := byNonce[e.Nonce]; s != nil {
				s.done = true
			}
		case XDSStreamClosed:
			closes = append(closes, struct {
				k  [2]sim.NodeID
				at time.Duration
			}{[2]sim.NodeID{e.Pilot, e.Sidecar}, r.T})
		}
	}
	for _, n := range order {
		s := byNonce[n]
		if s.done || tm.endAt-s.at < time.Second || tm.crashedAfter(s.ev.Pilot, s.at) || tm.crashedAfter(s.ev.Sidecar, s.at) {
			continue
		}
		if slices.ContainsFunc(closes, func(c struct {
			k  [2]sim.NodeID
			at time.Duration
		}) bool {
			return c.k == [2]sim.NodeID{s.ev.Pilot, s.ev.Sidecar} && c.at >= s.at
		}) {
			continue
		}
		v.add("%s's %s response %s to %s (at %v) never answered", s.ev.Pilot, s.ev.Type, n, s.ev.Sidecar, s.at)
	}
	return v
}

// checkStaleIdentity: after an instance published a new incarnation, no
// attempt is refused for naming its old identity for more than bound.
func (tm *testMesh) checkStaleIdentity(bound time.Duration) violations {
	var v violations
	type pubAt struct {
		t     time.Duration
		epoch uint32
	}
	pub := map[sim.NodeID]pubAt{}
	for _, r := range tm.rec.Records {
		switch e := r.Ev.(type) {
		case Lifecycle:
			if e.State == StatePublished {
				pub[r.Node] = pubAt{r.T, e.Endpoint.Epoch}
			}
		case AttemptDone:
			if p, ok := pub[e.Host]; ok && e.Resp.Flag == FlagStaleIdentity && p.epoch != e.Epoch && r.T-p.t > bound {
				t := p.t
				v.add("%s: %s refused for a stale identity of %s at %v, %v after it published", r.Node, e.ReqID, e.Host, r.T, r.T-t)
			}
		}
	}
	return v
}

// checkRecovery: after the faults are over (healAt) and a grace period,
// the goodput is back: at least 95% of the requests issued succeed (no
// metastable retry storm, no cluster left empty).
func (tm *testMesh) checkRecovery(grace time.Duration) violations {
	var v violations
	from := tm.healAt + grace
	issued := map[string]bool{}
	n, ok := 0, 0
	for _, r := range tm.rec.Records {
		switch e := r.Ev.(type) {
		case Issued:
			if r.T >= from {
				issued[e.Req.ID] = true
				n++
			}
		case Answered:
			if issued[e.ReqID] && e.Resp.OK() {
				ok++
			}
		}
	}
	if n > 0 && ok*100 < n*95 {
		v.add("goodput after %v: %d of %d requests succeeded", from, ok, n)
	}
	return v
}

// staleBound is how long a sidecar may act on endpoints that changed: its
// pilot may have died or stopped without a word, which it learns within
// the keepalive (3s) or its ping timeout (3s, checked every second), then
// it reconnects (at most 400ms) and the new pilot pushes (debounce
// 100ms); half a second of slack.
const staleBound = 5 * time.Second

// checkAll runs every invariant; convergence is judged at the end.
func (tm *testMesh) checkAll() map[string]violations {
	out := map[string]violations{
		"answered-once":  tm.checkAnsweredOnce(),
		"drained-host":   tm.checkNoDrainedHost(staleBound, staleBound+3*time.Second),
		"load-balancer":  tm.checkLB(),
		"retries":        tm.checkRetries(3),
		"breakers":       tm.checkBreakers(),
		"execution":      tm.checkExecution(),
		"xds":            tm.checkXDS(),
		"stale-identity": tm.checkStaleIdentity(staleBound),
		"convergence":    truncate(tm.m.Divergence()),
		"recovery":       tm.checkRecovery(2 * time.Second),
	}
	for k, v := range out { //detlint:allow deleting empty entries; order does not matter
		if len(v) == 0 {
			delete(out, k)
		}
	}
	return out
}

func truncate(s []string) violations {
	if len(s) > maxReport {
		s = append(s[:maxReport:maxReport], fmt.Sprintf("... and %d more", len(s)-maxReport))
	}
	return s
}

// checkAllBut runs every invariant except the named ones.
func (tm *testMesh) checkAllBut(names ...string) map[string]violations {
	v := tm.checkAll()
	for _, n := range names {
		delete(v, n)
	}
	return v
}
