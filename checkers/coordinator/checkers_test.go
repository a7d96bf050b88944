package coordinator

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/checkers"
)

func hist(evs ...Event) *History { return &History{Events: evs} }

func tr(t int64, x uint64, from, to string) Event {
	return Event{Kind: Transition, T: t, XID: x, From: from, To: to, Client: -1}
}

func endState(st State) Event { return Event{Kind: Final, T: 100, Client: -1, State: &st} }

func clean() State { return State{Money: 100, ExpectedMoney: 100, InitialStock: 10, ServingTC: "tc-1"} }

// check runs c and requires the verdict, returning the explanation.
func check(t *testing.T, c checkers.CheckerOf[*History], h *History, want checkers.Verdict) checkers.Result {
	t.Helper()
	res := c.Check(h, checkers.Options{})
	require.Equalf(t, want, res.Verdict, "%s: %s", c.Name(), res.Explanation)
	require.Equal(t, c.Name(), res.Checker)
	return res
}

func TestOneDecision(t *testing.T) {
	good := hist(Event{Kind: Begin, XID: 1}, tr(1, 1, "Begin", "AsyncCommitting"), tr(2, 1, "AsyncCommitting", "Committed"),
		tr(3, 2, "Begin", "TimeoutRollbacking"), tr(4, 2, "TimeoutRollbacking", "TimeoutRollbackRetrying"), tr(5, 2, "TimeoutRollbackRetrying", "TimeoutRollbacked"))
	check(t, OneDecision{}, good, checkers.Pass)
	// seata#5404: the timeout check rolls back a committing transaction.
	res := check(t, OneDecision{}, hist(tr(1, 1, "Begin", "Committing"), tr(2, 1, "Committing", "TimeoutRollbacking")), checkers.Fail)
	require.Contains(t, res.Explanation, "xid 1 moved Committing → TimeoutRollbacking")
	require.Equal(t, []int{0, 1}, res.Ops)
	res = check(t, OneDecision{}, hist(tr(1, 1, "Begin", "Rollbacking"), tr(2, 1, "Begin", "Committing")), checkers.Fail)
	require.Contains(t, res.Explanation, "decided Rollbacking, then Committing")
}

func TestOutcomeMatchesDecision(t *testing.T) {
	h := hist(tr(1, 1, "Begin", "Committing"), Event{Kind: TMCommit, XID: 1, Outcome: OutcomeCommitted},
		Event{Kind: TMCommit, XID: 2, Outcome: OutcomeUnknown}, tr(2, 3, "Begin", "TimeoutRollbacking"),
		Event{Kind: TMCommit, XID: 3, Outcome: OutcomeRolledBack})
	check(t, OutcomeMatchesDecision{}, h, checkers.Pass)
	h.Record(Event{Kind: TMRollback, XID: 1, Outcome: OutcomeRolledBack, Node: "client-0"})
	res := check(t, OutcomeMatchesDecision{}, h, checkers.Fail)
	require.Contains(t, res.Explanation, "client-0 was told rolled-back for xid 1")
	check(t, OutcomeMatchesDecision{}, hist(Event{Kind: TMCommit, XID: 9, Outcome: OutcomeCommitted}), checkers.Fail)
}

func TestRegisterWhileBegin(t *testing.T) {
	check(t, RegisterWhileBegin{}, hist(Event{Kind: Register, XID: 1, Branch: 2, To: "Begin"}), checkers.Pass)
	res := check(t, RegisterWhileBegin{}, hist(Event{Kind: Register, XID: 1, Branch: 2, RM: "rm-1", To: "TimeoutRollbacking"}), checkers.Fail)
	require.Contains(t, res.Explanation, "branch 2 of xid 1 registered on rm-1")
}

func TestLockExclusivity(t *testing.T) {
	ok := hist(Event{Kind: LockGrant, XID: 1, Keys: []string{"account:a1"}}, Event{Kind: LockRelease, XID: 1, Keys: []string{"account:a1"}},
		Event{Kind: LockGrant, XID: 2, Keys: []string{"account:a1"}}, Event{Kind: LockGrant, XID: 2, Keys: []string{"account:a1"}})
	check(t, LockExclusivity{}, ok, checkers.Pass)
	// Another xid's release does not free a row it never held.
	bad := hist(Event{Kind: LockGrant, XID: 1, Keys: []string{"account:a1"}}, Event{Kind: LockRelease, XID: 3, Keys: []string{"account:a1"}},
		Event{Kind: LockGrant, XID: 2, Keys: []string{"account:a1"}})
	res := check(t, LockExclusivity{}, bad, checkers.Fail)
	require.Contains(t, res.Explanation, "account:a1 granted to xid 2")
	require.Equal(t, []int{0, 2}, res.Ops)
}

