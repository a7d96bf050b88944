package raftkv

// Configuration of a member and how members are named: raft ids are positions in
// Peers then Spares, a map every server and client must share.

import (
	"errors"
	"fmt"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// ServerConfig configures one member. Every server of a cluster (and every
// client) must be given the same Peers and Spares, in the same order: they
// define the stable map between node names and raft ids.
type ServerConfig struct {
	// ID is this server's node name; it must appear in Peers or Spares.
	ID sim.NodeID
	// Peers are the initial members, in order: raft ids 1..len(Peers).
	Peers []sim.NodeID
	// Spares are servers that may be added later, in order: raft ids
	// len(Peers)+1, ... A spare starts with an empty disk and waits to be
	// added. Raft ids are never reused: a removed member must not be added
	// back with its old disk.
	Spares []sim.NodeID
	// NewStateMachine builds the replicated state machine (empty). It is
	// called on every start; recovery fills it from the snapshot and log.
	// Nil means the KV store.
	NewStateMachine func() StateMachine
	// SnapshotEvery is the number of applied entries between snapshots
	// (default 1000). A snapshot is also taken after every membership
	// change, so that a new member can be sent one that includes it.
	SnapshotEvery uint64
	// CatchUpEntries is the number of entries kept in the log behind a
	// snapshot, for followers that lag a little (default 100); followers
	// further behind are sent the snapshot.
	CatchUpEntries uint64
	// TickInterval is the raft tick (default 10ms).
	TickInterval time.Duration
	// ElectionTick and HeartbeatTick are in ticks (defaults 10 and 3:
	// elections after 100-190ms, heartbeats every 30ms, far above the
	// simulated round trip of 0.4-4ms). Idle heartbeat rounds are most of
	// a run's events and of raft's allocations, and neither reads nor
	// commits wait for them: raft sends a ReadIndex round's heartbeats and
	// a new commit index at once.
	ElectionTick, HeartbeatTick int
	// MaxSizePerMsg bounds the entries in one append message (default 1 MiB).
	MaxSizePerMsg uint64
	// MaxInflightMsgs bounds pipelined append messages per follower
	// (default 256).
	MaxInflightMsgs int
	// Observe, when set, is told protocol facts as they happen (see
	// Observation), for harness checkers; it must not call back into the
	// server. Nil reports nothing and costs nothing.
	Observe func(Observation)
	// DigestEvery reports the state machine's digest (ObsState) every this
	// many applied indexes and after every snapshot restore; 0: never.
	DigestEvery uint64
}

func (c *ServerConfig) defaults() {
	if c.NewStateMachine == nil {
		c.NewStateMachine = NewKVStateMachine
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = 1000
	}
	if c.CatchUpEntries == 0 {
		c.CatchUpEntries = 100
	}
	if c.TickInterval <= 0 {
		c.TickInterval = 10 * time.Millisecond
	}
	if c.ElectionTick <= 0 {
		c.ElectionTick = 10
	}
	if c.HeartbeatTick <= 0 {
		c.HeartbeatTick = 3
	}
	if c.MaxSizePerMsg == 0 {
		c.MaxSizePerMsg = 1 << 20
	}
	if c.MaxInflightMsgs <= 0 {
		c.MaxInflightMsgs = 256
	}
}

// Members returns every server name in raft id order (Peers, then Spares).
func (c *ServerConfig) Members() []sim.NodeID {
	return append(append([]sim.NodeID(nil), c.Peers...), c.Spares...)
}

// AddServers adds every server of the config (Peers and Spares) to the
// world, each with cfg.ID set to its own name.
func AddServers(w *sim.World, cfg ServerConfig) {
	for _, id := range cfg.Members() {
		c := cfg
		c.ID = id
		w.AddNode(id, func() sim.Node { return NewServer(c) })
	}
}

// Validate checks the config: a known ID, at least one initial member, no
// name listed twice.
func (c *ServerConfig) Validate() error {
	if len(c.Peers) == 0 {
		return errors.New("raftkv: no initial members")
	}
	seen := map[sim.NodeID]bool{}
	found := false
	for _, id := range c.Members() {
		if id == "" || seen[id] {
			return fmt.Errorf("raftkv: member %q empty or listed twice", id)
		}
		seen[id] = true
		found = found || id == c.ID
	}
	if !found {
		return fmt.Errorf("raftkv: server %q is in neither Peers nor Spares", c.ID)
	}
	return nil
}
