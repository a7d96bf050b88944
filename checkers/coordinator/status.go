package coordinator

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sofasim/sofasim/checkers"
)

// legal is Seata's GlobalStatus machine, by status name: the transition
// out of Begin is the decision; a commit decision never leads to a
// rollback status and the reverse.
var legal = map[string][]string{
	"Begin":                   {"Committing", "AsyncCommitting", "Rollbacking", "TimeoutRollbacking"},
	"Committing":              {"CommitRetrying", "Committed", "CommitFailed"},
	"CommitRetrying":          {"Committed", "CommitFailed"},
	"AsyncCommitting":         {"Committed"},
	"Rollbacking":             {"RollbackRetrying", "Rollbacked", "RollbackFailed"},
	"RollbackRetrying":        {"Rollbacked", "RollbackFailed"},
	"TimeoutRollbacking":      {"TimeoutRollbackRetrying", "TimeoutRollbacked", "TimeoutRollbackFailed"},
	"TimeoutRollbackRetrying": {"TimeoutRollbacked", "TimeoutRollbackFailed"},
}

// legalTransition reports whether from -> to is in the machine.
func legalTransition(from, to string) bool { return slices.Contains(legal[from], to) }

// final reports whether no transition leaves the status.
func final(s string) bool { _, ok := legal[s]; return s != "" && s != "UnKnown" && !ok }

// commits reports whether the status follows a commit decision.
func commits(s string) bool { return s == "AsyncCommitting" || strings.HasPrefix(s, "Commit") }

// rollsBack reports whether the status follows a rollback decision.
func rollsBack(s string) bool {
	return strings.HasPrefix(s, "Rollback") || strings.HasPrefix(s, "TimeoutRollback")
}

// decisions reads the decision of every xid: the first transition out of
// Begin.
func decisions(h *History) map[uint64]string {
	out := map[uint64]string{}
	for _, ev := range h.Events {
		if ev.Kind == Transition && ev.From == "Begin" {
			if _, ok := out[ev.XID]; !ok {
				out[ev.XID] = ev.To
			}
		}
	}
	return out
}

// finalState returns the Final event and its index, or -1.
func finalState(h *History) (*State, int) {
	for i := len(h.Events) - 1; i >= 0; i-- {
		if h.Events[i].Kind == Final && h.Events[i].State != nil {
			return h.Events[i].State, i
		}
	}
	return nil, -1
}

// healAt returns when the faults healed (-1: never).
func healAt(h *History) int64 {
	for _, ev := range h.Events {
		if ev.Kind == Heal {
			return ev.T
		}
	}
	return -1
}

// verdict builds a result: fail with the first few problems and the
// events they are about, or pass with a summary.
func verdict(name string, bad []string, ops []int, ok string) checkers.Result {
	if len(bad) == 0 {
		return checkers.Result{Checker: name, Verdict: checkers.Pass, Explanation: ok}
	}
	slices.Sort(ops)
	ops = slices.Compact(ops)
	msg := strings.Join(bad[:min(len(bad), 5)], "; ")
	if len(bad) > 5 {
		msg += fmt.Sprintf("; and %d more", len(bad)-5)
	}
	return checkers.Result{Checker: name, Verdict: checkers.Fail, Explanation: msg, Ops: ops}
}

// noFinal is the result of a check that needs the end state when the
// history has none (a run cut short): no verdict.
func noFinal(name string) checkers.Result {
	return checkers.Result{Checker: name, Verdict: checkers.Unknown, Explanation: "the history has no end state"}
}

// vt renders virtual nanoseconds.
func vt(ns int64) string { return time.Duration(ns).String() }
