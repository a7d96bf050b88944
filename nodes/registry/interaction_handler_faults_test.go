package registry

import (
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/sofasim/sofasim/sim"
)

// handleProcess crashes, restarts, pauses or resumes the named nodes.
func (e *interactionEnv) handleProcess(t *testing.T, d *datadriven.TestData) error {
	ids, err := e.nodesArg(d)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		d.Fatalf(t, "%s: name the nodes", d.Cmd)
	}
	kind := map[string]sim.FaultKind{"crash": sim.FaultCrash, "restart": sim.FaultRestart,
		"pause": sim.FaultPause, "resume": sim.FaultResume}[d.Cmd]
	if err := e.w.Inject(sim.Fault{Kind: kind, Nodes: ids}); err != nil {
		return err
	}
	fmt.Fprintf(&e.out, "%s %v\n", d.Cmd, ids)
	e.runUntil(e.w.Now()) // a restart starts the node now
	return nil
}

// handlePartition adds a partition: groups separated by "|" are cut off
// from each other (nodes in no group talk to everyone), or isolate=<node>
// cuts one node off from all others.
func (e *interactionEnv) handlePartition(t *testing.T, d *datadriven.TestData) error {
	var cuts []sim.Cut
	groups := [][]sim.NodeID{nil}
	for _, a := range d.CmdArgs {
		switch {
		case a.Key == "isolate":
			id, err := e.resolve(a.SingleVal(t))
			if err != nil {
				return err
			}
			cuts = append(cuts, sim.Isolate(id, e.w.NodeIDs())...)
		case a.Key == "|":
			groups = append(groups, nil)
		default:
			id, err := e.resolve(a.Key)
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
	if err := e.w.Inject(sim.Fault{Kind: sim.FaultPartition, Cuts: cuts}); err != nil {
		return err
	}
	for _, c := range cuts {
		fmt.Fprintf(&e.out, "cut %s\n", c)
	}
	return nil
}

// handleHeal removes every partition.
func (e *interactionEnv) handleHeal() error {
	return e.w.Inject(sim.Fault{Kind: sim.FaultHeal})
}

// handleFailpoint arms or disarms a failpoint (a planted bug, or the
// nemesis's push failures), on every node or on nodes=(...).
func (e *interactionEnv) handleFailpoint(t *testing.T, d *datadriven.TestData) error {
	if len(d.CmdArgs) == 0 {
		d.Fatalf(t, "%s: name the failpoint", d.Cmd)
	}
	f := sim.Fault{Kind: sim.FaultDisarm, Failpoint: d.CmdArgs[0].Key}
	if d.Cmd == "arm" {
		f.Kind = sim.FaultArm
		for _, a := range d.CmdArgs[1:] {
			if a.Key == "ppm" {
				a.Scan(t, 0, &f.PPM)
			}
			if a.Key == "nodes" {
				for _, v := range a.Vals {
					id, err := e.resolve(v)
					if err != nil {
						return err
					}
					f.Nodes = append(f.Nodes, id)
				}
			}
		}
	}
	if err := e.w.Inject(f); err != nil {
		return err
	}
	fmt.Fprintf(&e.out, "%s %s\n", d.Cmd, f.Failpoint)
	return nil
}

// handleClockJump moves a node's wall clock: clock-jump <node> <signed duration>.
func (e *interactionEnv) handleClockJump(t *testing.T, d *datadriven.TestData) error {
	if len(d.CmdArgs) != 2 {
		d.Fatalf(t, "clock-jump <node> <duration>")
	}
	id, err := e.resolve(d.CmdArgs[0].Key)
	if err != nil {
		return err
	}
	jump, err := time.ParseDuration(d.CmdArgs[1].Key)
	if err != nil {
		return err
	}
	if err := e.w.Inject(sim.Fault{Kind: sim.FaultClockJump, Nodes: []sim.NodeID{id}, Jump: sim.Duration(jump)}); err != nil {
		return err
	}
	fmt.Fprintf(&e.out, "%s clock %+v\n", id, jump)
	return nil
}
