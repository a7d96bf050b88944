package registry

// Writes on a slot leader (publish, unpublish, session sync, connection
// cleanup); data_version.go versions each change.

import (
	"cmp"
	"slices"

	"github.com/sofasim/sofasim/internal/intern"
)

// get returns the datum, creating an empty one in its slot's index.
func (d *DataServer) get(id string) *datum {
	x := d.datums[id]
	if x == nil {
		slot := d.m.slotOf(id)
		x = &datum{id: id, pubs: map[string]pubRec{}, digs: d.slotDigsOf(slot)} // tombs and gone when first written: most datums never have any
		d.datums[id] = x
		if d.inSlot[slot] == nil {
			d.inSlot[slot] = map[string]struct{}{}
		}
		d.inSlot[slot][id] = struct{}{}
	}
	return x
}

// drop forgets a datum.
func (d *DataServer) drop(id string) {
	delete(d.datums, id)
	slot := d.m.slotOf(id)
	d.digs[slot].staleAll()
	delete(d.inSlot[slot], id)
	if len(d.inSlot[slot]) == 0 {
		delete(d.inSlot, slot)
	}
}

// takeWrite answers a session's write. A slot this server leads takes it
// while migrating too: SOFARegistry's BatchPutDataHandler rejects only
// Moved and MisMatch. Refusing it served a session's migration answer
// without the writes the session made after answering (the slot still
// waiting for other sessions), older than versions already pushed, until
// the session's retry a second later (registry-chaos seed 87).
func (d *DataServer) takeWrite(w *DataWrite) Status {
	st := d.access(w.Slot, w.Epoch)
	if st == Migrating {
		d.env.Reached("registry/write-during-migration")
		st = Accept
	}
	if st == Accept && !d.write(w) {
		return Refused
	}
	return st
}

// write applies an accepted write to the slot's datums; false when a
// change could not be versioned (Refused: the session retries).
func (d *DataServer) write(w *DataWrite) bool {
	ok := true
	switch w.Kind {
	case "pub":
		x := d.get(w.Pub.DataID)
		if !x.accepts(&w.Pub) {
			return true
		}
		if d.cfg.Version == VersionNextID && x.holds(&w.Pub) {
			return true // the same registration again changes nothing (PublisherGroup's AddSameVer)
		}
		x.put(&w.Pub)
		ok = d.changed(x)
	case "unpub":
		x := d.get(w.Pub.DataID)
		if cur, ok2 := x.pubs[w.Pub.RegID]; ok2 && !w.Pub.olderThan(&cur) {
			x.del(w.Pub.RegID)
			ok = d.changed(x)
		}
		if t := tombOf(&w.Pub); x.tombs[w.Pub.RegID] < t {
			x.tomb(w.Pub.RegID, t)
		}
	case "sync":
		// The session's publishers in the slot: add what is missing or
		// older, drop what it no longer holds. A snapshot built in an
		// older table than one already applied (a migration answer travels
		// on another connection) would drop publishers registered since.
		if !d.snapshotApplied(w.Session, w.Slot, w.Epoch) {
			d.env.Reached("registry/stale-sync-ignored")
			return true
		}
		// Renewals first (its failpoint's evaluation is part of the
		// run), then the shortcut for a snapshot that changes nothing.
		r := d.sharedRenewals()
		if d.syncChangesNothing(w) {
			return true
		}
		have := map[[2]string]bool{} // (dataInfoId, registerId)
		touched := map[string]*datum{}
		for _, p := range w.Pubs {
			have[[2]string{p.DataID, p.RegID}] = true
			x := d.get(p.DataID)
			if x.holds(&p) || !x.accepts(&p) {
				continue
			}
			x.put(&p)
			touched[x.id] = x
		}
		for _, id := range sortedKeys(d.inSlot[w.Slot]) {
			x := d.datums[id]
			// Sorting only the session's registrations it no longer holds
			// (mostly none), not every publisher of the datum.
			var dropped []string
			for reg, p := range x.pubs { //detlint:allow collecting; sorted below
				if *p.Session == w.Session && !have[[2]string{id, reg}] {
					dropped = append(dropped, reg)
				}
			}
			slices.Sort(dropped)
			for _, reg := range dropped {
				if cur := x.pubs[reg]; !d.renewedElsewhere(r, cur.pub(id, reg)) {
					x.remove(reg)
					touched[id] = x
				}
			}
		}
		for _, id := range sortedKeys(touched) {
			ok = d.changed(touched[id]) && ok
		}
	case "clientoff":
		_, late := d.env.Failpoint(BugLateCleanup)
		r := d.sharedRenewals()
		touched := map[string]*datum{}
		for i, reg := range w.RegIDs {
			x := d.get(w.DataIDs[i])
			cur, ok := x.pubs[reg]
			if !ok {
				continue
			}
			// Only the publisher this session registered for this client
			// through the closed connection goes: the client may have
			// re-registered it elsewhere, or here through a new connection,
			// since (the cleanup names the registrations it removes, as
			// SOFARegistry's names the connectId).
			newer := i < len(w.Pubs) && w.Pubs[i].olderThan(&cur)
			if *cur.Session != w.Session || cur.Client != w.Client || newer {
				d.env.Reached("registry/cleanup-spared-reregistered-publisher")
				if !late {
					continue
				}
			}
			if d.renewedElsewhere(r, cur.pub(x.id, reg)) {
				continue
			}
			x.remove(reg)
			touched[x.id] = x
		}
		for _, id := range sortedKeys(touched) {
			ok = d.changed(touched[id]) && ok
		}
	}
	return ok
}

// snapshotApplied records a session's snapshot of a slot built in table
// epoch; it reports false when a newer one was already applied.
func (d *DataServer) snapshotApplied(session Proc, slot int, epoch uint64) bool {
	s := d.snaps[session]
	i, found := slices.BinarySearchFunc(s, slot, func(e slotEpoch, slot int) int { return cmp.Compare(e.slot(), slot) })
	if found {
		if epoch < d.epochs.at(s[i]) {
			return false
		}
		s[i] = d.epochs.of(slot, epoch)
		return true
	}
	d.snaps[session] = slices.Insert(s, i, d.epochs.of(slot, epoch))
	return true
}

// slotEpoch is a slot's newest snapshot epoch: the slot above the epoch's
// number in the server's epochTable. A session's slots as a sorted slice
// take half the memory of a map per session, and numbering the epochs
// (every session's snapshots of one table share one) halves that again.
type slotEpoch struct{ v uint64 }

func (e slotEpoch) slot() int { return int(e.v >> 32) }

// epochTable numbers the table epochs snapshots were built in.
type epochTable struct{ intern.Table[uint64] }

func (t *epochTable) of(slot int, epoch uint64) slotEpoch {
	return slotEpoch{v: uint64(slot)<<32 | uint64(t.Of(epoch))}
}

func (t *epochTable) at(e slotEpoch) uint64 { return t.At(uint32(e.v)) }
