package registry

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/checkers"
)

func metaEv(t int64, node string, term uint64, leader bool, skew int64) Event {
	return Event{Kind: Meta, T: t * regSec, Client: -1, Node: node, Inc: 1, Term: term, Leader: leader, Skew: skew}
}

// Two metas acting as leader at once fail the lease check while their
// clocks are within the bound, and are excused (reported) when one ran
// more than the bound behind the database's; a handover passes.
func TestMetaLease(t *testing.T) {
	c := MetaLease{ClockBound: 10_000}
	handover := regHistory(metaEv(1, "meta-1", 1, true, 0), metaEv(20, "meta-1", 1, false, 0), metaEv(22, "meta-2", 2, true, 0))
	require.Equal(t, checkers.Pass, c.Check(handover, checkers.Options{}).Verdict)

	overlap := regHistory(metaEv(1, "meta-1", 1, true, -3000), metaEv(22, "meta-2", 2, true, 0), metaEv(25, "meta-1", 1, false, 0))
	r := c.Check(overlap, checkers.Options{})
	require.Equal(t, checkers.Fail, r.Verdict)
	require.Contains(t, r.Explanation, "2 meta leaders at once at 22.000s")
	require.Equal(t, []int{0, 1}, r.Ops)

	skewed := regHistory(metaEv(1, "meta-1", 1, true, -15_000), metaEv(22, "meta-2", 2, true, 0))
	r = c.Check(skewed, checkers.Options{})
	require.Equal(t, checkers.Pass, r.Verdict)
	require.Contains(t, r.Explanation, "outside the lock's promise")
}

func lockEv(call, ret int64, node string, c LockCall) Event {
	return Event{Kind: LockOp, Call: call, T: ret, Client: -3, Node: node, Lock: &c}
}

// The lock's statements: a valid election passes; a takeover that
// succeeded on a row that was not expired, or a renewal by a non-owner
// that applied, is not linearizable.
func TestLockDBLinearizable(t *testing.T) {
	row := func(owner string, mod int64, term, td uint64) LockRow {
		return LockRow{Owner: owner, Modified: mod, Duration: 20_000, Term: term, TermDuration: td}
	}
	good := regHistory(
		lockEv(0, 2, "meta-1", LockCall{Op: "query", Now: 1}),
		lockEv(3, 5, "meta-1", LockCall{Op: "insert", Owner: "meta-1", Duration: 20_000, Applied: true, Found: true, Row: row("meta-1", 4, 0, 0), Now: 4}),
		lockEv(3, 6, "meta-2", LockCall{Op: "insert", Owner: "meta-2", Duration: 20_000, Found: true, Row: row("meta-1", 4, 0, 0), Now: 5}),
		lockEv(1000, 1002, "meta-1", LockCall{Op: "heartbeat", Owner: "meta-1", Applied: true, Found: true, Row: row("meta-1", 1001, 0, 1), Now: 1001}),
		lockEv(30_000, 30_002, "meta-2", LockCall{Op: "compete", Owner: "meta-2", Prev: row("meta-1", 1001, 0, 1), Applied: true, Found: true, Row: row("meta-2", 30_001, 1, 0), Now: 30_001}),
		lockEv(30_000, 30_003, "meta-1", LockCall{Op: "heartbeat", Owner: "meta-1", Found: true, Row: row("meta-2", 30_001, 1, 0), Now: 30_002}),
	)
	r := LockDB{}.Check(good, checkers.Options{})
	require.Equal(t, checkers.Pass, r.Verdict, r.Explanation)

	early := regHistory(
		lockEv(0, 2, "meta-1", LockCall{Op: "insert", Owner: "meta-1", Duration: 20_000, Applied: true, Found: true, Row: row("meta-1", 1, 0, 0), Now: 1}),
		lockEv(5000, 5002, "meta-2", LockCall{Op: "compete", Owner: "meta-2", Prev: row("meta-1", 1, 0, 0), Applied: true, Found: true, Row: row("meta-2", 5001, 1, 0), Now: 5001}),
	)
	require.Equal(t, checkers.Fail, LockDB{}.Check(early, checkers.Options{}).Verdict, "taken over before it expired")

	stranger := regHistory(
		lockEv(0, 2, "meta-1", LockCall{Op: "insert", Owner: "meta-1", Duration: 20_000, Applied: true, Found: true, Row: row("meta-1", 1, 0, 0), Now: 1}),
		lockEv(10, 12, "meta-2", LockCall{Op: "heartbeat", Owner: "meta-2", Applied: true, Found: true, Row: row("meta-1", 11, 0, 1), Now: 11}),
	)
	require.Equal(t, checkers.Fail, LockDB{}.Check(stranger, checkers.Options{}).Verdict, "renewed by a meta that does not own it")
}

// Concurrent statements may take effect in either order: a query that
// overlaps an insert may see the row or not.
func TestLockDBConcurrentQuery(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		sees := rapid.Bool().Draw(rt, "sees")
		q := LockCall{Op: "query", Now: 3}
		if sees {
			q.Found, q.Row = true, LockRow{Owner: "meta-1", Modified: 2, Duration: 20_000}
		}
		h := regHistory(
			lockEv(0, 10, "meta-1", LockCall{Op: "insert", Owner: "meta-1", Duration: 20_000, Applied: true, Found: true, Row: LockRow{Owner: "meta-1", Modified: 2, Duration: 20_000}, Now: 2}),
			lockEv(1, 9, "meta-2", q),
		)
		require.Equal(rt, checkers.Pass, LockDB{}.Check(h, checkers.Options{}).Verdict)
	})
}
