package registry

import (
	"fmt"

	"github.com/anishathalye/porcupine"

	"github.com/sofasim/sofasim/checkers"
)

// LockRow is the meta election's lock row as the history records it.
type LockRow struct {
	Owner        string `json:"owner,omitempty"`
	Modified     int64  `json:"modified,omitempty"` // the database clock, unix ms
	Duration     int64  `json:"duration,omitempty"` // ms
	Term         uint64 `json:"term,omitempty"`
	TermDuration uint64 `json:"term_duration,omitempty"`
}

// LockCall is one statement of a meta against the lock database: Op
// (query, insert, heartbeat, compete) with its input, and the database's
// answer: the row after it and the database clock when it ran.
type LockCall struct {
	Op       string  `json:"op"`
	Owner    string  `json:"owner,omitempty"`
	Duration int64   `json:"duration,omitempty"`
	Prev     LockRow `json:"prev,omitzero"`
	Applied  bool    `json:"applied,omitempty"`
	Found    bool    `json:"found,omitempty"`
	Row      LockRow `json:"row,omitzero"`
	Now      int64   `json:"now,omitempty"`
}

func (c *LockCall) describe(node string) (op, result string) {
	if c == nil {
		return "lock ?", "?"
	}
	op = fmt.Sprintf("%s lock %s", node, c.Op)
	if c.Op == "compete" {
		op += fmt.Sprintf("(over %s term %d)", c.Prev.Owner, c.Prev.Term)
	}
	result = "no row"
	if c.Found {
		result = fmt.Sprintf("%s term %d.%d modified %d", c.Row.Owner, c.Row.Term, c.Row.TermDuration, c.Row.Modified)
	}
	if c.Applied {
		result = "applied: " + result
	}
	return op, result
}

// lockState is the lock's sequential state: the row, if any.
type lockState struct {
	found bool
	row   LockRow
}

// lockStep is the lock's sequential specification (the statements of
// SOFARegistry's distribute_lock mapper): it returns whether the answer is
// legal in state and the state after. The answer's database clock is taken
// as given: it is the database's own.
func lockStep(st lockState, c *LockCall) (bool, lockState) {
	next, apply := st, false
	switch c.Op {
	case "insert":
		if !st.found {
			next, apply = lockState{true, LockRow{Owner: c.Owner, Modified: c.Now, Duration: c.Duration}}, true
		}
	case "heartbeat":
		if st.found && st.row.Owner == c.Owner {
			next.row.Modified, next.row.TermDuration, apply = c.Now, st.row.TermDuration+1, true
		}
	case "compete":
		r := st.row
		if st.found && r.Owner == c.Prev.Owner && r.Term == c.Prev.Term && r.TermDuration == c.Prev.TermDuration && c.Now-r.Modified > r.Duration {
			next, apply = lockState{true, LockRow{Owner: c.Owner, Modified: c.Now, Duration: r.Duration, Term: r.Term + 1}}, true
		}
	case "query":
	default:
		return false, st
	}
	return c.Applied == apply && c.Found == next.found && c.Row == next.row, next
}

// LockDB: the lock database's statements, as the metas issued them (from
// send to answer), are linearizable against the lock's sequential
// specification, checked with porcupine. A statement whose answer was
// lost is recorded as the database ran it (the harness sees the database
// run it), and one it never ran is left out: a lock statement's effect
// depends on the database clock when it runs, which only the database
// knows.
type LockDB struct{}

func (LockDB) Name() string { return "lock-db" }

func (c LockDB) Check(h *History, opts checkers.Options) checkers.Result {
	res := checkers.Result{Checker: c.Name(), Verdict: checkers.Unknown}
	var ops []porcupine.Operation
	var back []int
	for i, ev := range h.Events {
		if ev.Kind != LockOp || ev.Lock == nil {
			continue
		}
		ops = append(ops, porcupine.Operation{ClientId: len(back), Input: ev.Lock, Call: ev.Call, Output: ev.Lock, Return: ev.T})
		back = append(back, i)
	}
	if len(ops) == 0 {
		return pass(res, "no lock database statement recorded")
	}
	model := porcupine.Model{
		Init:  func() any { return lockState{} },
		Step:  func(state, input, _ any) (bool, any) { return lockStep(state.(lockState), input.(*LockCall)) },
		Equal: func(a, b any) bool { return a.(lockState) == b.(lockState) },
	}
	r, info := porcupine.CheckOperationsVerbose(model, ops, opts.TimeLimit)
	switch r {
	case porcupine.Ok:
		return pass(res, fmt.Sprintf("%d lock database statements are linearizable (the lock's compare-and-set and renewals on the database clock)", len(ops)))
	case porcupine.Illegal:
		var bad []int
		for _, part := range info.PartialLinearizations() {
			for _, lin := range part {
				if len(lin) > 0 {
					bad = append(bad, back[lin[len(lin)-1]])
				}
			}
		}
		return fail(res, []string{fmt.Sprintf("lock database: %d statements are not linearizable: no order explains every answer", len(ops))}, bad)
	}
	res.Explanation = "lock database: the linearizability check timed out"
	return res
}
