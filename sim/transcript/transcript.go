// Package transcript runs transcript tests of simulated systems, in the
// style of etcd raft's interaction tests: a test is a text file of commands
// (add-nodes, crash, partition, stabilize, ...) with the output each must
// produce, read by cockroachdb/datadriven (-rewrite regenerates the
// expected output, to be reviewed as a diff).
//
// Env holds what every system shares: the world, the output of the
// current command, the trace filter and the generic commands (process,
// network, clock and failpoint faults, run-for, stabilize, trace). A system
// embeds it and adds its own commands (building the cluster, its client
// operations, its state dumps), a name resolver and a settled predicate.
package transcript

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// Handler runs one command. Its output goes to Env.Printf and Env.Logf; an
// error is printed as the command's last line ("error: ...").
type Handler func(t *testing.T, d *datadriven.TestData) error

// Env is one world driven by transcript commands. Set the hooks before the
// first command; the system's add-nodes command creates World with the Env
// as its trace writer.
type Env struct {
	World *sim.World
	// Commands are the system's own commands; "add-nodes" must build World
	// (every transcript starts with it).
	Commands map[string]Handler
	// Events are the node trace events printed (trace +e -e edits them).
	Events map[string]bool
	// Alias maps the system's own names for nodes (such as "leader") to a
	// node; it returns any other name unchanged. Nil: plain names only.
	Alias func(name string) (sim.NodeID, error)
	// Unsettled says why the system has not settled, or "" when it has:
	// stabilize runs in steps of Step until it returns "", for at most
	// MaxWait unless max= says otherwise.
	Unsettled     func() string
	Step, MaxWait time.Duration

	out     bytes.Buffer
	partial []byte // an unfinished trace line
}

// Run runs every file under dir twice, each time on a fresh Env from
// newEnv: the output must match the file both times and both runs must
// end with the same fingerprint.
func Run(t *testing.T, dir string, newEnv func() *Env) {
	datadriven.Walk(t, dir, func(t *testing.T, path string) {
		var fps []uint64
		for range 2 {
			e := newEnv()
			datadriven.RunTest(t, path, e.Handle)
			require.NotNil(t, e.World, "%s: no add-nodes", filepath.Base(path))
			fps = append(fps, e.World.Fingerprint())
		}
		require.Equal(t, fps[0], fps[1], "same commands, same fingerprint")
	})
}

// Handle runs one command and returns its output ("ok" when silent).
func (e *Env) Handle(t *testing.T, d *datadriven.TestData) string {
	e.out.Reset()
	if e.World == nil && d.Cmd != "add-nodes" {
		d.Fatalf(t, "the first command must be add-nodes")
	}
	h := e.Commands[d.Cmd]
	if h == nil {
		h = e.generic(d.Cmd)
	}
	if h == nil {
		d.Fatalf(t, "unknown command %q", d.Cmd)
	}
	if err := h(t, d); err != nil {
		e.Printf("error: %v\n", err)
	}
	if e.out.Len() == 0 {
		return "ok\n"
	}
	return e.out.String()
}

// generic is the handler of a command every system has, or nil.
func (e *Env) generic(cmd string) Handler {
	switch cmd {
	case "crash", "restart", "pause", "resume":
		// crash s1 leader
		return e.handleProcess
	case "partition":
		// partition c1 | s1 s2   (groups cut off from each other)
		// partition isolate=s1
		return e.handlePartition
	case "heal":
		return e.handleHeal
	case "clock-jump":
		// clock-jump s1 -10s
		return e.handleClockJump
	case "arm", "disarm":
		// arm bug/registry/late-cleanup-deletes-reregistered [nodes=(data-1)] [ppm=N]
		return e.handleFailpoint
	case "run-for":
		// run-for 2s
		return e.handleRunFor
	case "stabilize":
		// stabilize [max=60s] [why]
		return e.handleStabilize
	case "trace":
		// trace +registry/table-installed -registry/table
		return e.handleTrace
	}
	return nil
}

// Printf adds to the command's output.
func (e *Env) Printf(format string, args ...any) {
	fmt.Fprintf(&e.out, format, args...)
}

// Logf adds one line stamped with the current virtual time.
func (e *Env) Logf(format string, args ...any) {
	e.logAt(e.World.Now(), format, args...)
}

func (e *Env) logAt(at time.Duration, format string, args ...any) {
	line := strings.TrimRight(fmt.Sprintf(format, args...), " ")
	e.Printf("%8s %s\n", at.Round(time.Millisecond), line)
}

// RunUntil runs the world to virtual time at (a zero Until would mean no
// bound: at time zero it runs to 1ns, before any message can arrive).
func (e *Env) RunUntil(at time.Duration) {
	e.World.Run(sim.Limits{Until: max(at, time.Nanosecond)})
}

// RunNow runs fn as a harness event at the current virtual time (node
// environments may only be used while the world runs).
func (e *Env) RunNow(fn func()) {
	e.World.After(0, fn)
	e.RunUntil(e.World.Now())
}
