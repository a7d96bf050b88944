package mesh

import (
	"fmt"
	"time"

	"github.com/sofasim/sofasim/checkers"
)

// RetryLimits: a request takes at most 1 + num_retries attempts, where
// num_retries is its route's in any configuration in effect from Stale
// before it was issued to its answer (sidecars apply a change at
// different times); a retry is admitted only
// within the cluster's retry budget and its retry circuit breaker; and a
// retry sends the same request as the first attempt (the same path).
type RetryLimits struct {
	Stale time.Duration
}

func (RetryLimits) Name() string { return "retry-limits" }

func (c RetryLimits) Check(h *History, _ checkers.Options) checkers.Result {
	f := load(h)
	var v found
	type req struct {
		service string
		at      time.Duration
		path    string
		pathSet bool
	}
	reqs := make(map[string]*req, requestsHint(h))
	retries := 0
	for i, r := range h.Records {
		switch e := r.Ev.(type) {
		case Issued:
			reqs[e.Req.ID] = &req{service: e.Req.Service, at: r.T}
		case Answered:
			q := reqs[e.ReqID]
			if q == nil || e.Attempts <= 1 {
				continue
			}
			limit, known := 0, false
			for _, p := range f.policiesIn(q.service, q.at-c.Stale, r.T) {
				for _, rt := range p.Routes {
					if rt.Name == e.Route {
						limit, known = max(limit, rt.NumRetries), true
					}
				}
			}
			if known && e.Attempts > 1+limit {
				v.add(i, "%s took %d attempts on route %s of %s, num_retries %d", e.ReqID, e.Attempts, e.Route, q.service, limit)
			}
		case Retry:
			if !e.Admitted {
				continue
			}
			retries++
			if e.Limit >= 0 && e.Outstanding > e.Limit {
				v.add(i, "%s admitted retry %d of %s at %v: %d retries outstanding in %s, budget %d", r.Node, e.N, e.ReqID, r.T, e.Outstanding, e.Cluster, e.Limit)
			}
			if e.Outstanding > e.MaxRetries {
				v.add(i, "%s admitted retry %d of %s at %v: %d retries outstanding in %s, max retries %d", r.Node, e.N, e.ReqID, r.T, e.Outstanding, e.Cluster, e.MaxRetries)
			}
		case Attempt:
			q := reqs[e.ReqID]
			if q == nil {
				continue
			}
			if !q.pathSet {
				q.path, q.pathSet = e.Path, true
			} else if q.path != e.Path {
				v.add(i, "%s attempt %d of %s sent path %q, the first attempt sent %q", r.Node, e.N, e.ReqID, e.Path, q.path)
			}
		}
	}
	return v.result(c.Name(), fmt.Sprintf("%d retries admitted, within num_retries, the budget and the retry breaker, each resending the same request", retries))
}
