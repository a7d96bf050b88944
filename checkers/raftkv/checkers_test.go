package raftkv_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/checkers"
	. "github.com/sofasim/sofasim/checkers/raftkv"
)

func check(c checkers.CheckerOf[*Protocol], evs ...Event) checkers.Result {
	return c.Check(&Protocol{Events: evs}, checkers.Options{})
}

func TestOneLeaderPerTerm(t *testing.T) {
	ok := check(OneLeaderPerTerm{}, Event{Kind: Leader, Node: "a", Term: 2}, Event{Kind: Leader, Node: "b", Term: 3}, Event{Kind: Leader, Node: "a", Term: 2, Inc: 2})
	require.True(t, ok.Passed(), ok.Explanation)
	bad := check(OneLeaderPerTerm{}, Event{Kind: Leader, Node: "a", Term: 2}, Event{Kind: Leader, Node: "b", Term: 2})
	require.False(t, bad.Passed())
	require.Contains(t, bad.Explanation, "two leaders in term 2")
}

func TestDurableVotes(t *testing.T) {
	ok := check(DurableVotes{}, Event{Kind: Vote, Node: "a", Term: 2, Peer: "b"}, Event{Kind: Vote, Node: "a", Inc: 2, Term: 2, Peer: "b"}, Event{Kind: Vote, Node: "a", Term: 3, Peer: "c"})
	require.True(t, ok.Passed(), ok.Explanation)
	bad := check(DurableVotes{}, Event{Kind: Vote, Node: "a", Inc: 1, Term: 2, Peer: "b"}, Event{Kind: Vote, Node: "a", Inc: 2, Term: 2, Peer: "c"})
	require.False(t, bad.Passed())
	require.Contains(t, bad.Explanation, "a voted twice in term 2")
}

func TestDurableVotesAtRestart(t *testing.T) {
	ok := check(DurableVotes{}, Event{Kind: Vote, Node: "a", Inc: 1, Term: 2, Peer: "b"}, Event{Kind: Recovered, Node: "a", Inc: 2, Term: 2, Peer: "b"},
		Event{Kind: Leader, Node: "a", Inc: 2, Term: 3}, Event{Kind: Recovered, Node: "a", Inc: 3, Term: 4})
	require.True(t, ok.Passed(), ok.Explanation)
	require.Contains(t, ok.Explanation, "2 restarts")
	for _, rec := range []Event{{Term: 1, Peer: "b"}, {Term: 2}, {Term: 2, Peer: "c"}} {
		rec.Kind, rec.Node, rec.Inc = Recovered, "a", 2
		bad := check(DurableVotes{}, Event{Kind: Vote, Node: "a", Inc: 1, Term: 2, Peer: "b"}, rec)
		require.False(t, bad.Passed(), "recovered %v", rec)
		require.Contains(t, bad.Explanation, "a forgot a vote")
	}
	// a leader's term is a vote for itself
	bad := check(DurableVotes{}, Event{Kind: Leader, Node: "a", Inc: 1, Term: 5}, Event{Kind: Recovered, Node: "a", Inc: 2, Term: 4, Peer: "a"})
	require.False(t, bad.Passed())
	// a vote of the same incarnation, reported after its recovery, is no promise broken
	ok = check(DurableVotes{}, Event{Kind: Recovered, Node: "a", Inc: 2, Term: 1}, Event{Kind: Vote, Node: "a", Inc: 2, Term: 2, Peer: "b"})
	require.True(t, ok.Passed(), ok.Explanation)
}

func TestReplicasAgree(t *testing.T) {
	ok := check(ReplicasAgree{}, Event{Kind: State, Node: "a", Index: 5, Digest: 9}, Event{Kind: State, Node: "b", Index: 5, Digest: 9}, Event{Kind: State, Node: "b", Index: 6, Digest: 1})
	require.True(t, ok.Passed(), ok.Explanation)
	bad := check(ReplicasAgree{}, Event{Kind: State, Node: "a", Index: 5, Digest: 9}, Event{Kind: State, Node: "b", Index: 5, Digest: 8})
	require.False(t, bad.Passed())
	require.Contains(t, bad.Explanation, "replicas differ at applied index 5")
}

