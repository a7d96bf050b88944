package raftkv

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/sofasim/sofasim/sim"
	"github.com/sofasim/sofasim/sim/transcript"
)

// handleAddNodes builds the cluster: add-nodes <members> [spares=N]
// [snapshot-every=N] [catch-up=N] [seed=N], servers s1.. and one client
// node.
func (e *interactionEnv) handleAddNodes(t *testing.T, d *datadriven.TestData) error {
	if e.World != nil {
		return fmt.Errorf("the cluster was built already")
	}
	members, err := strconv.Atoi(d.CmdArgs[0].Key)
	if err != nil {
		d.Fatalf(t, "add-nodes <members>: %v", err)
	}
	var spares, seed int
	cfg := ServerConfig{SnapshotEvery: 1000, CatchUpEntries: 100}
	transcript.ScanArgs(t, d, d.CmdArgs[1:], map[string]any{"spares": &spares, "seed": &seed,
		"snapshot-every": &cfg.SnapshotEvery, "catch-up": &cfg.CatchUpEntries})
	for i := range members + spares {
		id := sim.NodeID("s" + strconv.Itoa(i+1))
		if i < members {
			cfg.Peers = append(cfg.Peers, id)
		} else {
			cfg.Spares = append(cfg.Spares, id)
		}
	}
	e.cfg = cfg
	e.World = sim.NewWorld(sim.Config{Seed: uint64(max(seed, 1)), Trace: &e.Env})
	AddServers(e.World, cfg)
	e.client = &interactionClient{e: e}
	e.World.AddNode("client", func() sim.Node { return e.client })
	e.RunUntil(e.World.Now())
	e.Printf("members %v spares %v\n", cfg.Peers, cfg.Spares)
	return nil
}

// interactionClient hosts the Client that runs the transcript's proposals.
type interactionClient struct {
	sim.BaseNode
	e *interactionEnv
	c *Client
}

func (n *interactionClient) Start(env *sim.Env) {
	n.c = NewClient(env, ClientConfig{Servers: n.e.cfg.Members()})
}
func (n *interactionClient) Message(c sim.ConnID, from sim.NodeID, m any) {
	n.c.HandleMessage(c, from, m)
}
func (n *interactionClient) Connected(c sim.ConnID, p sim.NodeID) { n.c.HandleConnected(c, p) }
func (n *interactionClient) Closed(c sim.ConnID, p sim.NodeID)    { n.c.HandleClosed(c, p) }
func (n *interactionClient) Timer(id sim.TimerID, tag any)        { n.c.HandleTimer(id, tag) }
