package registry

import (
	"testing"
	"time"

	"github.com/sofasim/sofasim/checkers"
	"github.com/stretchr/testify/require"
)

func regHistory(evs ...Event) *History { return &History{Events: evs} }

const regSec = int64(time.Second)

// A publisher acknowledged after its client already unpublished it is not
// live: its absence from later pushes is no loss.
func TestRegNoLossIgnoresLateAckOfUnpublished(t *testing.T) {
	h := regHistory(
		Event{Kind: Subscribe, T: 0, Client: 1, DataID: "svc", RegID: "s"},
		Event{Kind: Publish, T: 1 * regSec, Client: 2, DataID: "svc", RegID: "p", Data: "d", Version: 1},
		Event{Kind: Push, T: 2 * regSec, Client: 1, DataID: "svc", RegID: "s", Version: 10, Pubs: []string{"p=d"}, PubVers: []uint64{1}},
		Event{Kind: Unpublish, T: 3 * regSec, Client: 2, DataID: "svc", RegID: "p"},
		Event{Kind: PublishAck, T: 4 * regSec, Client: 2, RegID: "p", Version: 1},
		Event{Kind: Heal, T: 5 * regSec, Client: -1},
		Event{Kind: Push, T: 9 * regSec, Client: 1, DataID: "svc", RegID: "s", Version: 11},
	)
	res := NoLoss{Grace: 2 * regSec, Settle: 3 * regSec}.Check(h, checkers.Options{})
	require.Equal(t, checkers.Pass, res.Verdict, res.Explanation)
}

// A live client's acknowledged publisher missing from a push after the
// heal and the settle time is a loss; within the settle time it is not
// judged.
func TestRegNoLossFindsLoss(t *testing.T) {
	evs := []Event{
		{Kind: Subscribe, T: 0, Client: 1, DataID: "svc", RegID: "s"},
		{Kind: Publish, T: 1 * regSec, Client: 2, DataID: "svc", RegID: "p", Data: "d", Version: 1},
		{Kind: PublishAck, T: 1*regSec + 1, Client: 2, RegID: "p", Version: 1},
		{Kind: Push, T: 2 * regSec, Client: 1, DataID: "svc", RegID: "s", Version: 10, Pubs: []string{"p=d"}, PubVers: []uint64{1}},
		{Kind: Heal, T: 5 * regSec, Client: -1},
		{Kind: Push, T: 6 * regSec, Client: 1, DataID: "svc", RegID: "s", Version: 11},
	}
	c := NoLoss{Grace: 2 * regSec, Settle: 3 * regSec}
	require.Equal(t, checkers.Pass, c.Check(regHistory(evs...), checkers.Options{}).Verdict, "a push within the settle time is not judged")
	evs = append(evs, Event{Kind: Push, T: 9 * regSec, Client: 1, DataID: "svc", RegID: "s", Version: 12})
	res := c.Check(regHistory(evs...), checkers.Options{})
	require.Equal(t, checkers.Fail, res.Verdict)
	require.Contains(t, res.Explanation, "publisher p of live client 2")
}

func metaOp(op string, call, ret int64, expected, epoch uint64, ok bool) Event {
	return Event{Kind: MetaOp, Client: -2, Op: op, Call: call, T: ret, Expected: expected, Epoch: epoch, OK: ok}
}

func TestRegMetaStore(t *testing.T) {
	good := regHistory(
		metaOp("cas", 1, 2, 0, 0, true),
		metaOp("read", 3, 4, 0, 1, false),
		metaOp("cas", 5, 6, 0, 0, false), // stale: the epoch is 1 already
		metaOp("cas", 7, 8, 1, 0, true),
		metaOp("read", 9, 10, 0, 2, false),
	)
	res := MetaStore{}.Check(good, checkers.Options{})
	require.Equal(t, checkers.Pass, res.Verdict, res.Explanation)

	// Two tables of epoch 1 both applied: the compare-and-set is broken.
	bad := regHistory(
		metaOp("cas", 1, 2, 0, 0, true),
		metaOp("cas", 3, 4, 0, 0, true),
	)
	res = MetaStore{}.Check(bad, checkers.Options{})
	require.Equal(t, checkers.Fail, res.Verdict, res.Explanation)

	// A read of an epoch older than one applied before the read began.
	stale := regHistory(
		metaOp("cas", 1, 2, 0, 0, true),
		metaOp("cas", 3, 4, 1, 0, true),
		metaOp("read", 5, 6, 0, 1, false),
	)
	res = MetaStore{}.Check(stale, checkers.Options{})
	require.Equal(t, checkers.Fail, res.Verdict, res.Explanation)

	// A proposal whose outcome is unknown may or may not have applied.
	unknown := regHistory(
		Event{Kind: MetaOp, Client: -2, Op: "cas", Call: 1, T: 100, Expected: 0, Unknown: true},
		metaOp("read", 5, 6, 0, 1, false),
		metaOp("read", 7, 8, 0, 1, false),
	)
	res = MetaStore{}.Check(unknown, checkers.Options{})
	require.Equal(t, checkers.Pass, res.Verdict, res.Explanation)
}

