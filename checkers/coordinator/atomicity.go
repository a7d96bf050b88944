package coordinator

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// Atomicity: money is conserved at every audit (a complete audit reads a
// consistent cut under global locks) and at the end, and every TCC item
// keeps Stock+Frozen+Confirmed equal to its initial stock with nothing
// left frozen. A transaction applied in part, or rolled back over a
// legitimate update, breaks one of them.
type Atomicity struct{}

func (Atomicity) Name() string { return "atomicity" }

func (c Atomicity) Check(h *History, _ checkers.Options) checkers.Result {
	st, fi := finalState(h)
	if st == nil {
		return noFinal(c.Name())
	}
	var bad []string
	var ops []int
	audits := 0
	for i, ev := range h.Events {
		if ev.Kind != TMAudit || !ev.Complete {
			continue
		}
		audits++
		if ev.Sum != st.ExpectedMoney {
			bad = append(bad, fmt.Sprintf("audit of xid %d by %s at %s summed %d, want %d", ev.XID, ev.Node, vt(ev.T), ev.Sum, st.ExpectedMoney))
			ops = append(ops, i)
		}
	}
	if st.Money != st.ExpectedMoney {
		bad = append(bad, fmt.Sprintf("the accounts hold %d at the end, want %d", st.Money, st.ExpectedMoney))
		ops = append(ops, fi)
	}
	for _, it := range st.Items {
		if it.Stock+it.Frozen+it.Confirmed != st.InitialStock || it.Frozen != 0 {
			bad = append(bad, fmt.Sprintf("TCC item %s/%s ends with stock %d, frozen %d, confirmed %d (initial %d)", it.RM, it.Name, it.Stock, it.Frozen, it.Confirmed, st.InitialStock))
			ops = append(ops, fi)
		}
	}
	return verdict(c.Name(), bad, ops, fmt.Sprintf("%d complete audits and the end state hold %d; %d TCC items balance", audits, st.ExpectedMoney, len(st.Items)))
}
