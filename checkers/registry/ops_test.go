package registry

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/checkers"
)

func push(t int64, client int, reg, data string, v uint64, pubs ...string) Event {
	return Event{Kind: Push, T: t, Client: client, RegID: reg, DataID: data, Version: v, Pubs: pubs}
}

// A push while stopped fails (but to a gray client, or before the switch
// reached the sessions); a subscriber owed a change must get it after the
// resume.
func TestStopPush(t *testing.T) {
	c := StopPush{Bound: 5 * regSec, Settle: 3 * regSec}
	base := []Event{
		{Kind: Subscribe, T: 0, Client: 1, DataID: "svc", RegID: "s"},
		{Kind: Subscribe, T: 0, Client: 2, DataID: "svc", RegID: "g"},
		{Kind: Drill, T: 10 * regSec, Client: -1, Op: DrillStopPush, Until: 20 * regSec, Clients: []int{2}},
		push(11*regSec, 1, "s", "svc", 1, "p=a"), // before the stop reached the sessions
		{Kind: Publish, T: 14 * regSec, Client: 3, DataID: "svc", RegID: "p", Data: "b", Version: 2},
		push(14*regSec+1, 2, "g", "svc", 2, "p=b"), // gray
	}
	end := Event{Kind: End, T: 40 * regSec, Client: -1}
	res := c.Check(regHistory(append(append(base[:len(base):len(base)], push(21*regSec, 1, "s", "svc", 2, "p=b")), end)...), checkers.Options{})
	require.Equal(t, checkers.Pass, res.Verdict, res.Explanation)
	require.Contains(t, res.Explanation, "1 owed subscribers")

	res = c.Check(regHistory(append(append(base[:len(base):len(base)], push(15*regSec, 1, "s", "svc", 2, "p=b")), end)...), checkers.Options{})
	require.Equal(t, checkers.Fail, res.Verdict)
	require.Contains(t, res.Explanation, "while push was stopped")

	res = c.Check(regHistory(append(base[:len(base):len(base)], end)...), checkers.Options{})
	require.Equal(t, checkers.Fail, res.Verdict, "never pushed after the resume")
	require.Contains(t, res.Explanation, "received none")
}

// A switched-off client gets no push, and its publishers leave others'
// pushes; a zone's drill judges only clients on the zone's sessions.
func TestClientOff(t *testing.T) {
	c := ClientOff{Bound: 5 * regSec, Settle: 3 * regSec}
	base := []Event{
		{Kind: Connect, T: 0, Client: 1, Node: "session-1"},
		{Kind: Connect, T: 0, Client: 2, Node: "session-2"},
		{Kind: Publish, T: 1, Client: 1, DataID: "svc", RegID: "p1", Data: "a", Version: 1},
		{Kind: Drill, T: 10 * regSec, Client: -1, Op: DrillClientOff, Until: 30 * regSec, Clients: []int{1}},
	}
	ok := append(base[:len(base):len(base)], push(12*regSec, 2, "s", "svc", 5, "p1=a"), push(19*regSec, 2, "s", "svc", 6))
	res := c.Check(regHistory(ok...), checkers.Options{})
	require.Equal(t, checkers.Pass, res.Verdict, res.Explanation)

	res = c.Check(regHistory(append(base[:len(base):len(base)], push(14*regSec, 1, "s1", "svc", 5))...), checkers.Options{})
	require.Equal(t, checkers.Fail, res.Verdict)
	require.Contains(t, res.Explanation, "client 1, switched off")

	res = c.Check(regHistory(append(base[:len(base):len(base)], push(19*regSec, 2, "s", "svc", 6, "p1=a"))...), checkers.Options{})
	require.Equal(t, checkers.Fail, res.Verdict)
	require.Contains(t, res.Explanation, "publisher p1 of client 1")

	zone := append(base[:3:3], Event{Kind: Drill, T: 10 * regSec, Client: -1, Op: DrillClientOffZone, Until: 30 * regSec, Clients: []int{1, 2}, Sessions: []string{"session-2"}},
		push(14*regSec, 1, "s1", "svc", 5, "p1=a"))
	res = c.Check(regHistory(zone...), checkers.Options{})
	require.Equal(t, checkers.Pass, res.Verdict, "client 1 is on another zone's session: %s", res.Explanation)
	res = c.Check(regHistory(append(zone, push(15*regSec, 2, "s", "svc", 6))...), checkers.Options{})
	require.Equal(t, checkers.Fail, res.Verdict)
}

// After a blacklist a subscriber must hold no publisher of the id; and the
// id's publishers are not expected at the end.
func TestBlacklist(t *testing.T) {
	c := Blacklist{Bound: 5 * regSec, Settle: 3 * regSec}
	base := []Event{
		{Kind: Subscribe, T: 0, Client: 1, DataID: "svc", RegID: "s"},
		{Kind: Publish, T: 1, Client: 2, DataID: "svc", RegID: "p", Data: "a", Version: 1},
		push(2*regSec, 1, "s", "svc", 1, "p=a"),
		{Kind: Drill, T: 10 * regSec, Client: -1, Op: DrillBlacklistData, DataID: "svc"},
	}
	end := Event{Kind: End, T: 40 * regSec, Client: -1}
	res := c.Check(regHistory(append(base[:len(base):len(base)], push(11*regSec, 1, "s", "svc", 2), end)...), checkers.Options{})
	require.Equal(t, checkers.Pass, res.Verdict, res.Explanation)
	res = c.Check(regHistory(append(base[:len(base):len(base)], end)...), checkers.Options{})
	require.Equal(t, checkers.Fail, res.Verdict)
	require.Contains(t, res.Explanation, "still held publishers")
	res = c.Check(regHistory(append(base[:len(base):len(base)], push(11*regSec, 1, "s", "svc", 2), push(30*regSec, 1, "s", "svc", 3, "p=a"), end)...), checkers.Options{})
	require.Equal(t, checkers.Fail, res.Verdict, "a publisher came back")

	conv := append(base[:len(base):len(base)], push(11*regSec, 1, "s", "svc", 2), end)
	require.Equal(t, checkers.Pass, Convergence{}.Check(regHistory(conv...), checkers.Options{}).Verdict, "a blacklisted id ends with no publisher")
}

// A quitting data server must lead no slot after the bound.
func TestDataQuit(t *testing.T) {
	c := DataQuit{Bound: 8 * regSec}
	base := []Event{
		{Kind: Slots, T: 1, Client: -1, Node: "data-1", Slots: []int{1, 2}},
		{Kind: Drill, T: 10 * regSec, Client: -1, Op: DrillDataQuit, Node: "data-1", Until: 30 * regSec},
	}
	end := Event{Kind: End, T: 40 * regSec, Client: -1}
	res := c.Check(regHistory(append(base[:2:2], Event{Kind: Slots, T: 12 * regSec, Client: -1, Node: "data-1"}, end)...), checkers.Options{})
	require.Equal(t, checkers.Pass, res.Verdict, res.Explanation)
	res = c.Check(regHistory(append(base[:2:2], end)...), checkers.Options{})
	require.Equal(t, checkers.Fail, res.Verdict)
	require.Contains(t, res.Explanation, "still led 2 slots")
}
