package coordinator

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// OutcomeMatchesDecision: what a TM was told (committed or rolled back)
// is the TC's decision for that xid. "unknown" (no TC answered) is free.
type OutcomeMatchesDecision struct{}

func (OutcomeMatchesDecision) Name() string { return "outcome-matches-decision" }

func (c OutcomeMatchesDecision) Check(h *History, _ checkers.Options) checkers.Result {
	dec := decisions(h)
	var bad []string
	var ops []int
	told := 0
	for i, ev := range h.Events {
		if ev.Kind != TMCommit && ev.Kind != TMRollback || ev.Outcome != OutcomeCommitted && ev.Outcome != OutcomeRolledBack {
			continue
		}
		told++
		d, ok := dec[ev.XID]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("%s was told %s for xid %d at %s, which the TC never decided", ev.Node, ev.Outcome, ev.XID, vt(ev.T)))
			ops = append(ops, i)
		case ev.Outcome == OutcomeCommitted && !commits(d), ev.Outcome == OutcomeRolledBack && !rollsBack(d):
			bad = append(bad, fmt.Sprintf("%s was told %s for xid %d at %s, but the TC decided %s", ev.Node, ev.Outcome, ev.XID, vt(ev.T), d))
			ops = append(ops, i)
		}
	}
	return verdict(c.Name(), bad, ops, fmt.Sprintf("%d outcomes told match the TC's decisions", told))
}
