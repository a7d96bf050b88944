package coordinator

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// OneDecision: every xid is decided once (one transition out of Begin),
// every status change is a transition of Seata's global status machine,
// and a committed xid never ends in a rollback status or the reverse.
type OneDecision struct{}

func (OneDecision) Name() string { return "one-decision" }

func (c OneDecision) Check(h *History, _ checkers.Options) checkers.Result {
	var bad []string
	var ops []int
	decision := map[uint64]string{}
	decidedAt := map[uint64]int{}
	for i, ev := range h.Events {
		if ev.Kind != Transition {
			continue
		}
		if !legalTransition(ev.From, ev.To) {
			bad = append(bad, fmt.Sprintf("xid %d moved %s → %s at %s, not a transition of the global status machine", ev.XID, ev.From, ev.To, vt(ev.T)))
			ops = append(ops, i)
		}
		if ev.From == "Begin" {
			if prev, ok := decision[ev.XID]; ok {
				bad = append(bad, fmt.Sprintf("xid %d was decided %s, then %s at %s", ev.XID, prev, ev.To, vt(ev.T)))
				ops = append(ops, decidedAt[ev.XID], i)
				continue
			}
			decision[ev.XID], decidedAt[ev.XID] = ev.To, i
			continue
		}
		if d, ok := decision[ev.XID]; ok && (commits(d) && rollsBack(ev.To) || rollsBack(d) && commits(ev.To)) {
			bad = append(bad, fmt.Sprintf("xid %d decided %s moved to %s at %s", ev.XID, d, ev.To, vt(ev.T)))
			ops = append(ops, decidedAt[ev.XID], i)
		}
	}
	return verdict(c.Name(), bad, ops, fmt.Sprintf("%d xids decided once each, every transition legal", len(decision)))
}
