package registry

import "time"

// RealMetaLease is SOFARegistry's meta lease of data and session servers.
const RealMetaLease = 20 * time.Second

// The meta election's choices.
const (
	ElectionDB   = "db"   // the lock database (SOFARegistry v6's MetaJdbcLeaderElector)
	ElectionRaft = "raft" // raft among the meta servers, the table in their log
)

// metaDefaults: SOFARegistry's meta election: a 20 s lock, a 1 s elect
// loop, a 30 s warm-up of a new leader, protection only with no data
// server. A Config that names no election gets raft: the other systems
// embed a registry whose scenarios were sized for its quick failovers;
// the registry's own scenarios choose db (their election parameter).
//
// Members heartbeat the meta leader every second (member_renew.go); a
// Config that names no election heartbeats every meta every 500 ms
// instead of running the renewer, since its 3 s lease leaves no room for a look-up after a
// failover (a 3 s heartbeat timeout alone would let leases run out).
func (c *Config) metaDefaults() {
	if c.Election == "" {
		c.Election = ElectionRaft
		if c.HeartbeatInterval <= 0 {
			c.HeartbeatInterval, c.HeartbeatAll = 500*time.Millisecond, true
		}
	}
	defaultDur(&c.HeartbeatInterval, time.Second)
	defaultDur(&c.MetaTimeout, 3*time.Second)
	defaultDur(&c.ArrangeInterval, time.Second)
	if c.LockDB == "" {
		c.LockDB = "lockdb"
	}
	if c.LockDuration <= 0 {
		c.LockDuration = 20 * time.Second
	}
	if c.ElectInterval <= 0 {
		c.ElectInterval = time.Second
	}
	if c.WarmUp <= 0 {
		c.WarmUp = 30 * time.Second
	}
}