func TestRegLastWriterWins(t *testing.T) {
	h := regHistory(
		Event{Kind: Push, T: 1, Client: 1, RegID: "s", Version: 10, Pubs: []string{"p=b"}, PubVers: []uint64{2}},
		Event{Kind: Push, T: 2, Client: 1, RegID: "s", Version: 11, Pubs: []string{"p=a"}, PubVers: []uint64{1}},
	)
	require.Equal(t, checkers.Fail, LastWriterWins{}.Check(h, checkers.Options{}).Verdict)
}

// A publisher back in a push within Gap is no loss (a moved client's
// re-registration acknowledged before it reached the data servers);
// missing for longer, it is.
func TestRegNoLossGap(t *testing.T) {
	h := func(backAt int64) *History {
		return regHistory(
			Event{Kind: Subscribe, T: 0, Client: 1, DataID: "svc", RegID: "s"},
			Event{Kind: Publish, T: 1 * regSec, Client: 2, DataID: "svc", RegID: "p", Data: "d", Version: 1},
			Event{Kind: PublishAck, T: 1*regSec + 1, Client: 2, RegID: "p", Version: 1},
			Event{Kind: Push, T: 2 * regSec, Client: 1, DataID: "svc", RegID: "s", Version: 10, Pubs: []string{"p=d"}, PubVers: []uint64{1}},
			Event{Kind: Heal, T: 3 * regSec, Client: -1},
			Event{Kind: Push, T: 7 * regSec, Client: 1, DataID: "svc", RegID: "s", Version: 11},
			Event{Kind: Push, T: backAt, Client: 1, DataID: "svc", RegID: "s", Version: 12, Pubs: []string{"p=d"}, PubVers: []uint64{1}},
		)
	}
	c := NoLoss{Grace: 2 * regSec, Settle: 3 * regSec, Gap: regSec}
	quick := c.Check(h(7*regSec+regSec/2), checkers.Options{})
	require.Equal(t, checkers.Pass, quick.Verdict, quick.Explanation)
	slow := c.Check(h(10*regSec), checkers.Options{})
	require.Equal(t, checkers.Fail, slow.Verdict, slow.Explanation)
}

