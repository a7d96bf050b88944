package registry

// mustReach are the coverage states (marks in nodes/registry) each registry
// scenario's default sweep must reach: what its planted bugs, and bugs like
// them, need. TestScenariosReachTheirStates checks them.
var mustReach = map[string][]string{
	"registry-basic": {"registry/push-failed", "registry/first-push-failed-thrice", "registry/republish-on-shared-connection"},
	"registry-session-failover": {"registry/lease-expired-session", "registry/session-sync-repaired-slot",
		"registry/cleanup-spared-reregistered-publisher", "registry/republish-on-shared-connection"},
	"registry-data-failover": {"registry/lease-expired-data", "registry/follower-promoted-to-slot-leader",
		"registry/write-during-migration", "registry/version-ahead-of-clock", "registry/follower-sync-repaired"},
	"registry-meta-failover": {"registry/meta-leader-moved", "registry/meta-relearned-table", "registry/new-leadership-first-table"}, // election=db (raft's: raftkv/restart-from-disk)
	"registry-chaos": {"registry/lease-expired-data", "registry/lease-expired-session", "registry/meta-leader-moved",
		"registry/push-failed", "registry/follower-promoted-to-slot-leader",
		"registry/migration-newer-than-copy"}, // what serve-before-migration serves stale
	"registry-ops": {"registry/push-resumed", "registry/data-quit", "registry/publish-blacklisted",
		"registry/session-silent-for-session-off-delay", "registry/meta-quit-election", "registry/push-held-for-revision"},
}
