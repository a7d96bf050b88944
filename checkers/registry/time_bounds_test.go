package registry

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/checkers"
)

// An unpublish repaired only seconds later (by anti-entropy) fails the
// propagation bound away from faults, and passes when a fault was acting.
func TestRegPropagationBound(t *testing.T) {
	evs := func(removedAt int64, extra ...Event) *History {
		base := []Event{
			{Kind: Subscribe, T: 0, Client: 1, DataID: "svc", RegID: "s"},
			{Kind: Publish, T: 1 * regSec, Client: 2, DataID: "svc", RegID: "p", Data: "d", Version: 1},
			{Kind: Push, T: 1*regSec + 5e6, Client: 1, DataID: "svc", RegID: "s", Version: 10, Pubs: []string{"p=d"}},
			{Kind: Unpublish, T: 5 * regSec, Client: 2, DataID: "svc", RegID: "p"},
			{Kind: Push, T: removedAt, Client: 1, DataID: "svc", RegID: "s", Version: 11},
			{Kind: End, T: 20 * regSec, Client: -1},
		}
		return regHistory(append(base, extra...)...)
	}
	c := Propagation{Bound: regSec, Settle: 2 * regSec}
	fast := c.Check(evs(5*regSec+20e6), checkers.Options{})
	require.Equal(t, checkers.Pass, fast.Verdict, fast.Explanation)
	require.Contains(t, fast.Explanation, "slowest 20ms")
	slow := c.Check(evs(7*regSec), checkers.Options{})
	require.Equal(t, checkers.Fail, slow.Verdict, slow.Explanation)
	require.Contains(t, slow.Explanation, "unpublished p")
	faulty := c.Check(evs(7*regSec, Event{Kind: Disturbed, T: 4 * regSec, Until: 6 * regSec, Node: "session-1"}), checkers.Options{})
	require.Equal(t, checkers.Pass, faulty.Verdict, faulty.Explanation)
}

// An app's new revision reaches the subscribers of the interfaces it
// lists within the bound (sofa-registry#336: a revision no meta server
// had yet held it back until the next app change).
func TestRegPropagationAppInterfaces(t *testing.T) {
	h := func(pushedAt int64) *History {
		return regHistory(
			Event{Kind: Subscribe, T: 0, Client: 1, DataID: "iface/iface-1", RegID: "s"},
			Event{Kind: Subscribe, T: 0, Client: 3, DataID: "iface/iface-2", RegID: "s"},
			Event{Kind: Revision, T: 5 * regSec, Client: 2, DataID: "app/app-0", Data: "app-0-v1", Interfaces: []string{"iface-0", "iface-1"}},
			Event{Kind: Publish, T: 5 * regSec, Client: 2, DataID: "app/app-0", RegID: "c2-app", Data: "client-2@app-0-v1", Version: 1},
			Event{Kind: Push, T: pushedAt, Client: 1, DataID: "iface/iface-1", RegID: "s", Version: 10, Pubs: []string{"c2-app=client-2@app-0-v1"}},
			Event{Kind: End, T: 20 * regSec, Client: -1},
		)
	}
	c := Propagation{Bound: regSec, Settle: 2 * regSec}
	fast := c.Check(h(5*regSec+30e6), checkers.Options{})
	require.Equal(t, checkers.Pass, fast.Verdict, fast.Explanation)
	require.Contains(t, fast.Explanation, "1 changes away from faults", "only iface-1's subscriber is judged: the revision does not list iface-2")
	slow := c.Check(h(8*regSec), checkers.Options{})
	require.Equal(t, checkers.Fail, slow.Verdict, slow.Explanation)
	require.Contains(t, slow.Explanation, "subscriber s of client 1 had not seen it")
}