// A subscriber pushed a datum missing a publisher whose client then dies
// cannot be pushed the repair: a newer version holding the publisher,
// pushed to another subscriber within the gap, is the repair; with no such
// push (or only an older version) it is a loss.
func TestRegNoLossRepairSeenByAnotherSubscriber(t *testing.T) {
	base := []Event{
		{Kind: Subscribe, T: 0, Client: 1, DataID: "svc", RegID: "s1"},
		{Kind: Subscribe, T: 0, Client: 3, DataID: "svc", RegID: "s3"},
		{Kind: Publish, T: 1 * regSec, Client: 2, DataID: "svc", RegID: "p", Data: "d", Version: 1},
		{Kind: PublishAck, T: 1*regSec + 1, Client: 2, RegID: "p", Version: 1},
		{Kind: Push, T: 2 * regSec, Client: 1, DataID: "svc", RegID: "s1", Version: 10, Pubs: []string{"p=d"}, PubVers: []uint64{1}},
		{Kind: Push, T: 3 * regSec, Client: 1, DataID: "svc", RegID: "s1", Version: 11},
		{Kind: ClientDead, T: 3*regSec + regSec/5, Client: 1},
	}
	c := NoLoss{Grace: 2 * regSec, Settle: 3 * regSec, Gap: regSec, DuringDataFaults: true}
	check := func(more ...Event) checkers.Result {
		evs := append(append([]Event(nil), base...), more...)
		return c.Check(regHistory(append(evs, Event{Kind: Heal, T: 20 * regSec, Client: -1})...), checkers.Options{})
	}
	res := check(Event{Kind: Push, T: 3*regSec + regSec/2, Client: 3, DataID: "svc", RegID: "s3", Version: 12, Pubs: []string{"p=d"}, PubVers: []uint64{1}})
	require.Equal(t, checkers.Pass, res.Verdict, res.Explanation)
	res = check(Event{Kind: Push, T: 3*regSec + regSec/2, Client: 3, DataID: "svc", RegID: "s3", Version: 9, Pubs: []string{"p=d"}, PubVers: []uint64{1}})
	require.Equal(t, checkers.Fail, res.Verdict, "an older version holding it is no repair")
	res = check(Event{Kind: Push, T: 5 * regSec, Client: 3, DataID: "svc", RegID: "s3", Version: 12, Pubs: []string{"p=d"}, PubVers: []uint64{1}})
	require.Equal(t, checkers.Fail, res.Verdict, "a repair after the gap is a loss")
	require.Contains(t, res.Explanation, "publisher p of live client 2")
}

// A client that re-registered its publisher through another session is
// shown it only by a datum newer than every one pushed by then: an older
// datum holds the registration through the session it left, whose cleanup
// rightly removes it before the new one lands.
func TestRegNoLossMovedClientNeedsNewerDatum(t *testing.T) {
	h := func(shown uint64) *History {
		return regHistory(
			Event{Kind: Heal, T: 0, Client: -1},
			Event{Kind: Connect, T: 0, Client: 2, Node: "session-1"},
			Event{Kind: Subscribe, T: 0, Client: 1, DataID: "svc", RegID: "s"},
			Event{Kind: Publish, T: 1 * regSec, Client: 2, DataID: "svc", RegID: "p", Data: "d", Version: 1},
			Event{Kind: PublishAck, T: 1 * regSec, Client: 2, RegID: "p", Version: 1},
			Event{Kind: Push, T: 2 * regSec, Client: 1, DataID: "svc", RegID: "s", Version: 10, Pubs: []string{"p=d"}, PubVers: []uint64{1}},
			Event{Kind: Connect, T: 5 * regSec, Client: 2, Node: "session-2"},
			Event{Kind: PublishAck, T: 5 * regSec, Client: 2, RegID: "p", Version: 1},
			Event{Kind: Push, T: 6 * regSec, Client: 1, DataID: "svc", RegID: "s", Version: shown, Pubs: []string{"p=d"}, PubVers: []uint64{1}},
			Event{Kind: Push, T: 7 * regSec, Client: 1, DataID: "svc", RegID: "s", Version: 20},
			Event{Kind: Push, T: 12 * regSec, Client: 1, DataID: "svc", RegID: "s", Version: 21, Pubs: []string{"p=d"}, PubVers: []uint64{1}},
		)
	}
	c := NoLoss{Grace: 0, Settle: 0, Gap: regSec}
	res := c.Check(h(10), checkers.Options{})
	require.Equal(t, checkers.Pass, res.Verdict, res.Explanation)
	res = c.Check(h(11), checkers.Options{})
	require.Equal(t, checkers.Fail, res.Verdict, "a datum newer than the re-registration's acknowledgement showed it")
}

