package raftkv

import "github.com/sofasim/sofasim/sim"

// Planted bugs. Each is a failpoint evaluated with sim.Env.Failpoint in the
// real code path, off unless a scenario or the CLI arms it; each reproduces
// a class of real incident. See Bugs for one-line descriptions and doc.go
// for how each manifests and which faults find it.
const (
	// BugStaleRead serves reads from the local applied state on whichever
	// server receives them, without ReadIndex and without redirecting to the
	// leader (etcd 2.0 with quorum=false). Evaluated per read request.
	BugStaleRead = "bug/raftkv/stale-read"
	// BugAckBeforeSync writes a Ready's entries and hard state to the WAL but
	// skips the sync before sending messages (append acks, votes) and
	// acknowledging clients (etcd's --unsafe-no-fsync). Evaluated per Ready
	// that needs a sync.
	BugAckBeforeSync = "bug/raftkv/ack-before-sync"
	// BugDedupLostOnRestart rebuilds the client session table neither from
	// the snapshot nor from the log replayed at restart: it is treated as
	// soft state. Evaluated once per recovery from a non-empty disk.
	BugDedupLostOnRestart = "bug/raftkv/dedup-lost-on-restart"
	// BugDoubleApplyAfterSnapshot, after restoring the snapshot at restart,
	// replays the log entries the WAL still holds from before the snapshot
	// index (the catch-up margin) into the state machine again, as etcd 3.5
	// did when its consistent index lagged the backend (etcd#13766).
	// Evaluated once per recovery that has such entries.
	BugDoubleApplyAfterSnapshot = "bug/raftkv/double-apply-after-snapshot"
)

// Bugs lists the planted bugs of raftkv.
var Bugs = []sim.Bug{
	{Name: BugStaleRead, Description: "reads are answered from local state without ReadIndex (etcd 2.0 quorum=false): followers and deposed leaders serve stale reads"},
	{Name: BugAckBeforeSync, Description: "the WAL write of a Ready is not synced before messages and acks go out: a crash of a majority loses acknowledged writes"},
	{Name: BugDedupLostOnRestart, Description: "the client session table is not restored on restart (neither from the snapshot nor the replayed log): retried writes apply twice"},
	{Name: BugDoubleApplyAfterSnapshot, Description: "after restoring the snapshot at restart, the WAL's pre-snapshot margin is replayed into the state machine again"},
}
