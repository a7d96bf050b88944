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

func TestMultiDCSwitches(t *testing.T) {
	s := int64(time.Second)
	base := []Event{
		{Kind: Publish, T: 1 * s, Client: 0, DataID: "svc", RegID: "p", Data: "a", Node: "dc1"},
		{Kind: Publish, T: 1 * s, Client: 0, DataID: "other", RegID: "o", Data: "a", Node: "dc1"},
		{Kind: Subscribe, T: 2 * s, Client: 1, DataID: "svc", RegID: "s", Node: "dc1"},
		{Kind: Subscribe, T: 2 * s, Client: 1, DataID: "other", RegID: "so", Node: "dc1"},
		{Kind: Push, T: 3 * s, Client: 1, DataID: "svc", RegID: "s", Node: "dc1", Pubs: []string{"p=a"}},
		{Kind: Publish, T: 6 * s, Client: 0, DataID: "svc", RegID: "p", Data: "b", Node: "dc1"},
		{Kind: Publish, T: 15 * s, Client: 0, DataID: "svc", RegID: "p", Data: "c", Node: "dc1"},
		{Kind: Publish, T: 15 * s, Client: 0, DataID: "other", RegID: "o", Data: "b", Node: "dc1"},
	}
	with := func(evs ...Event) *History { return &History{Events: append(append([]Event(nil), base...), evs...)} }
	drill := func(op, dataID string) Event {
		return Event{Kind: Drill, T: 5 * s, Until: 20 * s, Client: -1, Op: op, Node: "dc1", DataID: dataID}
	}
	push := func(t int64, reg, pub string) Event {
		dataID := map[string]string{"s": "svc", "so": "other"}[reg]
		return Event{Kind: Push, T: t * s, Client: 1, DataID: dataID, RegID: reg, Node: "dc1", Pubs: []string{pub}}
	}
	c := MultiDCSwitches{Lag: 2 * s, Settle: 3 * s}
	check := func(evs ...Event) checkers.Result { return c.Check(with(evs...), checkers.Options{}) }

	r := check(drill(DrillMultiDCPushOff, ""), push(6, "s", "p=b"), push(21, "s", "p=c"))
	require.Equal(t, checkers.Pass, r.Verdict, "a push within the lag, and after the switch is back: %s", r.Explanation)
	r = check(drill(DrillMultiDCPushOff, ""), push(12, "s", "p=b"))
	require.Equal(t, checkers.Fail, r.Verdict)
	require.Contains(t, r.Explanation, "while its push was off")

	r = check(drill(DrillMultiDCSyncOff, ""), push(12, "s", "p=b"))
	require.Equal(t, checkers.Pass, r.Verdict, "published before it froze (+ settle): %s", r.Explanation)
	r = check(drill(DrillMultiDCSyncOff, ""), push(17, "s", "p=c"))
	require.Equal(t, checkers.Fail, r.Verdict)
	require.Contains(t, r.Explanation, "with p=c, published at 15s, while it was frozen")

	require.Equal(t, checkers.Pass, check(drill(DrillMultiDCIgnore, "svc"), push(17, "so", "o=b")).Verdict, "another id still syncs")
	require.Equal(t, checkers.Fail, check(drill(DrillMultiDCIgnore, "svc"), push(17, "s", "p=c")).Verdict)
	require.Equal(t, checkers.Pass, check(drill(DrillMultiDCSyncOnly, "svc"), push(17, "s", "p=c")).Verdict, "the one synced id")
	require.Equal(t, checkers.Fail, check(drill(DrillMultiDCSyncOnly, "svc"), push(17, "so", "o=b")).Verdict)
}

