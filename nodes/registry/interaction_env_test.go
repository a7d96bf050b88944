package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// Transcript tests in the style of etcd raft's interaction tests: each file
// in testdata/ is a list of commands (add-nodes, publish, crash, stabilize,
// show, ...) with the output they must produce. Run with -rewrite to
// regenerate the expected output, then review it as a diff. The handlers
// live in one file per command group (interaction_handler_*_test.go).
//
// Every file runs twice on fresh worlds: the output must match the file
// both times and the two runs must end with the same fingerprint.
func TestInteraction(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		var fps []uint64
		for range 2 {
			e := newInteractionEnv()
			datadriven.RunTest(t, path, e.handle)
			require.NotNil(t, e.w, "%s: no add-nodes", filepath.Base(path))
			fps = append(fps, e.w.Fingerprint())
		}
		require.Equal(t, fps[0], fps[1], "same commands, same fingerprint")
	})
}

// interactionEnv is one world driven by transcript commands. Output
// collects what happened since the command began: node trace events that
// pass the filter, client callbacks and invariant violations.
type interactionEnv struct {
	w       *sim.World
	cfg     Config
	clients map[sim.NodeID]*clientHost
	names   []sim.NodeID // clients, in the order they were added
	out     bytes.Buffer
	events  map[string]bool // node trace events printed
	partial []byte          // an unfinished trace line
}

func newInteractionEnv() *interactionEnv {
	return &interactionEnv{clients: map[sim.NodeID]*clientHost{}, events: map[string]bool{
		"registry/meta-leader":    true,
		"registry/table":          true,
		"registry/lease-expired":  true,
		"registry/migrated":       true,
		"registry/push-abandoned": true,
		"raftkv/fatal":            true,
	}}
}

// handle runs one command and returns its output ("ok" when silent).
func (e *interactionEnv) handle(t *testing.T, d *datadriven.TestData) string {
	e.out.Reset()
	var err error
	if e.w == nil && d.Cmd != "add-nodes" {
		d.Fatalf(t, "the first command must be add-nodes")
	}
	switch d.Cmd {
	case "add-nodes":
		// add-nodes metas=3 data=2 sessions=2 slots=16 seed=1
		// add-nodes clients=(c1, c2)
		err = e.handleAddNodes(t, d)
	case "crash", "restart", "pause", "resume":
		// crash data-1 @c1 @meta-leader
		err = e.handleProcess(t, d)
	case "partition":
		// partition c1 | session-1 session-2   (groups cut off from each other)
		// partition isolate=meta-1
		err = e.handlePartition(t, d)
	case "clock-jump":
		// clock-jump data-1 -10s
		err = e.handleClockJump(t, d)
	case "heal":
		err = e.handleHeal()
	case "arm", "disarm":
		// arm bug/registry/late-cleanup-deletes-reregistered [nodes=(data-1)]
		err = e.handleFailpoint(t, d)
	case "run-for":
		// run-for 2s
		err = e.handleRunFor(t, d)
	case "stabilize":
		// stabilize [max=60s] [why]: run until the cluster settled (see unsettled)
		err = e.handleStabilize(t, d)
	case "publish", "unpublish", "subscribe":
		// publish c1 svc p1 value
		// unpublish c1 p1
		// subscribe c1 svc s1
		err = e.handleClientOp(t, d)
	case "show":
		// show table | meta | <node> | @meta-leader | @c1
		err = e.handleShow(t, d)
	case "trace":
		// trace +registry/table-installed -registry/table
		e.handleTrace(d)
	default:
		d.Fatalf(t, "unknown command %q", d.Cmd)
	}
	if err != nil {
		fmt.Fprintf(&e.out, "error: %v\n", err)
	}
	if e.out.Len() == 0 {
		return "ok\n"
	}
	return e.out.String()
}

