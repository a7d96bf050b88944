package raftkv

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/sofasim/sofasim/sim"
)

// handleAddNodes builds the cluster: add-nodes <members> [spares=N]
// [snapshot-every=N] [catch-up=N] [seed=N], servers s1.. and one client
// node.
func (e *interactionEnv) handleAddNodes(t *testing.T, d *datadriven.TestData) error {
	if e.w != nil {
		return fmt.Errorf("the cluster was built already")
	}
	members, err := strconv.Atoi(d.CmdArgs[0].Key)
	if err != nil {
		d.Fatalf(t, "add-nodes <members>: %v", err)
	}
	var spares, seed int
	cfg := ServerConfig{SnapshotEvery: 1000, CatchUpEntries: 100}
	for _, a := range d.CmdArgs[1:] {
		switch a.Key {
		case "spares":
			a.Scan(t, 0, &spares)
		case "seed":
			a.Scan(t, 0, &seed)
		case "snapshot-every":
			a.Scan(t, 0, &cfg.SnapshotEvery)
		case "catch-up":
			a.Scan(t, 0, &cfg.CatchUpEntries)
		default:
			d.Fatalf(t, "add-nodes: unknown argument %q", a.Key)
		}
	}
	for i := range members + spares {
		id := sim.NodeID("s" + strconv.Itoa(i+1))
		if i < members {
			cfg.Peers = append(cfg.Peers, id)
		} else {
			cfg.Spares = append(cfg.Spares, id)
		}
	}
	e.cfg = cfg
	e.w = sim.NewWorld(sim.Config{Seed: uint64(max(seed, 1)), Trace: e})
	AddServers(e.w, cfg)
	e.client = &interactionClient{e: e}
	e.w.AddNode("client", func() sim.Node { return e.client })
	e.runUntil(e.w.Now())
	fmt.Fprintf(&e.out, "members %v spares %v\n", cfg.Peers, cfg.Spares)
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

// handleProcess crashes, restarts, pauses or resumes the named servers.
func (e *interactionEnv) handleProcess(t *testing.T, d *datadriven.TestData) error {
	ids, err := e.nodesArg(d)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		d.Fatalf(t, "%s: name the nodes", d.Cmd)
	}
	op := map[string]sim.FaultOp{"crash": sim.Crash{Nodes: ids}, "restart": sim.Restart{Nodes: ids},
		"pause": sim.Pause{Nodes: ids}, "resume": sim.Resume{Nodes: ids}}[d.Cmd]
	if err := e.w.Inject(op); err != nil {
		return err
	}
	fmt.Fprintf(&e.out, "%s %v\n", d.Cmd, ids)
	e.runUntil(e.w.Now()) // a restart recovers now
	return nil
}

// handlePartition cuts groups separated by "|" off from each other.
func (e *interactionEnv) handlePartition(t *testing.T, d *datadriven.TestData) error {
	groups := [][]sim.NodeID{nil}
	for _, a := range d.CmdArgs {
		if a.Key == "|" {
			groups = append(groups, nil)
			continue
		}
		id, err := e.resolve(a.Key)
		if err != nil {
			return err
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], id)
	}
	cuts := sim.Split(groups...)
	if len(cuts) == 0 {
		d.Fatalf(t, "partition: no cuts")
	}
	for _, c := range cuts {
		fmt.Fprintf(&e.out, "cut %s\n", c)
	}
	return e.w.Inject(sim.Partition{Cuts: cuts})
}
