package raftkv

import (
	"fmt"
	"testing"
	"time"

	"github.com/sofasim/sofasim/sim"
	"github.com/sofasim/sofasim/sim/transcript"
)

// TestInteraction runs the transcripts in testdata/ (see sim/transcript):
// whole servers (WAL, snapshots, Ready loop) on the simulated network, one
// level up from etcd raft's own interaction tests. raftkv's commands are in
// interaction_handler_*_test.go, one file per command group.
func TestInteraction(t *testing.T) {
	transcript.Run(t, "testdata", newInteractionEnv)
}

// interactionEnv is one raftkv cluster and one client node ("client")
// driven by transcript commands; "leader" names the current leader.
type interactionEnv struct {
	transcript.Env
	cfg    ServerConfig
	client *interactionClient
}

func newInteractionEnv() *transcript.Env {
	e := &interactionEnv{}
	e.Env = transcript.Env{
		Commands: map[string]transcript.Handler{
			// add-nodes 3 [spares=1] [snapshot-every=5] [catch-up=2] [seed=1]
			"add-nodes": e.handleAddNodes,
			// propose put k v | propose get k | propose append k v | propose delete k
			"propose": e.handlePropose,
			// campaign s2 (the leader hands leadership to s2)
			// add-member s4 | remove-member s1
			"campaign": e.handleAdmin, "add-member": e.handleAdmin, "remove-member": e.handleAdmin,
			// status [s1 s2]
			"status": e.handleStatus,
			// kv s1: the server's key-value state
			"kv": e.handleKV,
		},
		Events: map[string]bool{
			"raftkv/leader": true, "raftkv/snapshot": true, "raftkv/installed-snapshot": true,
			"raftkv/recovered": true, "raftkv/conf-change": true, "raftkv/fatal": true, "raftkv/bug": true,
		},
		Alias:     e.alias,
		Unsettled: e.unsettled,
		Step:      10 * time.Millisecond,
		MaxWait:   30 * time.Second,
	}
	return &e.Env
}

func (e *interactionEnv) server(id sim.NodeID) *Server {
	s, _ := e.World.Node(id).(*Server)
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

// alias resolves "leader".
func (e *interactionEnv) alias(name string) (sim.NodeID, error) {
	if name != "leader" {
		return sim.NodeID(name), nil
	}
	if l := e.leader(); l != nil {
		return l.cfg.ID, nil
	}
	return "", fmt.Errorf("no leader")
}
