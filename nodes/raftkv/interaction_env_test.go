package raftkv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// Transcript tests in the style of etcd raft's interaction tests, one level
// up: whole servers (WAL, snapshots, Ready loop) on the simulated network,
// driven by commands in testdata/*.txt (add-nodes, campaign, propose,
// crash, restart, partition, stabilize, status, ...) with the output they
// must produce. Run with -rewrite to regenerate the expected output. The
// handlers live in one file per command group (interaction_handler_*_test.go).
//
// Every file runs twice on fresh worlds: the output must match the file
// both times and the two runs must end with the same fingerprint.
func TestInteraction(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		var fps []uint64
		for range 2 {
			e := &interactionEnv{events: map[string]bool{
				"raftkv/leader": true, "raftkv/snapshot": true, "raftkv/installed-snapshot": true,
				"raftkv/recovered": true, "raftkv/conf-change": true, "raftkv/fatal": true, "raftkv/bug": true,
			}}
			datadriven.RunTest(t, path, e.handle)
			require.NotNil(t, e.w, "%s: no add-nodes", filepath.Base(path))
			fps = append(fps, e.w.Fingerprint())
		}
		require.Equal(t, fps[0], fps[1], "same commands, same fingerprint")
	})
}

// interactionEnv is one raftkv cluster and one client node ("client")
// driven by transcript commands. Output collects the node trace events that
// pass the filter and the client's results since the command began.
type interactionEnv struct {
	w       *sim.World
	cfg     ServerConfig
	client  *interactionClient
	out     bytes.Buffer
	events  map[string]bool
	partial []byte
}

func (e *interactionEnv) handle(t *testing.T, d *datadriven.TestData) string {
	e.out.Reset()
	if e.w == nil && d.Cmd != "add-nodes" {
		d.Fatalf(t, "the first command must be add-nodes")
	}
	var err error
	switch d.Cmd {
	case "add-nodes":
		// add-nodes 3 [spares=1] [snapshot-every=5] [catch-up=2] [seed=1]
		err = e.handleAddNodes(t, d)
	case "crash", "restart", "pause", "resume":
		// crash s1 leader
		err = e.handleProcess(t, d)
	case "partition":
		// partition s1 | s2 s3
		err = e.handlePartition(t, d)
	case "heal":
		err = e.w.Inject(sim.Heal{})
	case "propose":
		// propose put k v | propose get k | propose append k v | propose delete k
		err = e.handlePropose(t, d)
	case "campaign", "add-member", "remove-member":
		// campaign s2 (the leader hands leadership to s2)
		// add-member s4 | remove-member s1
		err = e.handleAdmin(t, d)
	case "run-for":
		// run-for 1s
		err = e.handleRunFor(t, d)
	case "stabilize":
		// stabilize [max=30s]
		err = e.handleStabilize(t, d)
	case "status":
		// status [s1 s2]
		err = e.handleStatus(t, d)
	case "kv":
		// kv s1: the server's key-value state
		err = e.handleKV(t, d)
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
		at := time.Duration(r.T)
		switch {
		case r.Kind == "trace" && e.events[r.Event]:
			e.logf(at, "%s %s %s", r.Node, r.Event, strings.Join(r.Fields, " "))
		case r.Kind == "panic":
			e.logf(at, "%s PANIC %s", r.Node, r.Event)
		case r.Kind == "crash" && r.Event != "fault" && r.Event != "restart":
			e.logf(at, "%s down: %s", r.Node, r.Event)
		}
	}
}

func (e *interactionEnv) logf(at time.Duration, format string, args ...any) {
	line := strings.TrimRight(fmt.Sprintf(format, args...), " ")
	fmt.Fprintf(&e.out, "%8s %s\n", at.Round(time.Millisecond), line)
}

// runUntil runs the world to virtual time at (a zero Until would mean no
// bound: at time zero it runs to 1ns, before any message can arrive).
func (e *interactionEnv) runUntil(at time.Duration) {
	e.w.Run(sim.Limits{Until: max(at, time.Nanosecond)})
}

// now runs fn as a harness event at the current virtual time.
func (e *interactionEnv) now(fn func()) {
	e.w.After(0, fn)
	e.runUntil(e.w.Now())
}

func (e *interactionEnv) server(id sim.NodeID) *Server {
	s, _ := e.w.Node(id).(*Server)
	return s
}

// leader is the running server that leads with the highest term, or nil.
func (e *interactionEnv) leader() *Server {
	var best *Server
	for _, id := range e.cfg.Members() {
		if s := e.server(id); s != nil && s.IsLeader() && (best == nil || s.Status().Term > best.Status().Term) {
			best = s
		}
	}
	return best
}

// resolve names a server: a name, or "leader".
func (e *interactionEnv) resolve(name string) (sim.NodeID, error) {
	if name == "leader" {
		if l := e.leader(); l != nil {
			return l.cfg.ID, nil
		}
		return "", fmt.Errorf("no leader")
	}
	if !slices.Contains(e.w.NodeIDs(), sim.NodeID(name)) {
		return "", fmt.Errorf("unknown node %q", name)
	}
	return sim.NodeID(name), nil
}

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
