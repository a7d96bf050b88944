package sim

import (
	"fmt"
	"strings"
	"time"
)

// Process faults: crash, restart, pause and resume nodes.

const (
	FaultCrash   FaultKind = "crash"
	FaultRestart FaultKind = "restart"
	FaultPause   FaultKind = "pause"
	FaultResume  FaultKind = "resume"
)

func init() {
	defineFault[Crash]("kill the nodes' processes: timers, connections and unsynced writes are lost (torn: a torn last write)")
	defineFault[Restart]("start down nodes; crash and start running ones")
	defineFault[Pause]("stop the nodes' processes (SIGSTOP): their events wait, their connections stay")
	defineFault[Resume]("continue paused nodes")
}

// Crash kills the nodes' processes; with Torn, the last unsynced write of
// each may survive cut short. A node stays down until a Restart.
type Crash struct {
	Nodes []NodeID `json:"nodes,omitempty"`
	Torn  bool     `json:"torn,omitempty"`
}

// Restart starts down nodes, and crashes and starts running ones (Torn as
// for Crash).
type Restart struct {
	Nodes []NodeID `json:"nodes,omitempty"`
	Torn  bool     `json:"torn,omitempty"`
}

// Pause stops the nodes' processes until a Resume.
type Pause struct {
	Nodes []NodeID `json:"nodes,omitempty"`
}

// Resume continues paused nodes.
type Resume struct {
	Nodes []NodeID `json:"nodes,omitempty"`
}

func (Crash) Kind() FaultKind   { return FaultCrash }
func (Restart) Kind() FaultKind { return FaultRestart }
func (Pause) Kind() FaultKind   { return FaultPause }
func (Resume) Kind() FaultKind  { return FaultResume }

func (f Crash) describe(b *strings.Builder) {
	describeNodes(b, f.Nodes)
	if f.Torn {
		b.WriteString(" torn")
	}
}

func (f Restart) describe(b *strings.Builder) {
	describeNodes(b, f.Nodes)
	if f.Torn {
		b.WriteString(" torn")
	}
}

func (f Pause) describe(b *strings.Builder)  { describeNodes(b, f.Nodes) }
func (f Resume) describe(b *strings.Builder) { describeNodes(b, f.Nodes) }

func (f Crash) check(c checker) error   { return c.nodes(f.Nodes, true) }
func (f Restart) check(c checker) error { return c.nodes(f.Nodes, true) }
func (f Pause) check(c checker) error   { return c.nodes(f.Nodes, true) }
func (f Resume) check(c checker) error  { return c.nodes(f.Nodes, true) }

func (f Crash) targets() []NodeID   { return f.Nodes }
func (f Restart) targets() []NodeID { return f.Nodes }
func (f Pause) targets() []NodeID   { return f.Nodes }
func (f Resume) targets() []NodeID  { return f.Nodes }

func (f Crash) aim(n NodeID, _ []NodeID) (FaultOp, bool)   { f.Nodes = []NodeID{n}; return f, true }
func (f Restart) aim(n NodeID, _ []NodeID) (FaultOp, bool) { f.Nodes = []NodeID{n}; return f, true }
func (f Pause) aim(n NodeID, _ []NodeID) (FaultOp, bool)   { f.Nodes = []NodeID{n}; return f, true }
func (f Resume) aim(n NodeID, _ []NodeID) (FaultOp, bool)  { f.Nodes = []NodeID{n}; return f, true }

func (f Crash) apply(w *World) string {
	for _, n := range w.slots(f.Nodes) {
		w.crash(n, f.Torn, "fault")
	}
	return ""
}

func (f Restart) apply(w *World) string {
	for _, n := range w.slots(f.Nodes) {
		w.crash(n, f.Torn, "restart")
		w.start(n)
	}
	return ""
}

func (f Pause) apply(w *World) string {
	for _, n := range w.slots(f.Nodes) {
		w.pause(n)
	}
	return ""
}

func (f Resume) apply(w *World) string {
	for _, n := range w.slots(f.Nodes) {
		w.resume(n)
	}
	return ""
}

// A crash (or a death by panic or Exit, recorded as one) ends a pause and
// leaves the node down until a restart.
func (f Crash) mark(t *timeline, at time.Duration, detail string) {
	for _, n := range f.Nodes {
		t.close(onNode(n), PeriodPaused, at, "crash")
		t.start(onNode(n), PeriodDown, at, "down", detail)
	}
}

// A restart of a down node ends its down period; of a running one, it is a
// moment.
func (f Restart) mark(t *timeline, at time.Duration, detail string) {
	for _, n := range f.Nodes {
		if !t.close(onNode(n), PeriodDown, at, detail) {
			t.close(onNode(n), PeriodPaused, at, "restart")
			t.point(onNode(n), PeriodRestart, at, "restart", detail)
		}
	}
}

// Pausing a down node does nothing.
func (f Pause) mark(t *timeline, at time.Duration, detail string) {
	for _, n := range f.Nodes {
		if !t.isOpen(onNode(n), PeriodDown) {
			t.start(onNode(n), PeriodPaused, at, "paused", detail)
		}
	}
}

func (f Resume) mark(t *timeline, at time.Duration, detail string) {
	for _, n := range f.Nodes {
		t.close(onNode(n), PeriodPaused, at, detail)
	}
}

func describeNodes(b *strings.Builder, ids []NodeID) {
	if len(ids) > 0 {
		fmt.Fprintf(b, " %v", ids)
	}
}
