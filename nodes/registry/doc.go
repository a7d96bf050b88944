// Package registry is a SOFARegistry-like service registry written as
// sans-IO sofasim nodes: meta servers (membership and the slot table,
// replicated through raftkv), data servers (publishers per dataInfoId,
// sharded by slot, leader and follower per slot), session servers (client
// connections, routing, pushes to subscribers) and the client library.
//
// # Roles
//
// Meta servers embed a raftkv.Server with their own state machine (the slot
// table, which carries the membership). Only the raft leader acts as meta
// leader, and only once a no-op of its term has applied. Data and session
// servers send a Heartbeat to every meta server every HeartbeatInterval; the
// meta leader keeps their leases in memory (a new leader grants everyone a
// fresh lease), answers with the slot table, and proposes a new table (epoch
// + 1, compare-and-set on the epoch) when a member joins, restarts (a new
// process id) or lets its lease expire. Slot = crc32c(dataInfoId) % Slots;
// each slot has a leader and a follower; a dead leader's follower is
// promoted, gaps are filled with the least loaded data servers and leaders
// are balanced by swapping leader and follower.
//
// Data servers answer every request with a slot-access status: Accept,
// Migrating (a new leader still syncing), Moved (not the leader here) or
// MisMatch (the request carries a newer table epoch). A data server that
// becomes leader of a slot asks every session server in the table for its
// publishers of the slot (MigrateReq) and serves only when all have
// answered. Datum versions only grow: max(last+1, wall clock ms, highest
// version any session reported + 1). Changes are announced to every
// session server (DatumChanged) and replicated to the follower in batches.
// Publishers owned by a session process that has left the table are
// removed. Writes are last-writer-wins per registerId (the client's
// per-publisher version), with tombstones for unpublish.
//
// Session servers hold client connections, keep their own clients'
// publishers, forward publish/unpublish to the slot leader (retrying until
// Accept), remove a client's publishers when its connection closes, and
// push datums to subscribers: a push carries the datum version, the
// subscriber acks it, and a failed push is retried without advancing the
// pushed version. Every SyncInterval they compare datum versions with the
// slot leaders (GetDatum) to catch lost notifications.
//
// The Client library connects to a session server, reconnects to another
// after a failure and re-registers its publishers and subscribers.
//
// # Planted bugs
//
// See Bugs: each is a failpoint bug/registry/<name> in the real code path.
package registry