// A switch set back delays multidc-converge's deadline by the lag.
func TestMultiDCConvergeAfterDrill(t *testing.T) {
	s := int64(time.Second)
	h := &History{Events: []Event{
		{Kind: Publish, T: 1 * s, Client: 0, DataID: "svc", RegID: "p", Data: "a", Node: "dc1"},
		{Kind: Subscribe, T: 2 * s, Client: 1, DataID: "svc", RegID: "s", Node: "dc1"},
		{Kind: Drill, T: 3 * s, Until: 20 * s, Client: -1, Op: DrillMultiDCPushOff, Node: "dc1"},
		{Kind: Push, T: 26 * s, Client: 1, DataID: "svc", RegID: "s", Node: "dc1", Pubs: []string{"p=a"}},
	}}
	require.Equal(t, checkers.Pass, MultiDCConverge{Bound: 5 * s, Lag: 2 * s}.Check(h, checkers.Options{}).Verdict)
	require.Equal(t, checkers.Fail, MultiDCConverge{Bound: 5 * s}.Check(h, checkers.Options{}).Verdict)
}

func TestMultiDCPropagation(t *testing.T) {
	s := int64(time.Second)
	base := []Event{
		{Kind: Publish, T: 1 * s, Client: 0, DataID: "svc", RegID: "p", Data: "a", Node: "dc1"},
		{Kind: Subscribe, T: 2 * s, Client: 1, DataID: "svc", RegID: "s", Node: "dc1"},
		{Kind: Subscribe, T: 9 * s, Client: 2, DataID: "svc", RegID: "late", Node: "dc1"}, // subscribed within Settle of the change: not judged
		{Kind: Push, T: 3 * s, Client: 1, DataID: "svc", RegID: "s", Node: "dc1", Pubs: []string{"p=a"}},
		{Kind: Unpublish, T: 10 * s, Client: 0, DataID: "svc", RegID: "p", Node: "dc1"},
	}
	with := func(evs ...Event) *History {
		h := &History{Events: append(append([]Event(nil), base...), evs...)}
		h.Record(Event{Kind: End, T: 30 * s, Client: -1})
		return h
	}
	c := MultiDCPropagation{Bound: 2 * s, Settle: 3 * s}
	push := func(at int64, pubs ...string) Event {
		return Event{Kind: Push, T: at, Client: 1, DataID: "svc", RegID: "s", Node: "dc1", Pubs: pubs}
	}

	ok := c.Check(with(push(11*s)), checkers.Options{})
	require.Equal(t, checkers.Pass, ok.Verdict, ok.Explanation)
	require.Contains(t, ok.Explanation, "1 changes away from faults")
	require.Contains(t, ok.Explanation, "slowest 1s")

	late := c.Check(with(push(17*s)), checkers.Options{})
	require.Equal(t, checkers.Fail, late.Verdict, "a removal repaired 7 s later by a periodic sync")
	require.Contains(t, late.Explanation, "unpublished p on dc1's svc at 10s")

	back := c.Check(with(push(11*s), push(11500*s/1000, "p=a")), checkers.Options{})
	require.Equal(t, checkers.Fail, back.Verdict, "the last push by the deadline must still show the change")

	faulted := c.Check(with(push(17*s), Event{Kind: Disturbed, T: 4 * s, Until: 8 * s, Client: -1, Node: "dc2-data-1"}), checkers.Options{})
	require.Equal(t, checkers.Pass, faulted.Verdict, "a fault within Settle before the change excuses it")
	require.Contains(t, faulted.Explanation, "0 changes")

	drill := Event{Kind: Drill, T: 2 * s, Until: 6 * s, Client: -1, Op: DrillMultiDCPushOff, Node: "dc1"}
	lagged := MultiDCPropagation{Bound: 2 * s, Settle: 3 * s, Lag: 3 * s}
	require.Equal(t, checkers.Pass, lagged.Check(with(push(17*s), drill), checkers.Options{}).Verdict,
		"a switch drill set back within its lag and Settle before the change excuses it")
	require.Equal(t, checkers.Fail, lagged.Check(with(push(17*s), Event{Kind: Drill, T: 0, Until: s / 2, Client: -1, Op: DrillMultiDCPushOff, Node: "dc1"}), checkers.Options{}).Verdict,
		"a drill long over does not")

	again := c.Check(with(Event{Kind: Publish, T: 11 * s, Client: 0, DataID: "svc", RegID: "p", Data: "b", Node: "dc1"}, push(12*s, "p=b")), checkers.Options{})
	require.Equal(t, checkers.Pass, again.Verdict, again.Explanation)
	require.Contains(t, again.Explanation, "1 changes", "a change superseded before its deadline is not judged")
}
