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
func (c *Config) metaDefaults() {
	if c.Election == "" {
		c.Election = ElectionRaft
	}
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
