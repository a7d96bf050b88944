package mesh

import (
	"fmt"
	"time"

	"github.com/sofasim/sofasim/checkers"
)

// ExactlyOnce: every request a client issued is answered exactly once,
// within the caller's timeout, unless the client went down meanwhile; and
// no non-idempotent request is executed twice.
type ExactlyOnce struct{}

func (ExactlyOnce) Name() string { return "exactly-once" }

func (c ExactlyOnce) Check(h *History, _ checkers.Options) checkers.Result {
	f := load(h)
	var v found
	type st struct {
		at      time.Duration
		i       int
		timeout time.Duration
		answers int
		idem    bool
	}
	reqs := make(map[string]*st, requestsHint(h))
	var order []string
	runs := make(map[string]int, requestsHint(h))
	for i, r := range h.Records {
		switch e := r.Ev.(type) {
		case Issued:
			reqs[e.Req.ID] = &st{at: r.T, i: i, timeout: e.Timeout, idem: e.Req.Idempotent}
			order = append(order, e.Req.ID)
		case Answered:
			s := reqs[e.ReqID]
			if s == nil {
				if len(f.downs[r.Node]) == 0 {
					v.add(i, "%s answered unknown request %s at %v", r.Node, e.ReqID, r.T)
				}
				continue
			}
			s.answers++
			if s.answers > 1 {
				v.add(i, "%s answered %s twice (again at %v)", r.Node, e.ReqID, r.T)
			}
			if r.T-s.at > s.timeout {
				v.add(i, "%s answered %s after %v, the caller's timeout is %v", r.Node, e.ReqID, r.T-s.at, s.timeout)
			}
		case Executed:
			runs[e.Req.ID]++
			if !e.Req.Idempotent && runs[e.Req.ID] == 2 {
				v.add(i, "non-idempotent %s executed twice (again on %s at %v, attempt %d)", e.Req.ID, r.Node, r.T, e.Attempt)
			}
		}
	}
	for _, id := range order {
		s := reqs[id]
		node := h.Records[s.i].Node
		if s.answers == 0 && !f.downAfter(node, s.at) {
			v.add(s.i, "%s (issued at %v) never answered", id, s.at)
		}
	}
	return v.result(c.Name(), fmt.Sprintf("%d requests, each answered once in time; no non-idempotent request executed twice", len(order)))
}
