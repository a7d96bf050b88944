package transcript_test

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/sofasim/sofasim/sim"
	"github.com/sofasim/sofasim/sim/transcript"
)

// TestTranscript drives a toy gossip system through every generic command
// (testdata/*.txt): each node holds a number, bump raises it, and every
// 100ms each node sends its number to the others, who keep the highest.
func TestTranscript(t *testing.T) {
	transcript.Run(t, "testdata", newToyEnv)
}

type toyEnv struct {
	transcript.Env
	ids []sim.NodeID
}

func newToyEnv() *transcript.Env {
	e := &toyEnv{}
	e.Env = transcript.Env{
		Commands: map[string]transcript.Handler{
			"add-nodes": e.handleAddNodes, // add-nodes 3 [seed=1]
			"bump":      e.handleBump,     // bump n1
			"show":      e.handleShow,     // show: each node's number and wall clock
		},
		Events:    map[string]bool{"toy/learned": true},
		Alias:     e.alias,
		Unsettled: e.unsettled,
		Step:      50 * time.Millisecond,
		MaxWait:   10 * time.Second,
	}
	return &e.Env
}

func (e *toyEnv) handleAddNodes(t *testing.T, d *datadriven.TestData) error {
	n, err := strconv.Atoi(d.CmdArgs[0].Key)
	if err != nil {
		d.Fatalf(t, "add-nodes <n>: %v", err)
	}
	seed := 1
	transcript.ScanArgs(t, d, d.CmdArgs[1:], map[string]any{"seed": &seed})
	for i := range n {
		e.ids = append(e.ids, sim.NodeID("n"+strconv.Itoa(i+1)))
	}
	e.World = sim.NewWorld(sim.Config{Seed: uint64(seed), Trace: &e.Env})
	for _, id := range e.ids {
		e.World.AddNode(id, func() sim.Node { return &toyNode{peers: e.ids} })
	}
	e.RunUntil(e.World.Now())
	e.Printf("nodes %v\n", e.ids)
	return nil
}

func (e *toyEnv) node(id sim.NodeID) *toyNode {
	n, _ := e.World.Node(id).(*toyNode)
	return n
}

func (e *toyEnv) handleBump(t *testing.T, d *datadriven.TestData) error {
	ids, err := e.NodesArg(d)
	if err != nil {
		return err
	}
	if len(ids) != 1 || e.node(ids[0]) == nil {
		return fmt.Errorf("bump: name one running node")
	}
	n := e.node(ids[0])
	e.RunNow(func() { n.v++ })
	e.Printf("%s has %d\n", ids[0], n.v)
	return nil
}

func (e *toyEnv) handleShow(*testing.T, *datadriven.TestData) error {
	for _, id := range e.ids {
		if n := e.node(id); n != nil {
			e.Printf("%s v=%d clock %v\n", id, n.v, n.env.Now().Sub(sim.Epoch).Round(time.Millisecond))
		} else {
			e.Printf("%s down\n", id)
		}
	}
	return nil
}

// alias resolves "top": the running node with the highest number (the
// first such in name order).
func (e *toyEnv) alias(name string) (sim.NodeID, error) {
	if name != "top" {
		return sim.NodeID(name), nil
	}
	var top *toyNode
	for _, id := range e.ids {
		if n := e.node(id); n != nil && (top == nil || n.v > top.v) {
			top = n
		}
	}
	if top == nil {
		return "", fmt.Errorf("no node runs")
	}
	return top.env.ID(), nil
}

// unsettled: every running node holds the highest number among them.
func (e *toyEnv) unsettled() string {
	var running []*toyNode
	for _, id := range e.ids {
		if n := e.node(id); n != nil {
			running = append(running, n)
		}
	}
	if len(running) == 0 {
		return ""
	}
	top := slices.MaxFunc(running, func(a, b *toyNode) int { return a.v - b.v })
	for _, n := range running {
		if n.v != top.v {
			return fmt.Sprintf("%s has %d, %s has %d", n.env.ID(), n.v, top.env.ID(), top.v)
		}
	}
	return ""
}

// toyNode gossips its number every 100ms unless bug/toy/mute is armed on
// it; bug/toy/panic makes it panic on its next beat.
type toyNode struct {
	sim.BaseNode
	env   *sim.Env
	peers []sim.NodeID
	v     int
}

type beat struct{ v int }

func (b beat) Digest() uint64 { return uint64(b.v) }

func (n *toyNode) Start(env *sim.Env) {
	n.env = env
	env.SetTimer(100*time.Millisecond, nil)
}

func (n *toyNode) Timer(sim.TimerID, any) {
	if _, ok := n.env.Failpoint("bug/toy/panic"); ok {
		panic("toy panic")
	}
	if _, ok := n.env.Failpoint("bug/toy/mute"); !ok {
		for _, p := range n.peers {
			if p != n.env.ID() {
				n.env.SendDatagram(p, beat{n.v})
			}
		}
	}
	n.env.SetTimer(100*time.Millisecond, nil)
}

func (n *toyNode) Datagram(from sim.NodeID, m any) {
	if b := m.(beat); b.v > n.v {
		n.v = b.v
		n.env.Trace("toy/learned", "v="+strconv.Itoa(b.v), "from="+string(from))
	}
}
