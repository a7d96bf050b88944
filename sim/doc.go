// Package sim is sofasim's deterministic simulation kernel.
//
// A World is a discrete-event simulator: a priority queue of events ordered by
// (virtual time, sequence number), executed one at a time on the caller's
// goroutine. Virtual time jumps to the next event; nothing ever sleeps.
//
// # The contract
//
// Nodes are sans-IO state machines (the style of etcd raft). The world calls a
// Node's methods; a node never blocks, starts goroutines, reads the real clock,
// the global random source, the file system or the network. Everything it may
// touch comes through its *Env: the local clock, its random stream,
// connections and datagrams, timers, its disk, tracing and failpoints. A crash
// throws the node object away; a restart builds a new one from the factory,
// which recovers from its disk.
//
// Randomness comes from one root seed. Every consumer (each node incarnation,
// each network link, each clock, each failpoint, the harness) draws from its
// own stream derived from the seed and a stable name, so adding a node does not
// change what the others draw.
//
// Every processed event and every node trace event updates a running
// fingerprint, a hash of 64-bit words with xxHash64's step (see Mix). Two runs with the same seed, nodes and fault plan produce the
// same fingerprint; a full trace (JSON lines) is optional.
//
// # Semantics in brief
//
//   - Connections are FIFO and reliable while connected, like TCP. A message
//     that meets a partition waits (retransmission) and is delivered after the
//     heal, unless the partition outlasts the keepalive timeout: then the
//     connection breaks, each end is told separately, and undelivered
//     messages are lost. A crash breaks all of the node's connections; each
//     peer is told after a delay drawn between the minimum latency and the
//     keepalive timeout (an RST from a live host, or a keepalive from a dead
//     one).
//   - Datagrams may be lost, duplicated and reordered, and are dropped by
//     partitions.
//   - Clocks: Env.Now reads the node's wall clock (offset, drift, jumps).
//     Timers run on the node's monotonic clock: drift stretches them, jumps do
//     not move them (as with Go's and Java's monotonic timers).
//   - Disks buffer writes until Sync; a crash loses unsynced data, or keeps a
//     torn prefix of it when asked. A failed Sync drops the pending writes from
//     the durable path (Linux fsync semantics): they vanish at the next crash.
//     Creating, removing and renaming files is durable at once.
//   - A paused node's events wait and are delivered in order on resume. A
//     slow sync keeps the node busy: its events wait until the sync ends.
//   - A panic inside a node is recovered, recorded as a Finding with the seed
//     and stack, and the node is crashed; the harness goes on.
//
// # Process-wide state
//
// etcd raft draws randomness from crypto/rand.Reader and failpoints live in a
// process-wide registry, so a running world owns the process: Run takes a
// process-wide lock, installs the world's seeded stream as crypto/rand.Reader,
// arms the world's failpoints, and restores everything on return.
package sim
