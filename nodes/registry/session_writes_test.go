package registry

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// A write sent again to the leaders of new tables before its retry is due
// is re-routed, not retried: ten table installs while the data servers
// are cut off leave it one attempt, where counting them gave it up after
// DataRetries; once the cut heals it is stored.
func TestRerouteIsNotARetry(t *testing.T) {
	run := func() uint64 {
		w, cfg := pipeWorld(t, 3, PushConfig{Mode: PushPipeline})
		pub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}}
		w.AddNode("pub", func() sim.Node { return pub })
		w.Run(sim.Limits{Until: 3 * time.Second})
		s := w.Node("session-1").(*SessionServer)
		require.Empty(t, s.outbox)
		require.NoError(t, w.Inject(sim.Partition{Cuts: []sim.Cut{{From: []sim.NodeID{"session-1"}, To: cfg.Data}}}))
		pub.client.Publish("svc", "p0", "x")
		w.Run(sim.Limits{Until: 3100 * time.Millisecond})
		require.Len(t, s.outbox, 1, "the publish waits for its data server")
		var p *pending
		for _, q := range s.outbox {
			p = q
		}
		require.Equal(t, 1, p.sends)
		for range 2 * cfg.DataRetries {
			s.retryAll() // as each new table does
		}
		require.Len(t, s.outbox, 1, "re-routing gave nothing up")
		require.Equal(t, 1, p.sends, "re-routes are not retries")
		require.NoError(t, w.Inject(sim.Heal{}))
		w.Run(sim.Limits{Until: 8 * time.Second})
		require.Empty(t, s.outbox, "stored once the cut healed")
		require.Zero(t, w.Reached()["registry/write-retries-exhausted"])
		require.Empty(t, w.Findings())
		return w.Fingerprint()
	}
	require.Equal(t, run(), run())
}
