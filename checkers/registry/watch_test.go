package registry

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/checkers"
)

func watchEvents(pushes ...Event) []Event {
	evs := []Event{
		{Kind: Subscribe, T: 0, Client: 1, DataID: "config/svc", RegID: "w"},
		{Kind: Drill, T: 2 * regSec, Client: -1, Op: DrillSetConfig, DataID: "svc", Data: "a"},
		{Kind: Drill, T: 30 * regSec, Client: -1, Op: DrillSetConfig, DataID: "svc", Data: "b"},
	}
	evs = append(evs, pushes...)
	return append(evs, Event{Kind: End, T: 60 * regSec, Client: -1})
}

func watchPush(t int64, pubs ...string) Event {
	return Event{Kind: Push, T: t, Client: 1, DataID: "config/svc", RegID: "w", Version: uint64(t), Pubs: pubs}
}

// Off: null content once is all a watcher is owed; a config pushed, or
// no push, fails.
func TestWatchersOff(t *testing.T) {
	c := Watchers{Bound: 9 * regSec, Settle: 3 * regSec}
	res := c.Check(regHistory(watchEvents(watchPush(regSec/2))...), checkers.Options{})
	require.Equal(t, checkers.Pass, res.Verdict, res.Explanation)
	res = c.Check(regHistory(watchEvents(watchPush(regSec/2), watchPush(5*regSec, "config=a"))...), checkers.Options{})
	require.Equal(t, checkers.Fail, res.Verdict)
	require.Contains(t, res.Explanation, "null content only")
	res = c.Check(regHistory(watchEvents()...), checkers.Options{})
	require.Equal(t, checkers.Fail, res.Verdict)
	require.Contains(t, res.Explanation, "had not received it")
}

// On: each config set reaches the watcher within the bound and the last
// one is held at the end; a stale config past the bound, or a value
// never set, fails; a fault on the watcher's path excuses the bound only.
func TestWatchersOn(t *testing.T) {
	c := Watchers{Enabled: true, Bound: 17 * regSec, Settle: 3 * regSec}
	good := watchEvents(watchPush(10*regSec, "config=a"), watchPush(40*regSec, "config=b"))
	res := c.Check(regHistory(good...), checkers.Options{})
	require.Equal(t, checkers.Pass, res.Verdict, res.Explanation)
	late := watchEvents(watchPush(10*regSec, "config=a"), watchPush(50*regSec, "config=b"))
	res = c.Check(regHistory(late...), checkers.Options{})
	require.Equal(t, checkers.Fail, res.Verdict)
	require.Contains(t, res.Explanation, `owed config "b"`)
	excused := append(late, Event{Kind: Disturbed, T: 35 * regSec, Until: 36 * regSec, Client: -1, Node: "session-1"})
	res = c.Check(regHistory(excused...), checkers.Options{})
	require.Equal(t, checkers.Pass, res.Verdict, res.Explanation)
	elsewhere := append(late, Event{Kind: Disturbed, T: 35 * regSec, Until: 36 * regSec, Client: -1, Node: "data-1"})
	require.Equal(t, checkers.Fail, c.Check(regHistory(elsewhere...), checkers.Options{}).Verdict, "a data server is not on the watcher's path")
	stale := watchEvents(watchPush(10*regSec, "config=a"))
	res = c.Check(regHistory(stale...), checkers.Options{})
	require.Equal(t, checkers.Fail, res.Verdict)
	require.Contains(t, res.Explanation, "at the end of the run")
	never := watchEvents(watchPush(10*regSec, "config=z"), watchPush(40*regSec, "config=b"))
	res = c.Check(regHistory(never...), checkers.Options{})
	require.Equal(t, checkers.Fail, res.Verdict)
	require.Contains(t, res.Explanation, "not a config set before the push")
}
