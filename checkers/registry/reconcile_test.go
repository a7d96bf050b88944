package registry

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/checkers"
)

func TestReconcileHold(t *testing.T) {
	s := int64(time.Second)
	slots := func(at int64, node string, ss ...int) Event {
		return Event{Kind: Slots, T: at, Client: -1, Node: node, Inc: 1, Slots: ss}
	}
	stop := Event{Kind: Drill, T: 10 * s, Until: 30 * s, Client: -1, Op: DrillReconcileStop}
	base := []Event{slots(1*s, "data-1", 0, 1), slots(1*s, "data-2", 2, 3), stop}
	run := func(evs ...Event) checkers.Result {
		return ReconcileHold{}.Check(&History{Events: append(append([]Event(nil), base...), evs...)}, checkers.Options{})
	}
	moved := run(slots(20*s, "data-1", 0), slots(20*s, "data-2", 1, 2, 3))
	require.Equal(t, checkers.Fail, moved.Verdict)
	require.Contains(t, moved.Explanation, "data-1 stopped leading slot 1 at 20s")
	require.Equal(t, checkers.Pass, run(slots(31*s, "data-1", 0), slots(31*s, "data-2", 1, 2, 3)).Verdict, "after the start")
	require.Equal(t, checkers.Pass, run(slots(11*s, "data-1", 0)).Verdict, "within DrillLag of the stop")
	require.Equal(t, checkers.Pass, run(Event{Kind: Slots, T: 20 * s, Client: -1, Node: "data-1", Inc: 2}).Verdict, "a restarted process starts empty")
	refresh := Event{Kind: Drill, T: 15 * s, Client: -1, Op: DrillForceRefresh}
	require.Equal(t, checkers.Pass, run(refresh, slots(20*s, "data-1", 0), slots(20*s, "data-2", 1, 2, 3)).Verdict, "a force refresh moves slots while stopped")
}

func TestForceRefreshBalanced(t *testing.T) {
	s := int64(time.Second)
	slots := func(at int64, node string, ss ...int) Event {
		return Event{Kind: Slots, T: at, Client: -1, Node: node, Inc: 1, Slots: ss}
	}
	refresh := Event{Kind: Drill, T: 10 * s, Client: -1, Op: DrillForceRefresh}
	base := []Event{slots(1*s, "data-1", 0, 1, 2), slots(1*s, "data-2", 3), slots(1*s, "data-3"), refresh}
	c := ForceRefreshBalanced{Bound: 5 * s, Slots: 4}
	run := func(evs ...Event) checkers.Result {
		return c.Check(&History{Events: append(append(append([]Event(nil), base...), evs...), Event{Kind: End, T: 40 * s, Client: -1})}, checkers.Options{})
	}
	even := run(slots(12*s, "data-1", 0, 3), slots(12*s, "data-2", 1), slots(12*s, "data-3", 2))
	require.Equal(t, checkers.Pass, even.Verdict, even.Explanation)
	require.Contains(t, even.Explanation, "1 force refreshes judged")
	uneven := run()
	require.Equal(t, checkers.Fail, uneven.Verdict)
	require.Contains(t, uneven.Explanation, "data-1 leads 3 slots 5s after the force refresh at 10s")
	cut := run(Event{Kind: Disturbed, T: 11 * s, Until: 13 * s, Client: -1, Node: "data-2"})
	require.Equal(t, checkers.Pass, cut.Verdict, "a fault in the window: not judged")
	require.Contains(t, cut.Explanation, "0 force refreshes judged")
}