// Write receives the world's trace (JSON lines) and prints the records
// that pass the filter.
func (e *interactionEnv) Write(b []byte) (int, error) {
	e.partial = append(e.partial, b...)
	for {
		i := bytes.IndexByte(e.partial, '\n')
		if i < 0 {
			return len(b), nil
		}
		var r sim.TraceRecord
		if err := json.Unmarshal(e.partial[:i], &r); err != nil {
			return 0, err
		}
		e.partial = e.partial[i+1:]
		e.traceRecord(&r)
	}
}

func (e *interactionEnv) traceRecord(r *sim.TraceRecord) {
	at := time.Duration(r.T)
	switch r.Kind {
	case "trace":
		if e.events[r.Event] {
			e.logf(at, "%s %s %s", r.Node, r.Event, strings.Join(r.Fields, " "))
		}
	case "panic":
		e.logf(at, "%s PANIC %s", r.Node, r.Event)
	case "crash":
		if r.Event != "fault" && r.Event != "restart" { // those are the transcript's own commands
			e.logf(at, "%s down: %s", r.Node, r.Event)
		}
	}
}

// logf prints one timed line.
func (e *interactionEnv) logf(at time.Duration, format string, args ...any) {
	line := strings.TrimRight(fmt.Sprintf(format, args...), " ")
	fmt.Fprintf(&e.out, "%8s %s\n", at.Round(time.Millisecond), line)
}

func (e *interactionEnv) handleTrace(d *datadriven.TestData) {
	for _, a := range d.CmdArgs {
		switch {
		case strings.HasPrefix(a.Key, "+"):
			e.events[a.Key[1:]] = true
		case strings.HasPrefix(a.Key, "-"):
			delete(e.events, a.Key[1:])
		}
	}
	fmt.Fprintf(&e.out, "tracing %s\n", strings.Join(slices.Sorted(maps.Keys(e.events)), " "))
}

// runUntil runs the world to virtual time at (a zero Until would mean no
// bound: at time zero it runs to 1ns, before any message can arrive).
func (e *interactionEnv) runUntil(at time.Duration) {
	e.w.Run(sim.Limits{Until: max(at, time.Nanosecond)})
}

// now runs fn as a harness event at the current virtual time (node
// environments may only be used while the world runs).
func (e *interactionEnv) now(fn func()) {
	e.w.After(0, fn)
	e.runUntil(e.w.Now())
}

// resolve names a node: a plain name, @meta-leader, or @<client> for the
// session server the client is connected to.
func (e *interactionEnv) resolve(name string) (sim.NodeID, error) {
	switch {
	case name == "@meta-leader":
		if m := e.metaLeader(); m != nil {
			return m.env.ID(), nil
		}
		return "", fmt.Errorf("no meta leader")
	case strings.HasPrefix(name, "@"):
		h := e.clients[sim.NodeID(name[1:])]
		if h == nil || h.c == nil || h.c.Session() == "" {
			return "", fmt.Errorf("%s: not a connected client", name[1:])
		}
		return h.c.Session(), nil
	}
	id := sim.NodeID(name)
	if !slices.Contains(e.w.NodeIDs(), id) {
		return "", fmt.Errorf("unknown node %q", name)
	}
	return id, nil
}

// nodesArg resolves the positional arguments of a command.
func (e *interactionEnv) nodesArg(d *datadriven.TestData) ([]sim.NodeID, error) {
	var out []sim.NodeID
	for _, a := range d.CmdArgs {
		if len(a.Vals) > 0 {
			continue
		}
		id, err := e.resolve(a.Key)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

// metaLeader is the meta server acting as meta leader, or nil.
func (e *interactionEnv) metaLeader() *MetaServer {
	var found *MetaServer
	for _, id := range e.cfg.Metas {
		if m, ok := e.w.Node(id).(*MetaServer); ok && m.Status().MetaLeader {
			if found != nil {
				return nil // two believe they lead: not settled
			}
			found = m
		}
	}
	return found
}

func (e *interactionEnv) data(id sim.NodeID) *DataServer {
	d, _ := e.w.Node(id).(*DataServer)
	return d
}

func (e *interactionEnv) session(id sim.NodeID) *SessionServer {
	s, _ := e.w.Node(id).(*SessionServer)
	return s
}
