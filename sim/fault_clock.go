package sim

import (
	"fmt"
	"strings"
	"time"
)

// Clock faults: jump a wall clock, change a clock's rate.

const (
	FaultClockJump FaultKind = "clock-jump"
	FaultClockSkew FaultKind = "clock-skew"
)

func init() {
	defineFault[ClockJump]("move the nodes' wall clocks by jump (signed); timers do not move")
	defineFault[ClockSkew]("set the nodes' clock drift in ppm (0: run true again); timers stretch with it")
}

// ClockJump moves the nodes' wall clocks by Jump (signed).
type ClockJump struct {
	Nodes []NodeID `json:"nodes,omitempty"`
	Jump  Duration `json:"jump"`
}

// ClockSkew sets the nodes' clock drift to DriftPPM, until another
// ClockSkew; 0 makes them run true again.
type ClockSkew struct {
	Nodes    []NodeID `json:"nodes,omitempty"`
	DriftPPM int64    `json:"drift_ppm,omitempty"`
}

func (ClockJump) Kind() FaultKind { return FaultClockJump }
func (ClockSkew) Kind() FaultKind { return FaultClockSkew }

func (f ClockJump) describe(b *strings.Builder) {
	describeNodes(b, f.Nodes)
	fmt.Fprintf(b, " by %v", f.Jump)
}

func (f ClockSkew) describe(b *strings.Builder) {
	describeNodes(b, f.Nodes)
	fmt.Fprintf(b, " drift %+dppm", f.DriftPPM)
}

func (f ClockJump) check(c checker) error { return c.nodes(f.Nodes, true) }

func (f ClockSkew) check(c checker) error {
	if f.DriftPPM <= -1_000_000 || f.DriftPPM >= 1_000_000 {
		return fmt.Errorf("drift_ppm %d out of (-1e6, 1e6)", f.DriftPPM)
	}
	return c.nodes(f.Nodes, true)
}

func (f ClockJump) targets() []NodeID { return f.Nodes }
func (f ClockSkew) targets() []NodeID { return f.Nodes }

func (f ClockJump) aim(n NodeID, _ []NodeID) (FaultOp, bool) { f.Nodes = []NodeID{n}; return f, true }
func (f ClockSkew) aim(n NodeID, _ []NodeID) (FaultOp, bool) { f.Nodes = []NodeID{n}; return f, true }

func (f ClockJump) apply(w *World) string {
	for _, n := range w.slots(f.Nodes) {
		n.clock.wallOff += int64(f.Jump)
	}
	return ""
}

func (f ClockSkew) apply(w *World) string {
	for _, n := range w.slots(f.Nodes) {
		n.clock.setRate(w.now, f.DriftPPM)
		w.rescheduleTimers(n)
	}
	return ""
}

func (f ClockJump) mark(t *timeline, at time.Duration, detail string) {
	label := "clock " + time.Duration(f.Jump).String()
	if f.Jump >= 0 {
		label = "clock +" + time.Duration(f.Jump).String()
	}
	for _, n := range f.Nodes {
		t.point(onNode(n), PeriodClockJump, at, label, detail)
	}
}

// A skew lasts until the next skew of the node; a skew of 0 only ends one.
func (f ClockSkew) mark(t *timeline, at time.Duration, detail string) {
	for _, n := range f.Nodes {
		t.close(onNode(n), PeriodClockSkew, at, detail)
		if f.DriftPPM != 0 {
			t.start(onNode(n), PeriodClockSkew, at, fmt.Sprintf("skew %+dppm", f.DriftPPM), detail)
		}
	}
}
