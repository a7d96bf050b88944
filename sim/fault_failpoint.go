package sim

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Failpoint faults: arm and disarm a failpoint.
//
// This file is also the model for a new kind: declare its FaultKind, its
// payload struct with JSON tags (the fields plans write), the FaultOp
// methods (describe, check, targets, aim, apply, mark) and register it in
// init with defineFault. Nothing outside the file changes: JSON, validation,
// FaultKinds, traces and Periods (hence every report) pick it up, as
// TestANewKindNeedsOnlyItsOwnFile shows.

const (
	FaultArm    FaultKind = "failpoint-arm"
	FaultDisarm FaultKind = "failpoint-disarm"
)

func init() {
	defineFault[ArmFailpoint]("arm a failpoint: it returns value with probability_ppm (0: always), at most count times (0: unlimited), on nodes (none: all)")
	defineFault[DisarmFailpoint]("disarm a failpoint")
}

// ArmFailpoint arms Failpoint with the term return(Value) (empty: true).
// Each evaluation fires with probability ProbabilityPPM (0: always), at
// most Count times (0: unlimited), on Nodes (none: every node). The
// world's own stream decides each evaluation.
type ArmFailpoint struct {
	Failpoint      string   `json:"failpoint"`
	Value          string   `json:"value,omitempty"`
	ProbabilityPPM int64    `json:"probability_ppm,omitempty"`
	Count          int      `json:"count,omitempty"`
	Nodes          []NodeID `json:"nodes,omitempty"`
}

// DisarmFailpoint disarms Failpoint.
type DisarmFailpoint struct {
	Failpoint string `json:"failpoint"`
}

func (ArmFailpoint) Kind() FaultKind    { return FaultArm }
func (DisarmFailpoint) Kind() FaultKind { return FaultDisarm }

func (f ArmFailpoint) describe(b *strings.Builder) {
	fmt.Fprintf(b, " %s", f.Failpoint)
	if f.Value != "" {
		fmt.Fprintf(b, " return(%s)", f.Value)
	}
	if f.ProbabilityPPM != 0 {
		fmt.Fprintf(b, " %dppm", f.ProbabilityPPM)
	}
	if f.Count != 0 {
		fmt.Fprintf(b, " x%d", f.Count)
	}
	if len(f.Nodes) > 0 {
		fmt.Fprintf(b, " on %v", f.Nodes)
	}
}

func (f DisarmFailpoint) describe(b *strings.Builder) { fmt.Fprintf(b, " %s", f.Failpoint) }

func (f ArmFailpoint) check(c checker) error {
	if f.Failpoint == "" {
		return errors.New("needs a failpoint name")
	}
	if err := ppm("probability_ppm", f.ProbabilityPPM); err != nil {
		return err
	}
	if f.Count < 0 {
		return fmt.Errorf("negative count %d", f.Count)
	}
	return c.nodes(f.Nodes, false)
}

func (f DisarmFailpoint) check(checker) error {
	if f.Failpoint == "" {
		return errors.New("needs a failpoint name")
	}
	return nil
}

func (f ArmFailpoint) targets() []NodeID  { return f.Nodes }
func (DisarmFailpoint) targets() []NodeID { return nil }

// Aimed at a node, a failpoint fires on that node only.
func (f ArmFailpoint) aim(n NodeID, _ []NodeID) (FaultOp, bool) {
	f.Nodes = []NodeID{n}
	return f, true
}
func (DisarmFailpoint) aim(NodeID, []NodeID) (FaultOp, bool) { return nil, false }

func (f ArmFailpoint) apply(w *World) string    { w.arm(f); return "" }
func (f DisarmFailpoint) apply(w *World) string { w.disarm(f.Failpoint); return "" }

// Arming again replaces the earlier arming, so its period ends.
func (f ArmFailpoint) mark(t *timeline, at time.Duration, detail string) {
	s := onFailpoint(f.Failpoint)
	t.close(s, PeriodFailpoint, at, detail)
	t.start(s, PeriodFailpoint, at, "armed", detail)
}

func (f DisarmFailpoint) mark(t *timeline, at time.Duration, detail string) {
	t.close(onFailpoint(f.Failpoint), PeriodFailpoint, at, detail)
}
