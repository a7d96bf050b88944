package checkers

import (
	"fmt"
	"strings"
	"time"
)

// Liveness checks that the system finishes its work once faults heal: an
// op is due if it was invoked at or after HealedAt, or was pending at
// HealedAt; every due op must complete (not Unknown) by max(Call,
// HealedAt) + Bound. Ops invoked under faults that ended before the heal,
// or whose client gave up (a timeout, even one that expired just after the
// heal), are not judged: a system under faults may stall, and the client's
// next op measures the recovery. An op that returned an error
// (Output.Err) did complete: the system answered.
//
// All times are virtual nanoseconds.
type Liveness struct {
	HealedAt int64 // when the last fault healed: the liveness phase starts
	Bound    int64 // how long after HealedAt (or its call, if later) a due op may take
	// End is when recording stopped (0: not known). An op still pending
	// at End whose deadline lies after End makes the verdict Unknown
	// rather than Fail: the run stopped too early to tell.
	End int64
}

// Name is "liveness".
func (Liveness) Name() string { return "liveness" }

// Check never uses opts: it is linear in the history.
func (l Liveness) Check(h History, _ Options) Result {
	res := Result{Checker: l.Name(), Verdict: Unknown}
	if l.Bound <= 0 {
		res.Explanation = fmt.Sprintf("liveness bound must be positive, not %v", vt(l.Bound))
		return res
	}
	if err := h.validateStructure(); err != nil {
		res.Explanation = "invalid history: " + err.Error()
		return res
	}
	var due int
	var late, early []string
	for _, op := range h.Ops {
		stillPending := op.Unknown && op.Return == 0
		if op.Call < l.HealedAt && !stillPending && (op.Return <= l.HealedAt || op.Unknown) {
			continue // invoked under faults: it ended before the heal, or its client gave up
		}
		due++
		deadline := max(op.Call, l.HealedAt) + l.Bound
		switch {
		case stillPending && l.End > 0 && l.End < deadline:
			early = append(early, fmt.Sprintf("%s invoked at %v, deadline %v", op.describe(), vt(op.Call), vt(deadline)))
			res.Ops = append(res.Ops, op.ID)
		case stillPending:
			late = append(late, fmt.Sprintf("%s invoked at %v never completed (deadline %v)", op.describe(), vt(op.Call), vt(deadline)))
			res.Ops = append(res.Ops, op.ID)
		case op.Unknown:
			late = append(late, fmt.Sprintf("%s invoked at %v: its client gave up at %v without an answer (deadline %v)",
				op.describe(), vt(op.Call), vt(op.Return), vt(deadline)))
			res.Ops = append(res.Ops, op.ID)
		case op.Return > deadline:
			late = append(late, fmt.Sprintf("%s invoked at %v returned at %v, %v after its deadline %v",
				op.describe(), vt(op.Call), vt(op.Return), vt(op.Return-deadline), vt(deadline)))
			res.Ops = append(res.Ops, op.ID)
		}
	}
	window := fmt.Sprintf("faults healed at %v", vt(l.HealedAt))
	switch {
	case len(late) > 0:
		res.Verdict = Fail
		res.Explanation = fmt.Sprintf("%d of %d ops due after %s did not finish within %v: %s",
			len(late), due, window, vt(l.Bound), ListSome(late, 5))
		if len(early) > 0 {
			res.Explanation += fmt.Sprintf("; %d more were still pending when recording stopped at %v", len(early), vt(l.End))
		}
	case len(early) > 0:
		res.Explanation = fmt.Sprintf("recording stopped at %v, before the deadlines of %d of %d ops due after %s: %s",
			vt(l.End), len(early), due, window, ListSome(early, 5))
	case due == 0:
		res.Verdict = Pass
		res.Explanation = fmt.Sprintf("no op was pending at or invoked after %s", window)
	default:
		res.Verdict = Pass
		res.Explanation = fmt.Sprintf("all %d ops due after %s finished within %v", due, window, vt(l.Bound))
	}
	return res
}

// vt formats virtual nanoseconds like a duration since the run's start.
func vt(ns int64) string { return time.Duration(ns).String() }

// ListSome joins up to max items with "; " and says how many more there are.
func ListSome(items []string, max int) string {
	if len(items) > max {
		return strings.Join(items[:max], "; ") + fmt.Sprintf("; and %d more", len(items)-max)
	}
	return strings.Join(items, "; ")
}
