package registry

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/checkers"
)

func TestMultiDCConverge(t *testing.T) {
	s := int64(time.Second)
	base := []Event{
		{Kind: Publish, T: 1 * s, Client: 0, DataID: "svc", RegID: "p", Data: "a", Node: "dc1"},
		{Kind: Subscribe, T: 2 * s, Client: 1, DataID: "svc", RegID: "s", Node: "dc1"},
		{Kind: Subscribe, T: 2 * s, Client: 1, DataID: "svc", RegID: "local"}, // a local subscription: not judged here
		{Kind: Push, T: 3 * s, Client: 1, DataID: "svc", RegID: "s", Node: "dc1", Pubs: []string{"p=a"}},
		{Kind: Publish, T: 10 * s, Client: 0, DataID: "svc", RegID: "p", Data: "b", Node: "dc1"},
		{Kind: Disturbed, T: 9 * s, Until: 20 * s, Client: -1, Node: "dc2-data-1"},
	}
	with := func(evs ...Event) *History { return &History{Events: append(append([]Event(nil), base...), evs...)} }
	c := MultiDCConverge{Bound: 5 * s}

	ok := c.Check(with(Event{Kind: Push, T: 24 * s, Client: 1, DataID: "svc", RegID: "s", Node: "dc1", Pubs: []string{"p=b"}}), checkers.Options{})
	require.Equal(t, checkers.Pass, ok.Verdict, ok.Explanation)
	require.Contains(t, ok.Explanation, "slowest 4s")
	require.True(t, MultiDCConverged(with(Event{Kind: Push, T: 24 * s, Client: 1, RegID: "s", Pubs: []string{"p=b"}}).Events))

	late := c.Check(with(Event{Kind: Push, T: 26 * s, Client: 1, DataID: "svc", RegID: "s", Node: "dc1", Pubs: []string{"p=b"}}), checkers.Options{})
	require.Equal(t, checkers.Fail, late.Verdict)
	require.Contains(t, late.Explanation, "6s after 20s (bound 5s)")

	stale := c.Check(with(), checkers.Options{})
	require.Equal(t, checkers.Fail, stale.Verdict)
	require.Contains(t, stale.Explanation, "holds [p=a] of dc1's svc at the end; dc1 has [p=b]")
	require.False(t, MultiDCConverged(with().Events))

	gone := with(Event{Kind: Unpublish, T: 21 * s, Client: 0, DataID: "svc", RegID: "p", Node: "dc1"},
		Event{Kind: Push, T: 22 * s, Client: 1, DataID: "svc", RegID: "s", Node: "dc1"})
	require.Equal(t, checkers.Pass, c.Check(gone, checkers.Options{}).Verdict, "an unpublished datum converges to empty")
}
