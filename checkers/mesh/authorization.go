package mesh

import (
	"fmt"
	"slices"
	"time"

	"github.com/sofasim/sofasim/checkers"
)

// Authorization: no request from a caller outside a service's allow list
// reaches its application. A caller allowed by a configuration replaced
// less than Stale before is still allowed (sidecars apply changes at
// different times).
type Authorization struct {
	Stale time.Duration
}

func (Authorization) Name() string { return "authorization" }

func (c Authorization) Check(h *History, _ checkers.Options) checkers.Result {
	f := load(h)
	var v found
	n := 0
	for i, r := range h.Records {
		e, ok := r.Ev.(Executed)
		if !ok {
			continue
		}
		n++
		svc := f.service[r.Node]
		pols := f.policiesIn(svc, r.T-c.Stale, r.T)
		if len(pols) == 0 {
			continue
		}
		if !slices.ContainsFunc(pols, func(p ServicePolicy) bool { return len(p.Allow) == 0 || slices.Contains(p.Allow, e.Req.Caller) }) {
			v.add(i, "%s (%s) executed %s from caller %q at %v, allowed: %v", r.Node, svc, e.Req.ID, e.Req.Caller, r.T, pols[len(pols)-1].Allow)
		}
	}
	return v.result(c.Name(), fmt.Sprintf("%d executions, every caller allowed", n))
}