// A slot of a data server that went down must be led again within the
// bound.
func TestRegFailoverBound(t *testing.T) {
	h := func(ledAgainAt int64) *History {
		return regHistory(
			Event{Kind: Slots, T: 0, Client: -1, Node: "data-1", Epoch: 1, Slots: []int{0, 1}},
			Event{Kind: Slots, T: 0, Client: -1, Node: "data-2", Epoch: 1, Slots: []int{2}},
			Event{Kind: DataDown, T: 10 * regSec, Client: -1, Node: "data-1"},
			Event{Kind: Disturbed, T: 10 * regSec, Until: 30 * regSec, Node: "data-1"},
			Event{Kind: Slots, T: ledAgainAt, Client: -1, Node: "data-2", Epoch: 2, Slots: []int{0, 1, 2}},
			Event{Kind: End, T: 40 * regSec, Client: -1},
		)
	}
	c := Failover{Bound: 6 * regSec}
	ok := c.Check(h(13*regSec), checkers.Options{})
	require.Equal(t, checkers.Pass, ok.Verdict, ok.Explanation)
	require.Contains(t, ok.Explanation, "2 slots failed over")
	late := c.Check(h(22*regSec), checkers.Options{})
	require.Equal(t, checkers.Fail, late.Verdict, late.Explanation)
	require.Contains(t, late.Explanation, "slot 0 had no leader from 10s (data-1 down")
}

// A dead client's publisher may linger for the data servers' session
// lease only when its session server was disturbed near the death.
func TestRegNoGhostSessionLease(t *testing.T) {
	h := func(extra ...Event) *History {
		return regHistory(append([]Event{
			{Kind: Subscribe, T: 0, Client: 1, DataID: "svc", RegID: "s"},
			{Kind: Publish, T: 1 * regSec, Client: 2, DataID: "svc", RegID: "p", Data: "d", Version: 1},
			{Kind: ClientDead, T: 2 * regSec, Client: 2},
			{Kind: Push, T: 30 * regSec, Client: 1, DataID: "svc", RegID: "s", Version: 10, Pubs: []string{"p=d"}},
			{Kind: End, T: 60 * regSec, Client: -1},
		}, extra...)...)
	}
	c := NoGhost{Bound: 20 * regSec, SessionGone: 20*regSec + DataSessionLease}
	alone := c.Check(h(), checkers.Options{})
	require.Equal(t, checkers.Fail, alone.Verdict, alone.Explanation)
	withSession := c.Check(h(Event{Kind: Disturbed, T: 2 * regSec, Until: 3 * regSec, Node: "session-1"}), checkers.Options{})
	require.Equal(t, checkers.Pass, withSession.Verdict, withSession.Explanation)
	farSession := c.Check(h(Event{Kind: Disturbed, T: 25 * regSec, Until: 26 * regSec, Node: "session-1"}), checkers.Options{})
	require.Equal(t, checkers.Fail, farSession.Verdict, farSession.Explanation)
	tooLate := c.Check(regHistory(
		Event{Kind: Publish, T: 1 * regSec, Client: 2, DataID: "svc", RegID: "p", Data: "d", Version: 1},
		Event{Kind: ClientDead, T: 2 * regSec, Client: 2},
		Event{Kind: Disturbed, T: 2 * regSec, Until: 3 * regSec, Node: "session-1"},
		Event{Kind: Push, T: 50 * regSec, Client: 1, DataID: "svc", RegID: "s", Version: 10, Pubs: []string{"p=d"}},
		Event{Kind: Push, T: 58 * regSec, Client: 1, DataID: "svc", RegID: "s", Version: 11, Pubs: []string{"p=d"}},
		Event{Kind: End, T: 60 * regSec, Client: -1},
	), checkers.Options{})
	require.Equal(t, checkers.Fail, tooLate.Verdict, tooLate.Explanation)
	require.Contains(t, tooLate.Explanation, "at 58s", "the session stays in the table for its meta lease, then the data lease runs: 50s is in time")
}

