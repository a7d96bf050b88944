package registry

// The meta leader under election=db, as SOFARegistry v6's: the slot table
// is not persisted anywhere. A new leader starts from what it knows (the
// empty table, for a new process), takes the newest table the data
// servers report in their heartbeats, and waits WarmUp before it evicts a
// member or arranges slots, so that every live member has reported in
// (until then a silent member is not a dead one). With no data server, or
// no more than Protection of them, it keeps the data servers and their
// slots as they are (protection mode).

import (
	"time"
)

// dbLeader is the meta leader's state under election=db.
type dbLeader struct {
	local     Table         // the slot table, in memory only
	leading   bool          // took leadership and has not given it up
	warmUntil time.Duration // monotonic; 0: not leading
	started   bool          // this process has led before
	// unregistered: the start-up notification failed and the leader never
	// registered itself (BugLeaderNotRegistered): it holds the lock but
	// never serves.
	unregistered bool
}

// believes: the lock says this meta leads, on its own clock, and it
// registered itself.
func (m *MetaServer) believes() bool { return m.db.amILeader() && !m.unregistered }

func (m *MetaServer) warmed() bool {
	return m.db == nil || m.env.Monotonic() >= m.warmUntil
}

func (m *MetaServer) checkDBLeader() {
	now := m.db.amILeader()
	switch {
	case now && !m.leading:
		m.leading = true
		m.warmUntil = m.env.Monotonic() + m.cfg.WarmUp
		if m.db.inserted {
			m.warmUntil = 0 // the cluster's first leader: there was no table to lose
		}
		if !m.started {
			m.started = true
			if _, on := m.env.Failpoint(BugLeaderNotRegistered); on {
				m.unregistered = true // sendNotify threw: registerCurrentNode never ran
			}
		}
		// Members earn their leases afresh, by heartbeat.
		m.leases, m.procs, m.roles = map[string]time.Duration{}, map[string]Proc{}, map[string]string{}
		m.membersChanged()
		if m.db.term > 1 {
			m.env.Reached("registry/meta-leader-moved")
		}
		m.env.Trace("registry/meta-leader", m.db.term)
	case !now && m.leading:
		m.leading = false
		m.env.Trace("registry/meta-follower", m.db.term)
	}
}

// learnTable takes a member's table when it is newer than the leader's:
// a new leader re-learns the table this way, and one that has missed a
// table (pushed by a deposed leader that still believed) catches up.
func (m *MetaServer) learnTable(t *Table) {
	if t == nil || len(t.Slots) != m.cfg.Slots || t.Epoch <= m.local.Epoch {
		return
	}
	m.local = copyTable(t)
	m.env.Trace("registry/table-learned", t.Epoch)
	if !m.warmed() {
		m.env.Reached("registry/meta-relearned-table")
	}
}

// Under election=db a leader numbers its tables from (lock term × 1000 +
// its incarnation) × 10^6: two leaderships never make two tables of one
// epoch (a new leader that missed its predecessor's last table, a deposed
// one that still believes, or a restarted meta that finds itself the
// owner of the lock row and resumes the term), and the first table of a
// new leadership skips epochs, so every data server migrates its slots
// again rather than trusting continuity. Epoch 1002000005 is table 5 of
// term 1, incarnation 2. SOFARegistry numbers tables by the leader's
// clock instead.
func (m *MetaServer) nextEpoch(cur uint64) uint64 {
	if m.db == nil {
		return cur + 1
	}
	key := (m.db.term*1000 + uint64(m.env.Incarnation())) * 1_000_000
	if cur < key && cur > 0 {
		m.env.Reached("registry/new-leadership-first-table") // numbered past a predecessor's table
	}
	return max(cur+1, key)
}

// protected: too few data servers are alive to rearrange the slots.
func (m *MetaServer) protected(data []Proc) bool {
	if m.db == nil {
		return false
	}
	if len(data) == 0 || len(data) <= m.cfg.Protection {
		m.env.Reached("registry/meta-protection")
		return true
	}
	return false
}

// install makes next the table and announces it.
func (m *MetaServer) install(next Table) {
	m.local = next
	m.announce()
}