func TestApplyOnce(t *testing.T) {
	ok := check(ApplyOnce{},
		Event{Kind: Restore, Node: "a"}, Event{Kind: Apply, Node: "a", Index: 2}, Event{Kind: Apply, Node: "a", Index: 3},
		Event{Kind: Restore, Node: "a"}, Event{Kind: Restore, Node: "a", Index: 3}, Event{Kind: Apply, Node: "a", Index: 4})
	require.True(t, ok.Passed(), ok.Explanation)
	// restored at 65, then the WAL's margin applied again
	bad := check(ApplyOnce{}, Event{Kind: Restore, Node: "a", Index: 65}, Event{Kind: Apply, Node: "a", Index: 50})
	require.False(t, bad.Passed())
	require.Contains(t, bad.Explanation, "a applied index 50 after")
}

func TestFreshReads(t *testing.T) {
	// served at the index committed when it arrived: fresh, though the
	// server's term is behind by then
	ok := check(FreshReads{}, Event{Kind: Leader, Node: "a", Term: 2}, Event{Kind: Commit, Node: "a", Index: 7},
		Event{Kind: ReadReceived, Node: "a", Session: 1, Seq: 1}, Event{Kind: Leader, Node: "b", Term: 3},
		Event{Kind: Commit, Node: "b", Index: 9}, Event{Kind: ReadServed, Node: "a", Session: 1, Seq: 1, Index: 7, Term: 2})
	require.True(t, ok.Passed(), ok.Explanation)
	require.Contains(t, ok.Explanation, "1 by a server whose term was behind")
	bad := check(FreshReads{}, Event{Kind: Commit, Node: "a", Index: 7}, Event{Kind: ReadReceived, Node: "b", Session: 1, Seq: 1},
		Event{Kind: ReadServed, Node: "b", Session: 1, Seq: 1, Index: 6})
	require.False(t, bad.Passed())
	require.Contains(t, bad.Explanation, "stale read")
}

func TestReadsSeeCommitted(t *testing.T) {
	// commands 3 and 5 (4 is a leader's no-op), 5 committed at t=10
	base := []Event{{Kind: Apply, Node: "a", Index: 3, T: 1}, {Kind: Apply, Node: "a", Index: 5, T: 9}, {Kind: Commit, Node: "a", Index: 5, T: 10}}
	read := func(node string, call, ret int64) Event {
		return Event{Kind: ClientRead, Node: node, Key: "k", Call: call, T: ret}
	}
	query := func(node string, at int64, last uint64) Event {
		return Event{Kind: Query, Node: node, Key: "k", T: at, Index: last}
	}
	// a read invoked after the commit, answered from a state with command 5
	ok := check(ReadsSeeCommitted{}, append(base, query("a", 12, 5), read("a", 11, 13))...)
	require.True(t, ok.Passed(), ok.Explanation)
	require.Contains(t, ok.Explanation, "1 of 1 client reads judged")
	// invoked at the instant of the commit: no order, not judged
	ok = check(ReadsSeeCommitted{}, append(base, query("b", 12, 3), read("b", 10, 13))...)
	require.True(t, ok.Passed(), ok.Explanation)
	// a query of the same key on another server, or outside the read's
	// interval, is not the one that answered
	ok = check(ReadsSeeCommitted{}, append(base, query("b", 12, 3), query("a", 20, 3), read("a", 11, 13))...)
	require.True(t, ok.Passed(), ok.Explanation)
	require.Contains(t, ok.Explanation, "0 of 1 client reads judged")
	// a deposed leader b answers from a state without command 5
	bad := check(ReadsSeeCommitted{}, append(base, query("b", 12, 3), read("b", 11, 13))...)
	require.False(t, bad.Passed())
	require.Contains(t, bad.Explanation, "last command is 3, but command 5 was committed before it was invoked")
	// a commit index on a no-op needs only the command before it
	ok = check(ReadsSeeCommitted{}, append(base, Event{Kind: Commit, Node: "a", Index: 6, T: 11}, query("a", 13, 5), read("a", 12, 14))...)
	require.True(t, ok.Passed(), ok.Explanation)
}