func TestUniqueIDs(t *testing.T) {
	check(t, UniqueIDs{}, hist(Event{Kind: Begin, XID: 1}, Event{Kind: Register, XID: 1, Branch: 2}, Event{Kind: Begin, XID: 3}), checkers.Pass)
	check(t, UniqueIDs{}, hist(Event{Kind: Begin, XID: 1}, Event{Kind: Begin, XID: 1}), checkers.Fail)
	check(t, UniqueIDs{}, hist(Event{Kind: Begin, XID: 1}, Event{Kind: Register, XID: 1, Branch: 1}), checkers.Fail)
}

func TestTCCFence(t *testing.T) {
	f := func(x, b uint64, from, to string) Event {
		return Event{Kind: Fence, Node: "rm-1", XID: x, Branch: b, From: from, To: to}
	}
	check(t, TCCFence{}, hist(f(1, 2, "", "tried"), f(1, 2, "tried", "committed"), f(3, 4, "", "suspended"), f(5, 6, "", "tried"), f(5, 6, "tried", "rollbacked")), checkers.Pass)
	// A try after an empty rollback (hanging), a second confirm, a confirm and a cancel.
	check(t, TCCFence{}, hist(f(1, 2, "", "suspended"), f(1, 2, "", "tried")), checkers.Fail)
	check(t, TCCFence{}, hist(f(1, 2, "", "tried"), f(1, 2, "tried", "committed"), f(1, 2, "tried", "committed")), checkers.Fail)
	check(t, TCCFence{}, hist(f(1, 2, "", "tried"), f(1, 2, "tried", "committed"), f(1, 2, "committed", "rollbacked")), checkers.Fail)
}

func TestNoAbortedRead(t *testing.T) {
	h := hist(Event{Kind: PhaseOne, Node: "rm-1", XID: 1, OK: true, Key: "a1", Value: 90, Version: 7}, tr(1, 1, "Begin", "Rollbacking"),
		Event{Kind: Read, Node: "rm-1", XID: 2, Key: "a1", Value: 90, Version: 7})
	check(t, NoAbortedRead{}, h, checkers.Pass) // a plain read is read uncommitted
	h.Record(Event{Kind: Read, Node: "rm-1", XID: 3, Key: "a1", Value: 90, Version: 7, ForUpdate: true})
	res := check(t, NoAbortedRead{}, h, checkers.Fail)
	require.Contains(t, res.Explanation, "written by xid 1 which rolled back")
	// The same version on another RM is another write.
	check(t, NoAbortedRead{}, hist(h.Events[0], h.Events[1], Event{Kind: Read, Node: "rm-2", XID: 3, Key: "a1", Version: 7, ForUpdate: true}), checkers.Pass)
}

func TestAtomicity(t *testing.T) {
	st := clean()
	st.Items = []Item{{RM: "rm-1", Name: "i0", Stock: 6, Confirmed: 4}}
	check(t, Atomicity{}, hist(Event{Kind: TMAudit, Sum: 100, Complete: true}, Event{Kind: TMAudit, Sum: 3, Complete: false}, endState(st)), checkers.Pass)
	res := check(t, Atomicity{}, hist(Event{Kind: TMAudit, XID: 4, Sum: 90, Complete: true}, endState(st)), checkers.Fail)
	require.Contains(t, res.Explanation, "audit of xid 4")
	st.Money = 99
	check(t, Atomicity{}, hist(endState(st)), checkers.Fail)
	st = clean()
	st.Items = []Item{{RM: "rm-1", Name: "i0", Stock: 6, Frozen: 4}}
	check(t, Atomicity{}, hist(endState(st)), checkers.Fail)
	check(t, Atomicity{}, hist(), checkers.Unknown)
}

func TestNoLeak(t *testing.T) {
	check(t, NoLeak{}, hist(endState(clean())), checkers.Pass)
	st := clean()
	st.GlobalLocks = map[string]uint64{"account:a1": 7}
	res := check(t, NoLeak{}, hist(endState(st)), checkers.Fail)
	require.Contains(t, res.Explanation, "global lock account:a1 still held by xid 7")
	st = clean()
	st.UndoLogs = map[string][]string{"rm-1": {"7:8"}}
	check(t, NoLeak{}, hist(endState(st)), checkers.Fail)
	st = clean()
	st.LocalLocks = map[string][]string{"rm-1": {"account:a1"}}
	check(t, NoLeak{}, hist(endState(st)), checkers.Fail)
}

