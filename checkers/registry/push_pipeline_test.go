package registry

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/checkers"
)

// A subscriber pushed an empty datum over publishers held long before its
// subscribe fails subscribe-push; the real datum within the bound passes,
// and a fault near the subscribe excuses it.
func TestSubscribePush(t *testing.T) {
	h := func(pubs []string, extra ...Event) *History {
		evs := append([]Event{
			{Kind: Publish, T: 1 * regSec, Client: 2, DataID: "svc", RegID: "p", Data: "d", Version: 1},
			{Kind: Subscribe, T: 10 * regSec, Client: 1, DataID: "svc", RegID: "s"},
			{Kind: Push, T: 10*regSec + 6e8, Client: 1, DataID: "svc", RegID: "s", Version: 20, Pubs: pubs},
		}, extra...)
		return regHistory(append(evs, Event{Kind: End, T: 30 * regSec, Client: -1})...)
	}
	c := SubscribePush{Bound: 2 * regSec, Settle: 3 * regSec}
	ok := c.Check(h([]string{"p=d"}), checkers.Options{})
	require.Equal(t, checkers.Pass, ok.Verdict, ok.Explanation)
	require.Contains(t, ok.Explanation, "1 publishers")
	empty := c.Check(h(nil), checkers.Options{})
	require.Equal(t, checkers.Fail, empty.Verdict, empty.Explanation)
	require.Contains(t, empty.Explanation, "lacked p=d")
	faulty := c.Check(h(nil, Event{Kind: Disturbed, T: 9 * regSec, Until: 11 * regSec, Node: "session-1"}), checkers.Options{})
	require.Equal(t, checkers.Pass, faulty.Verdict, faulty.Explanation)
	// the real datum replacing the empty one within the bound passes; after it, not
	repaired := c.Check(h(nil, Event{Kind: Push, T: 11 * regSec, Client: 1, DataID: "svc", RegID: "s", Version: 21, Pubs: []string{"p=d"}}), checkers.Options{})
	require.Equal(t, checkers.Pass, repaired.Verdict, repaired.Explanation)
	late := c.Check(h(nil, Event{Kind: Push, T: 13 * regSec, Client: 1, DataID: "svc", RegID: "s", Version: 21, Pubs: []string{"p=d"}}), checkers.Options{})
	require.Equal(t, checkers.Fail, late.Verdict, late.Explanation)
}

// Pushes of every change at once fail push-rate; merged ones pass.
func TestPushRate(t *testing.T) {
	h := func(gap int64, n int) *History {
		var evs []Event
		for i := 0; i < n; i++ {
			evs = append(evs, Event{Kind: Push, T: regSec + int64(i)*gap, Client: 1, DataID: "svc", RegID: "s", Version: uint64(10 + i)})
		}
		return regHistory(evs...)
	}
	c := PushRate{Window: 8e8, Max: 3}
	merged := c.Check(h(regSec, 10), checkers.Options{})
	require.Equal(t, checkers.Pass, merged.Verdict, merged.Explanation)
	require.Contains(t, merged.Explanation, "at most 1 new versions")
	burst := c.Check(h(1e8, 5), checkers.Options{})
	require.Equal(t, checkers.Fail, burst.Verdict, burst.Explanation)
	require.Contains(t, burst.Explanation, "pushed 4 new versions of svc")
	// pushes a clog held arrive together when it ends: not the session's rate
	clogged := h(0, 5)
	clogged.Events = append(clogged.Events, Event{Kind: Disturbed, T: regSec / 2, Until: regSec, Client: -1})
	require.Equal(t, checkers.Pass, c.Check(regHistory(clogged.Events...), checkers.Options{}).Verdict)
	// the same version again is a retry, not a new one
	var again []Event
	for i := 0; i < 6; i++ {
		again = append(again, Event{Kind: Push, T: regSec + int64(i)*1e8, Client: 1, DataID: "svc", RegID: "s", Version: 10})
	}
	require.Equal(t, checkers.Pass, c.Check(regHistory(again...), checkers.Options{}).Verdict)
}

// A version received more often than two retry rounds in one scan
// interval fails push-retry-cap; a reconnect starts over.
func TestRetryCap(t *testing.T) {
	h := func(n int, reconnectAt int) *History {
		var evs []Event
		for i := 0; i < n; i++ {
			if i == reconnectAt {
				evs = append(evs, Event{Kind: Connect, T: regSec + int64(i)*4e8 - 1, Client: 1, Node: "session-2"})
			}
			evs = append(evs, Event{Kind: Push, T: regSec + int64(i)*4e8, Client: 1, DataID: "svc", RegID: "s", Version: 10})
		}
		return regHistory(evs...)
	}
	c := RetryCap{Retries: 3, Scan: 5 * regSec}
	within := c.Check(h(8, -1), checkers.Options{})
	require.Equal(t, checkers.Pass, within.Verdict, within.Explanation)
	forever := c.Check(h(12, -1), checkers.Options{})
	require.Equal(t, checkers.Fail, forever.Verdict, forever.Explanation)
	require.Contains(t, forever.Explanation, "received version 10 9 times")
	require.Equal(t, checkers.Pass, c.Check(h(12, 6), checkers.Options{}).Verdict)
}

// A client re-registers its subscribers on connect: an empty push on the
// new session away from faults fails subscribe-push; the old session's
// crash near the connect excuses it.
func TestSubscribePushOnReconnect(t *testing.T) {
	h := func(extra ...Event) *History {
		evs := append([]Event{
			{Kind: Connect, T: 0, Client: 1, Node: "session-1"},
			{Kind: Subscribe, T: 1e8, Client: 1, DataID: "svc", RegID: "s"},
			{Kind: Publish, T: 1 * regSec, Client: 2, DataID: "svc", RegID: "p", Data: "d", Version: 1},
			{Kind: Push, T: 2 * regSec, Client: 1, DataID: "svc", RegID: "s", Version: 10, Pubs: []string{"p=d"}},
			{Kind: Disconnect, T: 9 * regSec, Client: 1, Node: "session-1"},
			{Kind: Connect, T: 10 * regSec, Client: 1, Node: "session-2"},
			{Kind: Push, T: 10*regSec + 6e8, Client: 1, DataID: "svc", RegID: "s", Version: 20},
		}, extra...)
		return regHistory(append(evs, Event{Kind: End, T: 30 * regSec, Client: -1})...)
	}
	c := SubscribePush{Bound: 2 * regSec, Settle: 3 * regSec}
	empty := c.Check(h(), checkers.Options{})
	require.Equal(t, checkers.Fail, empty.Verdict, empty.Explanation)
	require.Contains(t, empty.Explanation, "registered on svc at 10s")
	cut := c.Check(h(Event{Kind: Disturbed, T: 9 * regSec, Until: 20 * regSec, Node: "session-1"}), checkers.Options{})
	require.Equal(t, checkers.Pass, cut.Verdict, cut.Explanation)
}