// A session server stalled across a moved client's acknowledgement pushes,
// once it resumes, the datum it cached before the stall: newer than every
// one pushed by the acknowledgement, yet holding the registration through
// the session the client left, whose cleanup then rightly removes it until
// the new session's sync (registry-chaos 28 under election=raft). A newer
// datum another session pushed before that stale one still shows the new
// registration; a session stalled only after the acknowledgement cached
// nothing older than it; and one that had pushed nothing of the datum
// before its stall had nothing cached: it fetched what it pushed
// (registry-session-failover 53 with late-cleanup-deletes-reregistered).
func TestRegNoLossStalledSessionPushesItsOldCache(t *testing.T) {
	type variant struct {
		stallFrom     int64
		cached, early bool
	}
	h := func(v variant) *History {
		evs := []Event{
			{Kind: Heal, T: 0, Client: -1},
			{Kind: Connect, T: 0, Client: 2, Node: "session-1"},
			{Kind: Connect, T: 0, Client: 1, Node: "session-3"},
			{Kind: Subscribe, T: 0, Client: 1, DataID: "svc", RegID: "s1"},
			{Kind: Publish, T: 1 * regSec, Client: 2, DataID: "svc", RegID: "p", Data: "d", Version: 1},
			{Kind: PublishAck, T: 1 * regSec, Client: 2, RegID: "p", Version: 1},
			{Kind: Push, T: 2 * regSec, Client: 1, DataID: "svc", RegID: "s1", Version: 10, Pubs: []string{"p=d"}, PubVers: []uint64{1}},
		}
		if v.cached { // session-1 pushed the datum before its stall
			evs = append(evs, Event{Kind: Connect, T: 0, Client: 4, Node: "session-1"},
				Event{Kind: Push, T: 2 * regSec, Client: 4, DataID: "svc", RegID: "s4", Version: 10, Pubs: []string{"p=d"}, PubVers: []uint64{1}},
				Event{Kind: Disconnect, T: 4 * regSec, Client: 4, Node: "session-1"})
		}
		evs = append(evs, Event{Kind: Connect, T: 5 * regSec, Client: 2, Node: "session-2"},
			Event{Kind: PublishAck, T: 5 * regSec, Client: 2, RegID: "p", Version: 1})
		if v.early { // session-3 pushed version 11 before session-1's stale push
			evs = append(evs, Event{Kind: Push, T: 6 * regSec, Client: 1, DataID: "svc", RegID: "s1", Version: 11, Pubs: []string{"p=d"}, PubVers: []uint64{1}},
				Event{Kind: Push, T: 9 * regSec, Client: 1, DataID: "svc", RegID: "s1", Version: 12},
				Event{Kind: Push, T: 15 * regSec, Client: 1, DataID: "svc", RegID: "s1", Version: 13, Pubs: []string{"p=d"}, PubVers: []uint64{1}})
		}
		evs = append(evs,
			Event{Kind: Connect, T: 8 * regSec, Client: 3, Node: "session-1"},
			Event{Kind: Subscribe, T: 8 * regSec, Client: 3, DataID: "svc", RegID: "s3"},
			Event{Kind: Push, T: 8*regSec + regSec/2, Client: 3, DataID: "svc", RegID: "s3", Version: 11, Pubs: []string{"p=d"}, PubVers: []uint64{1}},
			Event{Kind: Push, T: 9 * regSec, Client: 3, DataID: "svc", RegID: "s3", Version: 12},
			Event{Kind: Push, T: 15 * regSec, Client: 3, DataID: "svc", RegID: "s3", Version: 13, Pubs: []string{"p=d"}, PubVers: []uint64{1}},
			Event{Kind: Disturbed, T: v.stallFrom, Client: -1, Node: "session-1", Until: 8 * regSec},
		)
		return regHistory(evs...)
	}
	c := NoLoss{Grace: 0, Settle: 0, Gap: regSec}
	res := c.Check(h(variant{stallFrom: 3 * regSec, cached: true}), checkers.Options{})
	require.Equal(t, checkers.Pass, res.Verdict, res.Explanation)
	res = c.Check(h(variant{stallFrom: 6 * regSec, cached: true}), checkers.Options{})
	require.Equal(t, checkers.Fail, res.Verdict, "stalled after the acknowledgement: its cache is no older than it")
	require.Contains(t, res.Explanation, "subscriber s3 of client 3")
	res = c.Check(h(variant{stallFrom: 3 * regSec}), checkers.Options{})
	require.Equal(t, checkers.Fail, res.Verdict, "nothing cached before the stall: what it pushed after was fetched")
	require.Contains(t, res.Explanation, "subscriber s3 of client 3")
	res = c.Check(h(variant{stallFrom: 3 * regSec, cached: true, early: true}), checkers.Options{})
	require.Equal(t, checkers.Fail, res.Verdict, "session-3 showed the new registration before the stale push")
	require.Contains(t, res.Explanation, "subscriber s1 of client 1")
	require.NotContains(t, res.Explanation, "subscriber s3")
}