// An acknowledged publish missing from the subscriber's pushes 2s later
// fails, unless a session server was disturbed (a migrating slot waits for
// every session's answer). A failpoint armed for the whole run (a planted
// bug) is no disturbance. A push may beat the acknowledgement.
func TestRegAckVisible(t *testing.T) {
	h := func(shownAt int64, extra ...Event) *History {
		return regHistory(append([]Event{
			{Kind: Connect, T: 0, Client: 2, Node: "session-1"},
			{Kind: Connect, T: 0, Client: 1, Node: "session-2"},
			{Kind: Subscribe, T: 0, Client: 1, DataID: "svc", RegID: "s"},
			{Kind: Publish, T: 5 * regSec, Client: 2, DataID: "svc", RegID: "p", Data: "d", Version: 1},
			{Kind: PublishAck, T: 5 * regSec, Client: 2, RegID: "p", Version: 1},
			{Kind: Push, T: shownAt, Client: 1, DataID: "svc", RegID: "s", Version: 10, Pubs: []string{"p=d"}, PubVers: []uint64{1}},
			{Kind: End, T: 20 * regSec, Client: -1},
		}, extra...)...)
	}
	c := AckVisible{Bound: 2 * regSec, Settle: 3 * regSec}
	require.Equal(t, checkers.Pass, c.Check(h(5*regSec+1e7), checkers.Options{}).Verdict)
	require.Equal(t, checkers.Pass, c.Check(h(5*regSec-1e6), checkers.Options{}).Verdict, "the push beat the acknowledgement")
	late := c.Check(h(11*regSec, Event{Kind: Disturbed, T: 0, Until: 20 * regSec}), checkers.Options{})
	require.Equal(t, checkers.Fail, late.Verdict, late.Explanation)
	for _, n := range []string{"session-1", "session-3", "data-1"} {
		res := c.Check(h(11*regSec, Event{Kind: Disturbed, T: 4 * regSec, Until: 8 * regSec, Node: n}), checkers.Options{})
		require.Equal(t, checkers.Pass, res.Verdict, "%s: %s", n, res.Explanation)
	}
	far := c.Check(h(11*regSec, Event{Kind: Disturbed, T: 10 * regSec, Until: 12 * regSec, Node: "session-3"}), checkers.Options{})
	require.Equal(t, checkers.Fail, far.Verdict, "a stall after the deadline excuses nothing")
}

// A publisher acknowledged while no meta leader has warmed up must reach
// subscribers within the bound after the election ends, not before.
func TestRegPushLivenessAfterElection(t *testing.T) {
	h := func(pushedAt int64, extra ...Event) *History {
		base := []Event{
			{Kind: Subscribe, T: 0, Client: 1, DataID: "svc", RegID: "s"},
			{Kind: Publish, T: 1 * regSec, Client: 2, DataID: "svc", RegID: "p", Data: "d", Version: 1},
			{Kind: PublishAck, T: 1 * regSec, Client: 2, DataID: "svc", RegID: "p", Version: 1},
			{Kind: Push, T: pushedAt, Client: 1, DataID: "svc", RegID: "s", Version: 10, Pubs: []string{"p=d"}},
			{Kind: End, T: 100 * regSec, Client: -1},
		}
		return regHistory(append(base, extra...)...)
	}
	c := PushLiveness{Bound: 30 * regSec}
	late := c.Check(h(50*regSec), checkers.Options{})
	require.Equal(t, checkers.Fail, late.Verdict, late.Explanation)
	election := Event{Kind: Disturbed, T: 0, Until: 45 * regSec, Client: -1, Node: "meta-election"}
	excused := c.Check(h(50*regSec, election), checkers.Options{})
	require.Equal(t, checkers.Pass, excused.Verdict, excused.Explanation)
	tooLate := c.Check(h(80*regSec, election), checkers.Options{})
	require.Equal(t, checkers.Fail, tooLate.Verdict, tooLate.Explanation)
}

// A dead client's publishers may outlive the bound while no meta leader
// has warmed up (no table drops its session), but not by more than
// ElectionSettle after the election ends.
func TestRegNoGhostAfterElection(t *testing.T) {
	h := func(lastPush int64, extra ...Event) *History {
		base := []Event{
			{Kind: Subscribe, T: 0, Client: 1, DataID: "svc", RegID: "s"},
			{Kind: Publish, T: 1 * regSec, Client: 2, DataID: "svc", RegID: "p", Data: "d", Version: 1},
			{Kind: ClientDead, T: 2 * regSec, Client: 2},
			{Kind: Push, T: lastPush, Client: 1, DataID: "svc", RegID: "s", Version: 10, Pubs: []string{"p=d"}},
			{Kind: End, T: 100 * regSec, Client: -1},
		}
		return regHistory(append(base, extra...)...)
	}
	c := NoGhost{Bound: 10 * regSec}
	require.Equal(t, checkers.Fail, c.Check(h(30*regSec), checkers.Options{}).Verdict)
	election := Event{Kind: Disturbed, T: 8 * regSec, Until: 40 * regSec, Client: -1, Node: "meta-election"}
	ok := c.Check(h(45*regSec, election), checkers.Options{})
	require.Equal(t, checkers.Pass, ok.Verdict, ok.Explanation)
	late := c.Check(h(55*regSec, election), checkers.Options{})
	require.Equal(t, checkers.Fail, late.Verdict, late.Explanation)
}
