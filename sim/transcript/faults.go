package transcript

import (
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/sofasim/sofasim/sim"
)

// handleProcess crashes, restarts, pauses or resumes the named nodes.
func (e *Env) handleProcess(t *testing.T, d *datadriven.TestData) error {
	ids, err := e.NodesArg(d)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		d.Fatalf(t, "%s: name the nodes", d.Cmd)
	}
	op := map[string]sim.FaultOp{"crash": sim.Crash{Nodes: ids}, "restart": sim.Restart{Nodes: ids},
		"pause": sim.Pause{Nodes: ids}, "resume": sim.Resume{Nodes: ids}}[d.Cmd]
	if err := e.World.Inject(op); err != nil {
		return err
	}
	e.Printf("%s %v\n", d.Cmd, ids)
	e.RunUntil(e.World.Now()) // a restart starts the node now
	return nil
}

// handlePartition adds a partition: groups separated by "|" are cut off
// from each other (nodes in no group talk to everyone), or isolate=<node>
// cuts one node off from all others. It prints the cuts once they are in
// place.
func (e *Env) handlePartition(t *testing.T, d *datadriven.TestData) error {
	var cuts []sim.Cut
	groups := [][]sim.NodeID{nil}
	for _, a := range d.CmdArgs {
		switch {
		case a.Key == "isolate":
			id, err := e.Resolve(a.SingleVal(t))
			if err != nil {
				return err
			}
			cuts = append(cuts, sim.Isolate(id, e.World.NodeIDs())...)
		case a.Key == "|":
			groups = append(groups, nil)
		default:
			id, err := e.Resolve(a.Key)
			if err != nil {
				return err
			}
			groups[len(groups)-1] = append(groups[len(groups)-1], id)
		}
	}
	if len(groups) > 1 {
		cuts = append(cuts, sim.Split(groups...)...)
	}
	if len(cuts) == 0 {
		d.Fatalf(t, "partition: no cuts")
	}
	if err := e.World.Inject(sim.Partition{Cuts: cuts}); err != nil {
		return err
	}
	for _, c := range cuts {
		e.Printf("cut %s\n", c)
	}
	return nil
}

// handleHeal removes every partition.
func (e *Env) handleHeal(*testing.T, *datadriven.TestData) error {
	return e.World.Inject(sim.Heal{})
}

// handleClockJump moves a node's wall clock: clock-jump <node> <signed duration>.
func (e *Env) handleClockJump(t *testing.T, d *datadriven.TestData) error {
	if len(d.CmdArgs) != 2 {
		d.Fatalf(t, "clock-jump <node> <duration>")
	}
	id, err := e.Resolve(d.CmdArgs[0].Key)
	if err != nil {
		return err
	}
	jump, err := time.ParseDuration(d.CmdArgs[1].Key)
	if err != nil {
		return err
	}
	if err := e.World.Inject(sim.ClockJump{Nodes: []sim.NodeID{id}, Jump: sim.Duration(jump)}); err != nil {
		return err
	}
	e.Printf("%s clock %+v\n", id, jump)
	return nil
}

// handleFailpoint arms or disarms a failpoint (a planted bug, or a
// nemesis's injected failures), on every node or on nodes=(...), always or
// with probability ppm=N per million.
func (e *Env) handleFailpoint(t *testing.T, d *datadriven.TestData) error {
	if len(d.CmdArgs) == 0 {
		d.Fatalf(t, "%s: name the failpoint", d.Cmd)
	}
	name := d.CmdArgs[0].Key
	var op sim.FaultOp = sim.DisarmFailpoint{Failpoint: name}
	if d.Cmd == "arm" {
		arm := sim.ArmFailpoint{Failpoint: name}
		var nodes []string
		ScanArgs(t, d, d.CmdArgs[1:], map[string]any{"ppm": &arm.ProbabilityPPM, "nodes": &nodes})
		for _, v := range nodes {
			id, err := e.Resolve(v)
			if err != nil {
				return err
			}
			arm.Nodes = append(arm.Nodes, id)
		}
		op = arm
	}
	if err := e.World.Inject(op); err != nil {
		return err
	}
	e.Printf("%s %s\n", d.Cmd, name)
	return nil
}
