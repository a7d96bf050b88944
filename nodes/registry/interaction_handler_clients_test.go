package registry

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/sofasim/sofasim/sim"
)

// handleClientOp runs a client library call at the current virtual time:
//
//	publish <client> <dataInfoId> <registerId> <data>
//	unpublish <client> <registerId>
//	subscribe <client> <dataInfoId> <registerId>
func (e *interactionEnv) handleClientOp(t *testing.T, d *datadriven.TestData) error {
	want := map[string]int{"publish": 4, "unpublish": 2, "subscribe": 3}[d.Cmd]
	if len(d.CmdArgs) != want {
		d.Fatalf(t, "%s takes %d arguments", d.Cmd, want)
	}
	arg := func(i int) string { return d.CmdArgs[i].Key }
	h := e.clients[sim.NodeID(arg(0))]
	if h == nil || !e.World.Up(h.id) {
		return fmt.Errorf("%s: not a running client", arg(0))
	}
	e.RunNow(func() {
		switch d.Cmd {
		case "publish":
			delete(h.unpublished, arg(2))
			v := h.c.Publish(arg(1), arg(2), arg(3))
			e.Printf("%s publishes %s %s=%s v%d\n", h.id, arg(1), arg(2), arg(3), v)
		case "unpublish":
			if p := h.c.pub(arg(1)); p != nil {
				h.unpublished[arg(1)] = p.DataID
			}
			h.c.Unpublish(arg(1))
			e.Printf("%s unpublishes %s v%d\n", h.id, arg(1), h.c.version(arg(1)))
		case "subscribe":
			h.c.Subscribe(arg(1), arg(2))
			e.Printf("%s subscribes %s to %s\n", h.id, arg(2), arg(1))
		}
	})
	return nil
}
