package registry

// Slot ownership changes: a data server that gains a slot syncs it from every
// session server before serving it, and cleans up after sessions that left.

import (
	"slices"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// MigrationConfig is a new slot leader's emergency path, SOFARegistry's
// SlotManagerImpl.triggerEmergencyMigrating with DataServerConfig's
// defaults: a session whose migration answer is missing is taken as
// answered once it has been asked for longer than MaxWait (migratingMaxSecs,
// 40s) in more than MaxRetry tries (migratingMaxRetry, 15), each failed
// after TryTimeout unanswered (rpcTimeoutMillis, 3s), if at most
// MaxUnavailable (migratingMaxUnavailable, 1) of the table's sessions have
// not answered and the table holds more than one. Without it a session
// that is in the table but cannot answer (cut from the data servers, or
// restarted while no meta leader changes the table) holds the slot
// unserved until the table drops it. Off restores that model.
type MigrationConfig struct {
	MaxWait, TryTimeout      time.Duration
	MaxRetry, MaxUnavailable int
	Off                      bool
}

func (c *MigrationConfig) defaults() {
	defaultDur(&c.MaxWait, 40*time.Second)
	defaultDur(&c.TryTimeout, 3*time.Second)
	if c.MaxRetry <= 0 {
		c.MaxRetry = 15
	}
	if c.MaxUnavailable <= 0 {
		c.MaxUnavailable = 1
	}
}

// migTask is a migrating slot's wait for one session (MigratingTask).
type migTask struct {
	since, asked time.Duration // first asked; the current try asked
	tries        int           // retries after a try went unanswered
}

func (d *DataServer) newMigTask() *migTask {
	now := d.env.Monotonic()
	return &migTask{since: now, asked: now}
}

// emergencyMigrations ends the tries that went unanswered for TryTimeout:
// each starts a new try, or, past MaxWait and MaxRetry with at most
// MaxUnavailable sessions missing, the session is taken as answered and
// the slot serves what this server holds of the session's publishers (its
// follower copy). The session's next periodic sync repairs them
// (SOFARegistry's leader keeps syncing a forced session too).
func (d *DataServer) emergencyMigrations() {
	c := d.cfg.Migration
	if c.Off {
		return
	}
	now := d.env.Monotonic()
	for i := 0; i < len(d.m.table.Slots); i++ {
		st := d.slots[i]
		if st == nil || !st.leader || st.status == Accept {
			continue
		}
		missing := len(st.waiting) + st.forced
		for _, p := range sortedProcs(st.waiting) {
			// each try that failed since the last tick, as if checked
			// when it failed (the real watchdog looks every 200 ms)
			for t := st.waiting[p]; now-t.asked >= c.TryTimeout; {
				failed := t.asked + c.TryTimeout
				if len(d.m.table.Sessions) > 1 && failed-t.since > c.MaxWait && t.tries > c.MaxRetry && missing <= c.MaxUnavailable {
					d.env.Reached("registry/emergency-migration")
					d.env.Trace("registry/emergency-migration", i, p.ID, t.tries, now-t.since)
					delete(st.waiting, p)
					st.forced++
					break
				}
				t.tries++
				t.asked = failed
			}
		}
	}
}

// onTable takes a new table: slots gained start migrating, slots lost are
// dropped, publishers of sessions that left are removed, and rejoined
// sessions are asked for what they hold.
func (d *DataServer) onTable(old Table) {
	t := &d.m.table
	// Membership as sets, built when first asked: the per-slot checks below
	// would otherwise scan the session lists once per slot and session, and
	// most tables keep the sessions of the one before, so nobody joined.
	inNew, inOld := procSet{t: t}, procSet{t: &old}
	same := slices.Equal(t.Sessions, old.Sessions)
	var newly []int
	for i := range t.Slots {
		s := t.Slots[i]
		st := d.slots[i]
		lead := s.Leader == d.m.proc
		// Leadership is continuous only from the epoch just before: a
		// server that skipped an epoch may have lost the slot in it, and
		// the leader of that epoch took writes this one never saw.
		was := st != nil && st.leader && i < len(old.Slots) && old.Slots[i].Leader == d.m.proc && t.Epoch == old.Epoch+1
		switch {
		case lead && !was:
			if st != nil && !st.leader {
				d.env.Reached("registry/follower-promoted-to-slot-leader")
			}
			st = &slotState{leader: true, status: Migrating, waiting: map[Proc]*migTask{}}
			for _, p := range t.Sessions {
				st.waiting[p] = d.newMigTask()
			}
			d.slots[i] = st
			if _, bug := d.env.Failpoint(BugServeBeforeMigration); bug {
				st.status, st.waiting = Accept, nil // the emergency path: serve what the follower copy has
			} else {
				newly = append(newly, i)
			}
		case lead && was:
			if old.Slots[i].Follower != s.Follower {
				// A new follower (a data server that rejoined gets its
				// old slots back) holds nothing of the slot: replicate it
				// whole, not only what changes from now on.
				d.env.Reached("registry/new-follower-gets-full-copy")
				for _, id := range sortedKeys(d.inSlot[i]) {
					d.dirty[id] = true
				}
			}
			for p := range st.waiting { //detlint:allow deleting is order-free
				if !inNew.has(p) {
					delete(st.waiting, p)
				}
			}
			if st.status == Migrating && !same {
				for _, p := range t.Sessions {
					if !inOld.has(p) {
						d.env.Reached("registry/session-joined-mid-migration")
						st.waiting[p] = d.newMigTask() // a session that joined mid-migration
					}
				}
			}
		case s.Follower == d.m.proc:
			d.slots[i] = &slotState{}
		default:
			delete(d.slots, i)
		}
	}
	// Drop datums of slots we no longer hold; clean publishers of sessions
	// whose lease is gone in the slots we serve.
	for slot, ids := range d.inSlot { //detlint:allow order-free: drop touches only id's own entries
		if d.slots[slot] == nil {
			for id := range ids { //detlint:allow as above
				d.drop(id)
			}
		}
	}
	d.cleanUnleased()
	d.askMigration(newly)
	// A session that (re)joined the table may hold publishers we removed
	// while it was out (its lease expired): ask it for them.
	var served []int
	for i := range t.Slots {
		if st := d.slots[i]; st != nil && st.leader && st.status == Accept {
			served = append(served, i)
		}
	}
	for _, p := range t.Sessions {
		if !same && !inOld.has(p) && len(served) > 0 {
			d.m.peers.send(sim.NodeID(p.ID), &MigrateReq{Epoch: t.Epoch, Slots: served})
		}
	}
	d.finishMigrations()
}

// askMigration asks the sessions a migrating slot waits for (nil: every
// migrating slot) for their publishers.
func (d *DataServer) askMigration(only []int) {
	per := map[Proc][]int{}
	for i := 0; i < len(d.m.table.Slots); i++ {
		st := d.slots[i]
		if st == nil || !st.leader || st.status == Accept {
			continue
		}
		for p := range st.waiting { //detlint:allow building per-session lists of sorted slot numbers: order of insertion is by i
			per[p] = append(per[p], i)
		}
	}
	_ = only
	for _, p := range sortedProcs(per) {
		d.m.peers.send(sim.NodeID(p.ID), &MigrateReq{Epoch: d.m.table.Epoch, Slots: per[p]})
	}
}

// onMigrateResp takes a session's publishers of migrating slots (it is the
// truth about its own clients) or, for served slots, adds what is missing.
func (d *DataServer) onMigrateResp(r *MigrateResp) {
	bySlot := map[int][]int{} // slot -> indexes into r.Pubs (not copies of them)
	for k, p := range r.Pubs {
		s := d.m.slotOf(p.DataID)
		bySlot[s] = append(bySlot[s], k)
	}
	touched := map[string]*datum{}
	inTable := d.m.table.hasSession(r.Session)
	for _, i := range r.Slots {
		d.snapshotApplied(r.Session, i, r.Epoch)
		st := d.slots[i]
		if st != nil && st.leader && st.status == Accept && inTable {
			// A rejoined session: add what we miss (never delete: its
			// later writes may have overtaken this answer).
			for _, k := range bySlot[i] {
				p := r.Pubs[k]
				x := d.get(p.DataID)
				if x.holds(&p) || !x.accepts(&p) {
					continue
				}
				d.env.Reached("registry/rejoined-session-restored-publisher")
				x.put(&p)
				touched[x.id] = x
			}
			continue
		}
		if st == nil || !st.leader || st.status == Accept || st.waiting[r.Session] == nil {
			continue
		}
		delete(st.waiting, r.Session)
		// The session is the truth about its own clients' publishers;
		// held is what this server had of them (a follower's copy).
		var held map[string]pubRec
		// The walk ends once they are all found.
		left := d.heldIn(i, r.Session)
		for id := range d.inSlot[i] { //detlint:allow order-free: each removal touches only its own registerId
			if left == 0 {
				break
			}
			x := d.datums[id]
			for reg, p := range x.pubs { //detlint:allow order-free, as above
				if *p.Session == r.Session {
					if held == nil {
						held = map[string]pubRec{}
					}
					held[reg] = p
					x.remove(reg)
					if left--; left == 0 {
						break
					}
				}
			}
		}
		for _, k := range bySlot[i] {
			p := r.Pubs[k]
			x := d.get(p.DataID)
			if !x.accepts(&p) {
				continue
			}
			if h, ok := held[p.RegID]; ok && h.older(&p) {
				// the state serve-before-migration needs: the copy held
				// an older version than the session's
				d.env.Reached("registry/migration-newer-than-copy")
				d.env.Trace("registry/migration-newer-than-copy", p.RegID, p.DataID, h.Version, p.Version)
			}
			x.put(&p)
		}
		d.answeredDigest(i, r.Session, r.Pubs, bySlot[i])
	}
	for _, id := range sortedKeys(r.Versions) {
		x := d.get(id)
		x.seen = maxU(x.seen, r.Versions[id]) // read by VersionRepair only
	}
	for _, id := range sortedKeys(touched) {
		d.changed(touched[id])
	}
	d.finishMigrations()
}

// finishMigrations serves the slots no session is awaited for any more and
// announces their datums with new versions.
//
// Under VersionNextID a clock behind this process's last version refuses
// the new versions, and the slots stay migrating until it has caught up:
// SlotManagerImpl sets migrated only after updateVersion, whose exception
// its watchdog catches and retries (every migrateTick here).
func (d *DataServer) finishMigrations() {
	var done []int
	for i, st := range d.slots { //detlint:allow collecting; sorted below (the held slots, not every slot: this runs after every migration answer)
		if i < len(d.m.table.Slots) && st != nil && st.leader && st.status == Migrating && len(st.waiting) == 0 {
			done = append(done, i)
		}
	}
	if len(done) == 0 {
		return
	}
	slices.Sort(done)
	if !d.canVersion() {
		d.env.Reached("registry/migration-held-by-clock")
		return
	}
	for _, i := range done {
		d.slots[i].status, d.slots[i].waiting = Accept, nil // an emptied map keeps its size
	}
	d.env.Trace("registry/migrated", d.m.table.Epoch, len(done))
	var ids []string // the finished slots' datums, by the index, in dataInfoId order
	for _, i := range done {
		for id := range d.inSlot[i] {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		d.changed(d.datums[id])
	}
}

// procSet is a table's session processes as a set, made when first asked.
type procSet struct {
	t   *Table
	set map[Proc]bool
}

func (s *procSet) has(p Proc) bool {
	if s.set == nil {
		s.set = make(map[Proc]bool, len(s.t.Sessions))
		for _, q := range s.t.Sessions {
			s.set[q] = true
		}
	}
	return s.set[p]
}
