package registry

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// TestAppLevelDiscovery: an interface subscriber gets the publishers of
// the apps whose revision lists the interface, a revision is on the meta
// servers before its publisher is applied, and a redeploy whose revision
// drops the interface leaves the subscriber's push.
func TestAppLevelDiscovery(t *testing.T) {
	w, cfg := newTestWorld(t, 4)
	a := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}}
	b := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}}
	sub := &testHost{cfg: ClientConfig{Sessions: cfg.Sessions}, start: func(c *Client) { c.Subscribe(InterfaceDataID("pay"), "s1") }}
	w.AddNode("a", func() sim.Node { return a })
	w.AddNode("b", func() sim.Node { return b })
	w.AddNode("sub", func() sim.Node { return sub })
	w.At(2*time.Second, func() {
		a.client.PublishApp(AppRevision{App: "shop", Revision: "shop-1", Interfaces: []string{"pay", "cart"}}, "a1", "10.0.0.1")
		b.client.PublishApp(AppRevision{App: "user", Revision: "user-1", Interfaces: []string{"login"}}, "b1", "10.0.0.2")
	})
	w.Run(sim.Limits{Until: 4 * time.Second})
	require.Equal(t, []string{"a1=10.0.0.1@shop-1"}, sub.last())
	for _, m := range cfg.Metas {
		d := w.Node(m).(*MetaServer).prov.get(revisionKey("shop-1"))
		require.Equal(t, []string{"shop", "pay", "cart"}, d.Values, "%s stores the revision", m)
	}
	w.At(4*time.Second, func() {
		b.client.PublishApp(AppRevision{App: "user", Revision: "user-2", Interfaces: []string{"login", "pay"}}, "b1", "10.0.0.2")
	})
	w.Run(sim.Limits{Until: 6 * time.Second})
	require.Equal(t, []string{"a1=10.0.0.1@shop-1", "b1=10.0.0.2@user-2"}, sub.last())
	w.At(6*time.Second, func() {
		a.client.PublishApp(AppRevision{App: "shop", Revision: "shop-2", Interfaces: []string{"cart"}}, "a1", "10.0.0.1")
	})
	w.Run(sim.Limits{Until: 8 * time.Second})
	require.Equal(t, []string{"b1=10.0.0.2@user-2"}, sub.last())
	for i := 1; i < len(sub.pushes); i++ {
		require.Greater(t, sub.pushes[i].Version, sub.pushes[i-1].Version)
	}
	require.Empty(t, w.Findings())
}