func TestRecovery(t *testing.T) {
	const s = int64(1e9)
	c := Recovery{Bound: 5 * s}
	base := []Event{{Kind: Begin, XID: 1}, {Kind: Heal, T: 10 * s}, {Kind: End, T: 12 * s, XID: 1, To: "Committed"}}
	check(t, c, hist(append(base, endState(clean()))...), checkers.Pass)
	late := []Event{{Kind: Begin, XID: 1}, {Kind: Heal, T: 10 * s}, tr(16*s, 1, "Rollbacking", "Rollbacked")}
	check(t, c, hist(append(late, endState(clean()))...), checkers.Fail)
	check(t, c, hist(Event{Kind: Begin, XID: 1}, endState(clean())), checkers.Fail)
	st := clean()
	st.Open = []Session{{XID: 1, Status: "RollbackFailed"}}
	res := check(t, c, hist(append(base, endState(st))...), checkers.Fail)
	require.Contains(t, res.Explanation, "still holds xid 1 (RollbackFailed)")
	st = clean()
	st.ServingTC, st.Down = "", []string{"tc-1"}
	check(t, c, hist(append(base, endState(st))...), checkers.Fail)
}

func TestHistoryJSONAndEntries(t *testing.T) {
	h := hist(Event{Kind: Register, Node: "tc-1", XID: 5, Branch: 6, RM: "rm-2", Mode: "AT", To: "Begin", Keys: []string{"account:a1"}},
		Event{Kind: TMCommit, Node: "client-3", Client: 3, XID: 5, Outcome: OutcomeUnknown}, endState(clean()))
	e := h.Entry(0)
	require.Equal(t, "tc-1: xid 5 registers branch 6 on rm-2 (AT) locking [account:a1]", e.Op)
	require.Equal(t, "while Begin", e.Result)
	require.True(t, h.Entry(1).Unknown)
	var b bytes.Buffer
	require.NoError(t, h.WriteJSON(&b))
	back, err := ReadJSON(&b)
	require.NoError(t, err)
	require.Equal(t, h, back)
	_, err = ReadJSON(bytes.NewBufferString(`{"events":[{"kind":"begin","bogus":1}]}`))
	require.Error(t, err)
}

// seata#5256: an empty rollback recorded no suspended row, so the late try
// reserves after the cancel was answered.
func TestTCCFenceHanging(t *testing.T) {
	cancel := Event{Kind: PhaseTwo, Node: "rm-1", XID: 1, Branch: 2, BranchStatus: "PhaseTwo_Rollbacked"}
	try := Event{Kind: Fence, Node: "rm-1", XID: 1, Branch: 2, From: "", To: "tried", T: 5}
	res := check(t, TCCFence{}, hist(cancel, try), checkers.Fail)
	require.Contains(t, res.Explanation, "after its cancel was answered")
	check(t, TCCFence{}, hist(try, cancel), checkers.Pass)
	other := cancel
	other.Node = "rm-2"
	check(t, TCCFence{}, hist(other, try), checkers.Pass)
}

func TestAllOrNothing(t *testing.T) {
	st := clean()
	st.Balance = 50
	st.Accounts = []Account{{RM: "rm-1", Name: "a0", Balance: 40}, {RM: "rm-2", Name: "a1", Balance: 60}}
	writes := []Write{{RM: "rm-1", Account: "a0", Delta: -10}, {RM: "rm-2", Account: "a1", Delta: 10}}
	undone := []Write{{RM: "rm-1", Account: "a0", Delta: -5}, {RM: "rm-2", Account: "a1", Delta: 5}}
	h := hist(Event{Kind: TMBegin, XID: 1, Writes: writes}, tr(1, 1, "Begin", "AsyncCommitting"),
		Event{Kind: TMBegin, XID: 2, Writes: undone}, tr(2, 2, "Begin", "Rollbacking"), endState(st))
	check(t, AllOrNothing{}, h, checkers.Pass)
	// Half of the committed transfer is missing: the money total would not show which account.
	st.Accounts[1].Balance = 50
	h.Events[len(h.Events)-1] = endState(st)
	res := check(t, AllOrNothing{}, h, checkers.Fail)
	require.Contains(t, res.Explanation, "rm-2/a1 changed by +0, but the transfers committed to it (xids [1]) add up to +10")
	require.Equal(t, []int{0, 4}, res.Ops)
}
