package mesh

import (
	"fmt"
	"slices"
	"time"

	"github.com/sofasim/sofasim/checkers"
)

// Recovery: from Grace after the faults healed (and any flash crowd or
// grey failure ended with them) to the end, at least Percent of the
// requests issued succeed: goodput comes back, with no metastable retry
// storm and no cluster left empty. Requests from callers the target
// service does not allow are not counted.
type Recovery struct {
	Grace   time.Duration
	Percent int
}

func (Recovery) Name() string { return "recovery" }

func (c Recovery) Check(h *History, _ checkers.Options) checkers.Result {
	f := load(h)
	var v found
	if f.healAt < 0 {
		return checkers.Result{Checker: c.Name(), Verdict: checkers.Unknown, Explanation: "the history has no heal"}
	}
	from := f.healAt + c.Grace
	allowed := func(caller, service string) bool {
		pols := f.policiesIn(service, f.end, f.end)
		return len(pols) == 0 || len(pols[0].Allow) == 0 || slices.Contains(pols[0].Allow, caller)
	}
	counted := make(map[string]bool, requestsHint(h))
	n, ok := 0, 0
	lastBad := -1
	for i, r := range h.Records {
		switch e := r.Ev.(type) {
		case Issued:
			if r.T >= from && allowed(f.service[r.Node], e.Req.Service) {
				counted[e.Req.ID] = true
				n++
			}
		case Answered:
			if !counted[e.ReqID] {
				continue
			}
			if e.Resp.OK() {
				ok++
			} else {
				lastBad = i
			}
		}
	}
	if n > 0 && ok*100 < n*c.Percent {
		v.add(lastBad, "goodput from %v (heal %v + %v) to %v: %d of %d requests succeeded (%d%%), want at least %d%%",
			from, f.healAt, c.Grace, f.end, ok, n, ok*100/n, c.Percent)
	}
	return v.result(c.Name(), fmt.Sprintf("goodput after %v: %d of %d requests succeeded", from, ok, n))
}
