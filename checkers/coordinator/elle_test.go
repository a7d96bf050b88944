package coordinator

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/checkers/elle"
)

func app(k, v string) elle.Mop { return elle.Mop{Kind: elle.Append, Key: k, Value: v} }
func rd(k string, vs ...string) elle.Mop {
	return elle.Mop{Kind: elle.Read, Key: k, List: append([]string{}, vs...)}
}

func listTxn(xid uint64, st elle.Status, call, ret int64, mops ...elle.Mop) Event {
	return Event{Kind: ListTxn, T: ret, XID: xid, Node: "client-0", Elle: &elle.Txn{Status: st, Call: call, Return: ret, Mops: mops}}
}

func TestListIsolation(t *testing.T) {
	c := ListIsolation{}
	require.Equal(t, "list-read-committed", c.Name())
	check(t, c, hist(), checkers.Pass)
	// A serial history, with an aborted append nobody saw and a
	// transaction of unknown outcome whose append was seen.
	good := hist(
		listTxn(1, elle.OK, 1, 2, app("rm-1/l0", "1"), rd("rm-1/l0", "1")),
		listTxn(2, elle.Fail, 3, 4, app("rm-1/l0", "2"), rd("rm-1/l0", "1", "2")),
		listTxn(3, elle.Info, 5, 0, app("rm-1/l0", "3"), rd("rm-1/l0", "9")), // an unknown txn's reads are not known
		listTxn(4, elle.OK, 7, 8, rd("rm-1/l0", "1", "3")),
	)
	res := check(t, c, good, checkers.Pass)
	require.Contains(t, res.Explanation, "4 list transactions are read-committed")

	// Read skew is allowed by read committed, which is all SELECT FOR
	// UPDATE promises, and named; serializable rules it out.
	skew := hist(
		listTxn(1, elle.OK, 1, 3, app("x", "1"), app("y", "1")),
		listTxn(2, elle.OK, 2, 4, rd("x"), rd("y", "1")),
	)
	res = check(t, c, skew, checkers.Pass)
	require.Contains(t, res.Explanation, "G-single rule out repeatable-read")
	res = check(t, ListIsolation{Consistency: "serializable"}, skew, checkers.Fail)
	require.Contains(t, res.Explanation, "G-single: T1 = [[:r x []] [:r y [1]]]")
	require.Contains(t, res.Explanation, "T1 is xid 2 of client-0")
	require.Equal(t, []int{0, 1}, res.Ops)

	// seata#152: the undo log was lost, the rolled-back append stayed and
	// a SELECT FOR UPDATE read it.
	aborted := hist(
		Event{Kind: Begin, XID: 9},
		listTxn(1, elle.Fail, 1, 2, app("x", "1")),
		listTxn(2, elle.OK, 3, 4, rd("x", "1")),
	)
	res = check(t, c, aborted, checkers.Fail)
	require.Contains(t, res.Explanation, "G1a: T1 read x = [1], including 1, appended by T0, which failed")
	require.Contains(t, res.Explanation, "T0 is xid 1 of client-0, T1 is xid 2 of client-0")
	require.Equal(t, []int{1, 2}, res.Ops)

	// A dirty write: two transactions' appends interleave on two lists
	// in opposite orders (G0).
	dirty := hist(
		listTxn(1, elle.OK, 1, 5, app("x", "1"), app("y", "1")),
		listTxn(2, elle.OK, 2, 6, app("x", "2"), app("y", "2")),
		listTxn(3, elle.OK, 7, 8, rd("x", "1", "2"), rd("y", "2", "1")),
	)
	res = check(t, c, dirty, checkers.Fail)
	require.Contains(t, res.Explanation, "G0")
}

// A list transaction reads its own append before it rolls back: not an
// aborted read. Another transaction reading it is.
func TestNoAbortedReadOwnWrite(t *testing.T) {
	w := Event{Kind: PhaseOne, Node: "rm-1", XID: 1, Branch: 1, OK: true, Key: "l0", Version: 5}
	own := Event{Kind: Read, Node: "rm-1", XID: 1, Key: "l0", Version: 5, ForUpdate: true}
	other := own
	other.XID = 2
	rb := tr(9, 1, "Begin", "Rollbacking")
	check(t, NoAbortedRead{}, hist(w, own, rb), checkers.Pass)
	res := check(t, NoAbortedRead{}, hist(w, own, other, rb), checkers.Fail)
	require.Equal(t, []int{0, 2}, res.Ops)
}
