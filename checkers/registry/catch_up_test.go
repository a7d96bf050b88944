package registry

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/checkers"
)

// A client that moves to another session server catches up, within the
// bound, with what another subscriber already held; the session it left
// excuses that only when the table changed meanwhile (a migration waits
// for it).
func TestRegCatchUp(t *testing.T) {
	h := func(extra ...Event) *History {
		evs := []Event{
			{Kind: Subscribe, T: 0, Client: 1, DataID: "svc", RegID: "s1"},
			{Kind: Subscribe, T: 0, Client: 3, DataID: "svc", RegID: "s3"},
			{Kind: Publish, T: 1 * regSec, Client: 2, DataID: "svc", RegID: "p", Data: "a", Version: 1},
			{Kind: Push, T: 2 * regSec, Client: 1, DataID: "svc", RegID: "s1", Version: 10, Pubs: []string{"p=a"}},
			{Kind: Push, T: 2 * regSec, Client: 3, DataID: "svc", RegID: "s3", Version: 10, Pubs: []string{"p=a"}},
			{Kind: Publish, T: 4 * regSec, Client: 2, DataID: "svc", RegID: "p", Data: "b", Version: 2},
			{Kind: Push, T: 5 * regSec, Client: 3, DataID: "svc", RegID: "s3", Version: 11, Pubs: []string{"p=b"}},
			{Kind: Disturbed, T: 4 * regSec, Until: 7 * regSec, Client: -1, Node: "session-1"}, // client 1's session stalls
			{Kind: Connect, T: 7 * regSec, Client: 1, Node: "session-2"},
		}
		return regHistory(append(append(evs, extra...), Event{Kind: End, T: 20 * regSec, Client: -1})...)
	}
	c := CatchUp{Bound: 3 * regSec}
	ok := c.Check(h(Event{Kind: Push, T: 8 * regSec, Client: 1, DataID: "svc", RegID: "s1", Version: 11, Pubs: []string{"p=b"}}), checkers.Options{})
	require.Equal(t, checkers.Pass, ok.Verdict, ok.Explanation)
	require.Contains(t, ok.Explanation, "1 publishers")

	stale := c.Check(h(), checkers.Options{})
	require.Equal(t, checkers.Fail, stale.Verdict, "client 1 still holds p=a, which client 3 saw replaced at 5 s")
	require.Contains(t, stale.Explanation, "lacked p=b")

	migrating := c.Check(h(Event{Kind: Slots, T: 5 * regSec, Node: "data-1", Epoch: 2}), checkers.Options{})
	require.Equal(t, checkers.Pass, migrating.Verdict, "a table change while session-1 stalls: migrations wait for it")

	own := c.Check(h(Event{Kind: Disturbed, T: 6 * regSec, Until: 8 * regSec, Client: -1, Node: "session-2"}), checkers.Options{})
	require.Equal(t, checkers.Pass, own.Verdict, "the new session's own fault excuses")

	moved := c.Check(h(Event{Kind: Disconnect, T: 8 * regSec, Client: 2, Node: "session-1"}), checkers.Options{})
	require.Equal(t, checkers.Pass, moved.Verdict, "the publisher's own client disconnected before the deadline: its session drops it until it publishes again")

	changed := c.Check(h(Event{Kind: Publish, T: 9 * regSec, Client: 2, DataID: "svc", RegID: "p", Data: "c", Version: 3}), checkers.Options{})
	require.Equal(t, checkers.Pass, changed.Verdict, "a publisher changed before the deadline is not judged")
}
