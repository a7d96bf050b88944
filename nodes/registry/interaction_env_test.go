package registry

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sofasim/sofasim/sim"
	"github.com/sofasim/sofasim/sim/transcript"
)

// TestInteraction runs the transcripts in testdata/ (see sim/transcript),
// each a registry scenario told as commands: add-nodes, publish, crash,
// stabilize, show. The registry's commands are in
// interaction_handler_*_test.go, one file per command group.
func TestInteraction(t *testing.T) {
	transcript.Run(t, "testdata", newInteractionEnv)
}

// interactionEnv is one registry driven by transcript commands; its output
// also has the clients' callbacks and invariant violations.
// @meta-leader names the meta leader, @<client> the client's session.
type interactionEnv struct {
	transcript.Env
	cfg     Config
	clients map[sim.NodeID]*clientHost
	names   []sim.NodeID // clients, in the order they were added
}

func newInteractionEnv() *transcript.Env {
	e := &interactionEnv{clients: map[sim.NodeID]*clientHost{}}
	e.Env = transcript.Env{
		Commands: map[string]transcript.Handler{
			// add-nodes metas=3 data=2 sessions=2 slots=16 seed=1
			// add-nodes clients=(c1, c2)
			"add-nodes": e.handleAddNodes,
			// publish c1 svc p1 value | unpublish c1 p1 | subscribe c1 svc s1
			"publish": e.handleClientOp, "unpublish": e.handleClientOp, "subscribe": e.handleClientOp,
			// show table | meta | <node> | @meta-leader | @c1
			"show": e.handleShow,
		},
		Events: map[string]bool{
			"registry/meta-leader":    true,
			"registry/table":          true,
			"registry/lease-expired":  true,
			"registry/migrated":       true,
			"registry/push-abandoned": true,
			"raftkv/fatal":            true,
		},
		Alias:     e.alias,
		Unsettled: e.unsettled,
		Step:      100 * time.Millisecond,
		MaxWait:   time.Minute,
	}
	return &e.Env
}

// alias resolves @meta-leader and @<client> (the session server the client
// is connected to).
func (e *interactionEnv) alias(name string) (sim.NodeID, error) {
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
	return sim.NodeID(name), nil
}

// metaLeader is the meta server acting as meta leader, or nil.
func (e *interactionEnv) metaLeader() *MetaServer {
	var found *MetaServer
	for _, id := range e.cfg.Metas {
		if m, ok := e.World.Node(id).(*MetaServer); ok && m.Status().MetaLeader {
			if found != nil {
				return nil // two believe they lead: not settled
			}
			found = m
		}
	}
	return found
}

func (e *interactionEnv) data(id sim.NodeID) *DataServer {
	d, _ := e.World.Node(id).(*DataServer)
	return d
}

func (e *interactionEnv) session(id sim.NodeID) *SessionServer {
	s, _ := e.World.Node(id).(*SessionServer)
	return s
}
