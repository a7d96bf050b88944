package coordinator

import (
	"fmt"
	"strings"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/checkers/elle"
)

// ListIsolation judges the list-append transactions with the Elle-style
// checker against Consistency ("" means read-committed).
//
// Read committed is the strongest model Seata's AT mode promises to a
// transaction that reads with SELECT FOR UPDATE: its writes hold the
// global lock from phase one until the decision (rolled back: until the
// before images are restored), so no two unfinished transactions write
// one row (no G0, dirty write) and a FOR UPDATE read waits while another
// transaction holds the row, so it never sees an aborted write (G1a) or
// an intermediate one (G1b), nor an uncommitted one ahead of a write
// cycle (G1c). A read does not keep its lock, so read skew (G-single)
// and write skew (G2-item) are allowed: repeatable read and stronger are
// not promised, and a history that shows them still passes (the report
// still lists what they rule out). Rolled-back transactions are Elle's
// failed ones, transactions whose outcome the TM never learnt are info.
type ListIsolation struct{ Consistency string }

func (c ListIsolation) model() string {
	if c.Consistency == "" {
		return "read-committed"
	}
	return c.Consistency
}

func (c ListIsolation) Name() string { return "list-" + c.model() }

func (c ListIsolation) Check(h *History, _ checkers.Options) checkers.Result {
	var txns []elle.Txn
	var at []int // txn ID -> event index
	for i, ev := range h.Events {
		if ev.Kind != ListTxn || ev.Elle == nil {
			continue
		}
		t := *ev.Elle
		if t.Status != elle.OK { // only a committed transaction's reads are known
			t.Mops = appendsOnly(t.Mops)
		}
		if len(t.Mops) == 0 {
			continue
		}
		t.ID = len(txns)
		txns = append(txns, t)
		at = append(at, i)
	}
	if len(txns) == 0 {
		return checkers.Result{Checker: c.Name(), Verdict: checkers.Pass, Explanation: "no list transactions"}
	}
	res, err := elle.Check(txns, elle.Options{Model: elle.ListAppend, Consistency: c.model()})
	if err != nil {
		return checkers.Result{Checker: c.Name(), Verdict: checkers.Unknown, Explanation: err.Error()}
	}
	ok := fmt.Sprintf("%d list transactions are %s", len(txns), c.model())
	if len(res.RuledOut) > 0 {
		ok += fmt.Sprintf(" (allowed anomalies %s rule out %s)", strings.Join(res.Types, ", "), strings.Join(res.RuledOut, ", "))
	}
	if res.Valid {
		return checkers.Result{Checker: c.Name(), Verdict: checkers.Pass, Explanation: ok}
	}
	var bad []string
	var ops []int
	for _, a := range res.Anomalies {
		if !elle.Proscribes(c.model(), a.Type) {
			continue // allowed by the model (read skew under read committed)
		}
		names := make([]string, len(a.Txns))
		for j, id := range a.Txns {
			ev := h.Events[at[id]]
			names[j] = fmt.Sprintf("T%d is xid %d of %s", id, ev.XID, ev.Node)
			ops = append(ops, at[id])
		}
		bad = append(bad, fmt.Sprintf("%s: %s [%s]", a.Type, a.Explanation, strings.Join(names, ", ")))
	}
	return verdict(c.Name(), bad, ops, ok)
}

func appendsOnly(ms []elle.Mop) []elle.Mop {
	var out []elle.Mop
	for _, m := range ms {
		if m.Kind == elle.Append {
			out = append(out, m)
		}
	}
	return out
}
