// Package raftkv is a replicated state machine on etcd raft
// (go.etcd.io/raft/v3), written as sans-IO sofasim nodes. The key-value
// store (KV) is one state machine on it; the registry's meta servers and the
// coordinator's TC plug in their own through the StateMachine interface.
//
// # Servers
//
// A Server is a sim.Node wrapping a raft.RawNode (never raft's goroutine
// based Node). Everything is synchronous: each input (a raft message, a
// tick, a client request, a local proposal) is stepped into raft and then
// the Ready loop runs until raft has nothing left:
//
//  1. persist: a snapshot received from the leader is written first
//     (snapshot file, then a WAL rewritten to start at it); otherwise the
//     Ready's entries and hard state are appended to the WAL with one
//     write and, when raft says so (new entries, term or vote), one sync;
//  2. send the Ready's messages, only now;
//  3. apply the snapshot and committed entries, answer the clients whose
//     writes applied and the reads whose read index is applied;
//  4. advance; every ServerConfig.SnapshotEvery entries (and after each
//     membership change) snapshot, compact the log and rewrite the WAL.
//
// A failed sync is fatal (the server exits, as Linux fsync semantics
// require); so is corruption found at start. Raft runs with CheckQuorum,
// PreVote, ReadOnlySafe and StepDownOnRemoval, a silent logger (whose Panic
// and Fatal panic, so that the kernel records a finding), ticks every
// TickInterval (10ms) on a node timer, election 10 ticks, heartbeat 3.
//
// Servers talk over one connection per peer, dialled on the first send and
// redialled after Closed. Each server-to-server connection opens with a
// Hello carrying the sender's incarnation, so a server notices that a peer
// restarted (its old connection is stale; the kernel reports the break
// only after up to a keepalive timeout) and redials at once.
//
// Raft ids are positions in ServerConfig.Peers followed by Spares (1..n),
// a map every server and client shares. Peers bootstrap with a snapshot at
// index 1, term 1 holding the initial voters and an empty state machine.
// Spares start empty and wait; AddMember makes one a voter, and it receives
// a snapshot (one is taken after every membership change, so it includes
// the new member). A removed member must not be added back with its old
// disk: raft ids are never reused.
//
// # Plugging in a state machine
//
// ServerConfig.NewStateMachine builds a StateMachine: Apply(index, cmd) for
// committed commands, Query(q) for linearizable reads, Snapshot and
// Restore. raftkv wraps it with the client session table (client session
// id -> last sequence number applied and its response), which is part of
// the replicated state and of every snapshot, so a retried write applies at
// most once. Nodes that embed a Server (forwarding the sim.Node methods;
// Message and Timer ignore what is not raftkv's) can also propose without
// a session (Server.Propose, e.g. a coordinator's own timeout sweep) and
// read linearizably (Server.Read).
//
// # Clients
//
// Client is a sans-IO library hosted by a workload node, which forwards its
// Message, Connected, Closed and Timer events to HandleMessage,
// HandleConnected, HandleClosed and HandleTimer (each says whether the
// event was the client's). Write, Read and, for the KV store, Do(Op) send
// one request at a time (later ones queue) to the presumed leader. NotLeader
// answers redirect (to the hint at once, else to the next server after
// RetryBackoff); an attempt that times out (RequestTimeout) or whose
// connection closes moves to the next server; every attempt keeps the
// request's session and sequence number. An op that finds no answer within
// OpTimeout ends with ErrTimeout: for a write the outcome is unknown (record
// it as indeterminate; it may still apply, at most once), for a read
// nothing was read. Reads are served by the leader only, after a ReadIndex
// round (reads arriving while a round is in flight share the next one).
// The session id is derived from the node's name, ClientConfig.ClientID and
// the node's incarnation, so a restarted client never reuses one.
//
// TransferLeader, AddMember and RemoveMember exist both as client requests
// (answered by the leader: transfer started, or the change applied) and as
// Server methods a harness or nemesis calls on the leader it found with
// Status (they are queued as a node event through a zero-delay timer, so
// they run inside the kernel's normal event processing).
//
// # Messages
//
//	RaftMessage{Msg *raftpb.Message}   server -> server, raft's own message
//	*Hello{Incarnation}                opens each server -> server connection, both ways
//	*Request{Session, Seq, Kind, Data, Admin}
//	                                   client -> server: ReqWrite, ReqRead or ReqAdmin
//	*Response{Session, Seq, Code, Leader, Data}
//	                                   server -> client: CodeOK, CodeNotLeader (Leader = hint), CodeRejected
//
// Messages are delivered by reference in the simulator; no sender mutates a
// message or its payload after sending, so this equals serialisation.
// RaftMessage and Response implement sim.Digester, so their content counts
// in the run's fingerprint.
//
// # Storage
//
// See storage.go for the formats: a WAL of checksummed records (header,
// entries, hard states) and a snapshot file written to a temporary name,
// synced and renamed. A torn tail is truncated on recovery; a complete
// record or frame with a bad checksum is corruption at rest and the server
// refuses to start. The WAL keeps CatchUpEntries behind each snapshot for
// followers that lag a little; followers further behind get the snapshot.
//
// # Trace events
//
// raftkv/recovered (snapshot index, entries, term, commit, torn bytes cut),
// raftkv/leader (term), raftkv/snapshot (index, compacted to),
// raftkv/installed-snapshot (index), raftkv/conf-change (type, node),
// raftkv/bug (name, detail) when a planted bug takes effect at recovery,
// raftkv/fatal (reason).
//
// # Planted bugs
//
// Four failpoints (see Bugs), off unless armed, each in the real code path:
//
//   - BugStaleRead: every server answers reads from its own applied state,
//     without ReadIndex and without redirecting (etcd 2.0, quorum=false).
//     Found by partitions: a server cut off from the others (a deposed
//     leader, or a follower) keeps answering clients that can still reach
//     it while the majority moves on. Linearizability fails.
//   - BugAckBeforeSync: the WAL write of a Ready is not synced before its
//     messages (append acks, votes) are sent and clients answered. Found by
//     crashing a majority (or all) of the members at once, torn or not:
//     acknowledged writes are lost (and votes forgotten). Linearizability
//     fails. Snapshot files and WAL rewrites are still synced, so the loss
//     is bounded by the last snapshot: use a large SnapshotEvery.
//   - BugDedupLostOnRestart: at restart the session table is not restored
//     from the snapshot and the log found on disk is replayed bypassing it.
//     Found by crashing and restarting all (or a majority of) members while
//     clients write with short think times: writes applied just before the
//     crash are retried after it and applied again, and retries committed
//     twice are both applied at replay. Visible with OpAppend (a duplicated
//     suffix), CAS (reported failed though it applied) or Put (a value
//     reappears); linearizability fails.
//   - BugDoubleApplyAfterSnapshot: at restart, after restoring the snapshot,
//     the WAL's catch-up margin (entries at or before the snapshot index)
//     is applied to the state machine again, bypassing the sessions (cf.
//     etcd 3.5's data inconsistency, etcd#13766). Found by restarting
//     members once they have taken a snapshot (small SnapshotEvery,
//     CatchUpEntries > 0) and reading from the restarted member once it
//     leads. Register ops replayed on top of their own result mostly land
//     in the same state, so use OpAppend (or CAS chains) to see it; the
//     restarted member's state diverges from the others.
//
// # Cost
//
// With 5 members, an idle cluster costs about 770 events per virtual
// second: 500 ticks and 33 heartbeat rounds of 8 messages, each round
// about 65 allocations inside etcd raft (every message and every Ready
// allocates its protobuf fields one by one). Each client op costs about 18
// events and 190 allocations (a write: request, 4 appends and acks, 4
// commit appends and acks, reply; a read: request, a heartbeat round,
// reply), nearly all of them raft's. A heartbeat every tick made idle
// rounds most of a chaos run's cost; every third tick, raftkv-chaos
// allocates 55% less per client op and runs twice as fast per CPU second.
// BenchmarkRaftkvChaos (scenarios/raftkv) measures the chaos scenario and
// BenchmarkScenario the cluster at several client think times. A process
// running sweeps gains 1.5-2x with a higher GOGC (the CLI sets 400).
package raftkv
