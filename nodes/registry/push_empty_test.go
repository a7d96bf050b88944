package registry

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// subscribeWhileMerging: a subscriber registers 100ms after a change to
// its dataInfoId, while its session (which follows the dataInfoId for an
// earlier subscriber of the same client) is still merging it; it returns
// the new subscriber's pushes by 2.4s later and the world's fingerprint.
func subscribeWhileMerging(t *testing.T, bug bool) ([]*Datum, uint64) {
	w, cfg := pipeWorld(t, 3, PushConfig{Mode: PushPipeline})
	if bug {
		require.NoError(t, w.Inject(sim.ArmFailpoint{Failpoint: BugEmptyPushAfterSubscribe}))
	}
	pub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Publish("svc", "p0", "x") }}
	sub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Subscribe("svc", "s0") }}
	w.AddNode("pub", func() sim.Node { return pub })
	w.AddNode("sub", func() sim.Node { return sub })
	w.At(3*time.Second, func() { pub.client.Publish("svc", "p1", "y") })
	w.At(3100*time.Millisecond, func() { sub.client.Subscribe("svc", "s1") })
	w.Run(sim.Limits{Until: 5500 * time.Millisecond})
	return sub.pushesTo("s1"), w.Fingerprint()
}

// Under the pipeline a subscriber registered while a change merges is
// pushed, after the push debounce, what the session holds; with
// BugEmptyPushAfterSubscribe an empty datum that stands over the real one
// (sofa-registry#325). Same seed, same run.
func TestEmptyPushAfterSubscribeUnderPipeline(t *testing.T) {
	ok, fp := subscribeWhileMerging(t, false)
	require.NotEmpty(t, ok)
	require.NotEmpty(t, ok[0].Pubs, "the first push holds the publishers the session had")
	_, again := subscribeWhileMerging(t, false)
	require.Equal(t, fp, again)
	bad, fpBug := subscribeWhileMerging(t, true)
	_, fpBugAgain := subscribeWhileMerging(t, true)
	require.Equal(t, fpBug, fpBugAgain)
	require.NotEmpty(t, bad)
	require.Empty(t, bad[0].Pubs, "the first push is the empty datum")
	require.Empty(t, bad[len(bad)-1].Pubs, "and it stands over the real one until the version scan")
}
