package transcript

import (
	"fmt"
	"slices"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/sofasim/sofasim/sim"
)

// Resolve names a node: one of the system's aliases (see Env.Alias) or a
// node's name.
func (e *Env) Resolve(name string) (sim.NodeID, error) {
	id := sim.NodeID(name)
	if e.Alias != nil {
		var err error
		if id, err = e.Alias(name); err != nil {
			return "", err
		}
	}
	if !slices.Contains(e.World.NodeIDs(), id) {
		return "", fmt.Errorf("unknown node %q", name)
	}
	return id, nil
}

// NodesArg resolves the positional arguments of a command (those without
// a value).
func (e *Env) NodesArg(d *datadriven.TestData) ([]sim.NodeID, error) {
	var out []sim.NodeID
	for _, a := range d.CmdArgs {
		if len(a.Vals) > 0 {
			continue
		}
		id, err := e.Resolve(a.Key)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

// ScanArgs scans key=value arguments into the pointers of into (a
// *[]string takes all the values, anything else one, as CmdArg.Scan) and
// fails the test on a key it does not list.
func ScanArgs(t *testing.T, d *datadriven.TestData, args []datadriven.CmdArg, into map[string]any) {
	for _, a := range args {
		switch p := into[a.Key].(type) {
		case nil:
			d.Fatalf(t, "%s: unknown argument %q", d.Cmd, a.Key)
		case *[]string:
			*p = a.Vals
		default:
			a.Scan(t, 0, p)
		}
	}
}