func TestAnswersMatch(t *testing.T) {
	ok := check(AnswersMatch{}, Event{Kind: Answered, Node: "c0", Session: 7, Seq: 3, Index: 3})
	require.True(t, ok.Passed(), ok.Explanation)
	bad := check(AnswersMatch{}, Event{Kind: Answered, Node: "c0", Session: 7, Seq: 3, Index: 4})
	require.False(t, bad.Passed())
	require.Contains(t, bad.Explanation, "request 4 of session 7 was answered with the response to request 3")
}

func TestRecoversFromDisk(t *testing.T) {
	ok := check(RecoversFromDisk{}, Event{Kind: DiskImage, Node: "a"}, Event{Kind: Leader, Node: "a", Term: 2}, Event{Kind: DiskImage, Node: "b", Inc: 2})
	require.True(t, ok.Passed(), ok.Explanation)
	require.Contains(t, ok.Explanation, "2 disk images")
	bad := check(RecoversFromDisk{}, Event{Kind: DiskImage, Node: "a"}, Event{Kind: DiskImage, Node: "b", Inc: 3, Key: "corrupt WAL record"})
	require.False(t, bad.Passed())
	require.Contains(t, bad.Explanation, "b#3 disk-image did not recover: corrupt WAL record")
}

func TestApplyOnceWrites(t *testing.T) {
	ok := check(ApplyOnce{}, Event{Kind: Apply, Node: "a", Index: 3, Key: "k", Value: "v1"}, Event{Kind: Restore, Node: "a", Inc: 2, Index: 2},
		Event{Kind: Apply, Node: "a", Inc: 2, Index: 3, Key: "k", Value: "v1"}, Event{Kind: Apply, Node: "b", Index: 3, Key: "k", Value: "v1"},
		Event{Kind: Apply, Node: "a", Inc: 2, Index: 4, Key: "k"}, Event{Kind: Apply, Node: "a", Inc: 2, Index: 5, Key: "k"})
	require.True(t, ok.Passed(), ok.Explanation)
	bad := check(ApplyOnce{}, Event{Kind: Apply, Node: "a", Index: 3, Key: "k", Value: "a1;"}, Event{Kind: Apply, Node: "a", Index: 5, Key: "k", Value: "a1;"})
	require.False(t, bad.Passed())
	require.Contains(t, bad.Explanation, `a applied the write "a1;" of "k" twice, at 3 and 5`)
}

func TestDurableAcks(t *testing.T) {
	ok := check(DurableAcks{}, Event{Kind: Acked, Node: "a", Inc: 1, Term: 3, Index: 10}, Event{Kind: Recovered, Node: "a", Inc: 2, Term: 3, Index: 10},
		Event{Kind: Acked, Node: "b", Inc: 1, Term: 3, Index: 10}, Event{Kind: Recovered, Node: "b", Inc: 2, Term: 4, Index: 8}, // a later term may cut it
		Event{Kind: Recovered, Node: "a", Inc: 3, Term: 3, Index: 2}) // no ack since the last restart
	require.True(t, ok.Passed(), ok.Explanation)
	require.Contains(t, ok.Explanation, "1 restarts")
	bad := check(DurableAcks{}, Event{Kind: Acked, Node: "a", Inc: 1, Term: 3, Index: 10}, Event{Kind: Recovered, Node: "a", Inc: 2, Term: 3, Index: 9})
	require.False(t, bad.Passed())
	require.Contains(t, bad.Explanation, "a acknowledged its log up to 10 in term 3, then recovered it only up to 9")
}
