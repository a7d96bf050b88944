package registry

import "github.com/sofasim/sofasim/sim"

// Planted bugs: failpoints in the real code paths, off unless armed, each a
// real SOFARegistry incident.
const (
	// BugPushFailedRecordedDelivered: a push that failed is recorded as
	// delivered, so it is never retried (sofa-registry issue 21).
	BugPushFailedRecordedDelivered = "bug/registry/push-failed-recorded-delivered"
	// BugFirstPushLost: the first push to a subscriber is given up after
	// three failures and never retried (issue 36).
	BugFirstPushLost = "bug/registry/first-push-lost-after-retries"
	// BugVersionCollision: a datum's version is the leader's clock alone, so
	// two changes collide and a clock going back yields older versions:
	// sessions keep (and push) the older datum over the newer (issue 56).
	BugVersionCollision = "bug/registry/version-collision-overwrite"
	// BugLateCleanup: the cleanup of a client's old connection deletes its
	// publishers by registerId alone, including the one the client has
	// re-registered through another session server (issue 74).
	BugLateCleanup = "bug/registry/late-cleanup-deletes-reregistered"
	// BugRepublishDropsIndex: re-publishing through a connection replaces
	// the connection's publisher index with the one publisher, so the
	// others are not removed when the connection closes (PR 138).
	BugRepublishDropsIndex = "bug/registry/republish-drops-shared-index"
	// BugServeBeforeMigration: a new slot leader serves at once from its
	// follower copy instead of syncing from every session server first
	// (the emergency-migration path).
	BugServeBeforeMigration = "bug/registry/serve-before-migration"

	// FailPush is not a bug: the nemesis arms it to make pushes fail
	// (the session sees the push as failed and must retry).
	FailPush = "registry/push-fail"
)

// Bugs lists the registry's planted bugs.
var Bugs = []sim.Bug{
	{Name: BugPushFailedRecordedDelivered, Description: "a failed push is recorded as delivered and never retried (sofa-registry #21)"},
	{Name: BugFirstPushLost, Description: "the first push to a subscriber is dropped after three failures and never retried (#36)"},
	{Name: BugVersionCollision, Description: "datum versions come from the clock alone: collisions and clock jumps make sessions keep an older datum (#56)"},
	{Name: BugLateCleanup, Description: "a late cleanup of a client's old connection deletes the publisher it re-registered on another session (#74)"},
	{Name: BugRepublishDropsIndex, Description: "re-publishing through a connection drops the other publishers from the connection index: they outlive the connection (PR 138)"},
	{Name: BugServeBeforeMigration, Description: "a new slot leader serves before syncing from the session servers (emergency migration): publishers are lost"},

	// Meta election (meta_db.go, meta_elect.go).
	{Name: BugLeaderNotRegistered, Description: "a meta leader's start-up notification fails and it never registers itself: it holds the lock but never serves (sofa-registry #30)"},
	{Name: BugLeaseSkew, Description: "a meta leader trusts the lock until its last renewal + 1.5 lock durations, past the takeover: two meta leaders"},
}

// The meta election's planted bugs.
const (
	// BugLeaderNotRegistered: during a meta's start-up, the leader's
	// notification throws and registerCurrentNode never runs: the members
	// never learn of a leader (sofa-registry issue 30).
	BugLeaderNotRegistered = "bug/registry/meta-leader-not-registered"
	// BugLeaseSkew: the leader trusts the lock for 1.5 durations after its
	// last renewal instead of half of one, so it still acts after a
	// follower took the lock over.
	BugLeaseSkew = "bug/registry/meta-lease-past-takeover"
)

// Planted bugs of the ops controls (ops_*.go).
const (
	// BugSessionOffAfterDisconnect: a data server that has not heard from a
	// session server for 30s since their connection closed erases the
	// session's publishers, though the session is alive and in the table
	// (sofa-registry#57).
	BugSessionOffAfterDisconnect = "bug/registry/session-off-after-disconnect"
	// BugAppRevisionNotStored: a session acknowledges an app revision at
	// once and stores it by a batch 100ms later, so a push can name a
	// revision not yet stored: it goes without those publishers
	// (sofa-registry#336).
	BugAppRevisionNotStored = "bug/registry/app-revision-not-stored"
)

func init() {
	Bugs = append(Bugs,
		sim.Bug{Name: BugSessionOffAfterDisconnect, Description: "a data server erases a live session's publishers 30s after their connection closed (#57)"},
		sim.Bug{Name: BugAppRevisionNotStored, Description: "an app revision is acknowledged before it is stored: a push names a revision no meta server has and goes without its publishers (#336)"})
}

// Planted bugs of the connection lifecycle (conn_sweep.go, conn_renew.go).
const (
	// BugFastDisconnectUncleaned: a client that disconnects right after
	// registering is cleaned before its registration is stored, and the
	// periodic orphan sweep that would catch it is off (sofa-registry#37).
	BugFastDisconnectUncleaned = "bug/registry/fast-disconnect-uncleaned"
	// BugSharedConnectID: clients behind one address share connectIds
	// across session servers, and a data server spares a publisher while
	// any session still renews its connectId: a dead client's publishers
	// are never removed (sofa-registry#111).
	BugSharedConnectID = "bug/registry/shared-connect-id"
)

func init() {
	Bugs = append(Bugs,
		sim.Bug{Name: BugFastDisconnectUncleaned, Description: "a client disconnecting right after registering is cleaned before the registration is stored, and no periodic sweep catches it (#37)"},
		sim.Bug{Name: BugSharedConnectID, Description: "a connectId shared by two session servers keeps being renewed: a dead client's publishers are never removed (#111)"})
}

// Planted bugs of the push pipeline (push_*.go).
const (
	// BugEmptyPushAfterSubscribe: a subscriber registered before the
	// session has fetched its datum gets an empty datum stamped with the
	// session's clock, which stands as pushed over the real one until the
	// next change or version scan (sofa-registry#325).
	BugEmptyPushAfterSubscribe = "bug/registry/empty-push-after-subscribe"
)

func init() {
	Bugs = append(Bugs, sim.Bug{Name: BugEmptyPushAfterSubscribe, Description: "a subscribe that misses the session's cache is pushed an empty datum that stands over the real one until the next scan (#325)"})
}
