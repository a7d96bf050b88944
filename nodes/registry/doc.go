// Package registry is a SOFARegistry-like service registry written as
// sans-IO sofasim nodes: meta servers (membership and the slot table,
// replicated through raftkv), data servers (publishers per dataInfoId,
// sharded by slot, leader and follower per slot), session servers (client
// connections, routing, pushes to subscribers) and the client library.
//
// # Roles
//
// Meta servers elect a meta leader through a lock database (election=db,
// SOFARegistry v6's MetaJdbcLeaderElector: a 20 s lock row, takeover by
// compare-and-set on the database's clock, the leader trusting itself until
// its renewal + duration/2 on its own clock) or through an embedded raftkv
// (election=raft; the default of a Config that names none, with a 3 s
// lease, for the systems that embed a small registry). Under db the slot
// table lives in the leader's memory only: a new leader re-learns it from
// members' heartbeats, warms up 30 s, then evicts and arranges; with too
// few data servers it changes nothing (protection mode). Data and session
// servers send a Heartbeat to the meta leader every HeartbeatInterval (1 s;
// the leader learnt from answers and asked of the metas, member_renew.go);
// the meta leader keeps their leases, answers with the slot table, and its
// arranger (every ArrangeInterval, and at once when a member joins,
// restarts or lets its lease expire) makes a new table (a new epoch). Slot = Math.abs(crc32c(dataInfoId) as a Java
// int) & (Slots-1). Each slot has a leader and a follower; a table missing
// replicas is only repaired (a dead leader's follower promoted, gaps filled
// with the least loaded data servers); a settled table is balanced one kind
// of move a round, as SOFARegistry's DefaultSlotBalancer (table_balance.go).
//
// Data servers answer every request with a slot-access status: Accept,
// Migrating (a new leader still syncing), Moved (not the leader here) or
// MisMatch (the request carries a newer table epoch); a migrating slot
// takes writes (SOFARegistry's BatchPutDataHandler rejects only Moved and
// MisMatch) but answers reads with Migrating until served. A data server that
// becomes leader of a slot asks every session server in the table for its
// publishers of the slot (MigrateReq) and serves once all have answered,
// or, as SOFARegistry's emergency migration, once the only one missing has
// left 15 tries of 3 s over 40 s unanswered. Datum versions only grow:
// max(last+1, wall clock ms, highest version any session reported + 1)
// (version=repair; version=nextid is SOFARegistry's nextId, which can stay
// below a session's version). Changes are announced to every
// session server as merged notices of dataInfoId and version (DataChange,
// at most one per 100 ms; SOFARegistry's DataChangeRequest), each session
// fetching only what its subscribers want, and replicated to the follower
// in batches.
// Publishers owned by a session process that has left the table are
// removed. Writes are last-writer-wins per registerId (the client's
// per-publisher version), with tombstones for unpublish.
//
// Session servers hold client connections, keep their own clients'
// publishers, forward publish/unpublish to the slot leader (retrying until
// Accept), remove a client's publishers when its connection closes, and
// push datums to subscribers: a push carries the datum version, the
// subscriber acks it, and a failed push is retried without advancing the
// pushed version. Every SyncInterval (the version scan) they ask each data
// server once for the versions of the datums their subscribers follow in
// the slots it leads (GetVersions, with the version and digest held) and
// fetch only the ones that differ, through change merging, to catch lost
// notifications. A data server remembers each datum's scan digest until its
// publishers change (datum.edited, install): computing it sorted the
// publishers of every followed datum on every scan.
//
// The Client library connects to a session server, reconnects to another
// after a failure and re-registers its publishers and subscribers. A
// stalled session server (a long GC pause) keeps its TCP connections open:
// the client sends sofa-bolt's heartbeat after 15 s idle and gives the
// connection up after 3 missed, and a session closes a connection idle 45 s
// (client_liveness.go; LivenessPing keeps the older 1 s ping).
//
// Ops controls (ops_*.go, reconcile.go) are messages an ops console sends:
// stop or gray push, client-off/open (by zone too), IP and dataInfoId
// blacklists, graceful data quit/join, meta quit-election, slot reconcile
// stop (in the receiving meta's memory only) and force refresh (the leader
// builds a new round-robin table at once, as BalanceTask does).
//
// With Config.MultiDC a second data centre syncs the first (multidc*.go):
// its meta leader fetches the remote slot table, its data servers sync the
// remote slots they lead (whole every 6 s, announced changes at once) and
// keep remote datums apart under RemoteID(dc, id), so a subscriber's pushed
// version is kept per data centre.
//
// # Ordering and failover rules
//
// These close races that the scenarios found; each is a rule a real
// registry needs as well.
//
//   - A registration is ordered by (version, connection sequence number):
//     every dial of the client numbers its registrations, so the same
//     version re-registered through a newer connection wins, and a stalled
//     session that forwards the old connection's registration (or
//     subscription) late cannot take it back. Cleanup of a connection removes
//     only what that session registered for that client.
//   - A data server remembers the newest registration it removed with a
//     session or connection (gone), so that an older one forwarded late is
//     refused after the cleanup, as a tombstone refuses after an unpublish.
//   - Leadership of a slot is continuous only across consecutive table
//     epochs: a data server that skipped an epoch migrates again.
//   - A session answers a migration request only once it routes by that
//     table (its earlier writes went to the previous leader), and after
//     each new table it re-syncs its publishers of every slot whose leader
//     changed and that it wrote to, compared slot by slot even across
//     skipped epochs, built when sent: a write
//     it had acknowledged may have reached a leader that had already lost
//     the slot.
//   - A session takes datums (changes and fetch answers) only from the
//     slot's leader in its own table: a deposed leader that has not heard
//     of the new table still announces changes, with its own clock's
//     versions.
//   - A fetch carries the session's cached version and digest, and the
//     highest version its subscribers acknowledged: the leader moves its
//     version past a higher one, or past an equal one with other content
//     (two leaders collided), and only then; a datum lost with every data
//     server restarts at zero and would otherwise never be pushed again.
//
// # Planted bugs
//
// See Bugs: each is a failpoint bug/registry/<name> in the real code path.
package registry
