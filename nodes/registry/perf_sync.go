package registry

// The digests a slot leader compares with a session's in the periodic
// sync, cached per slot: every session sends a digest of every slot it
// wrote to each period, and walking and sorting a slot's publishers once
// per session and slot was ~8% of the registry's time at 10,000 clients.

import "slices"

// slotDigs is one slot's digest of every session's publishers in it
// (pubsDigest of them sorted by (registerId, dataInfoId)). A change stales
// only the sessions whose publishers it touched, and a session's digest is
// recomputed only when it is stale: after a table change every session
// re-syncs the slots that moved while the other sessions' writes land, and
// staling the whole slot on each write made every sync walk it.
type slotDigs struct {
	by    map[Proc]uint64 // each session's digest, valid unless whole or in dirty; absent: it holds none
	dirty []Proc          // the sessions staled since by was computed (at most maxDirty)
	whole bool            // every session is stale (never computed, a replica installed, a datum dropped)
}

// maxDirty: past this many stale sessions, one walk recomputes them all.
const maxDirty = 8

// stale marks a session's digest in the slot out of date.
func (c *slotDigs) stale(s Proc) {
	if c == nil || c.whole || slices.Contains(c.dirty, s) {
		return
	}
	if len(c.dirty) == maxDirty {
		c.staleAll()
		return
	}
	c.dirty = append(c.dirty, s)
}

// staleAll marks every session's digest in the slot out of date.
func (c *slotDigs) staleAll() {
	if c != nil {
		c.whole, c.dirty = true, c.dirty[:0]
	}
}

// current reports whether session s's digest is up to date.
func (c *slotDigs) current(s Proc) bool { return !c.whole && !slices.Contains(c.dirty, s) }

// slotDigsOf returns a slot's cache, creating it (and the map, for a
// server assembled by hand in a test; Start resets it on every restart).
func (d *DataServer) slotDigsOf(slot int) *slotDigs {
	c := d.digs[slot]
	if c == nil {
		if d.digs == nil {
			d.digs = map[int]*slotDigs{}
		}
		c = &slotDigs{whole: true}
		d.digs[slot] = c
	}
	return c
}

// sessionDigest is pubsDigest of the session's publishers in the slot,
// sorted by (registerId, dataInfoId) (perf_sync_test.go's sessionPubs).
func (d *DataServer) sessionDigest(slot int, session Proc) uint64 {
	c := d.digs[slot]
	if c == nil {
		return uint64(newFNV()) // no datum was ever held in the slot
	}
	if !c.current(session) {
		d.rebuildDigs(slot, c)
	}
	if h, ok := c.by[session]; ok {
		return h
	}
	return uint64(newFNV())
}

// rebuildDigs hashes the stale sessions' publishers in a slot in one pass:
// those publishers sorted by (registerId, dataInfoId), a total order in a
// slot, each folded into its session's running hash, so each session's
// hash sees its own publishers in (registerId, dataInfoId) order.
func (d *DataServer) rebuildDigs(slot int, c *slotDigs) {
	if c.by == nil {
		c.by = map[Proc]uint64{}
	}
	if c.whole {
		clear(c.by)
	}
	for _, s := range c.dirty {
		delete(c.by, s)
	}
	all := d.digBuf[:0]
	for id := range d.inSlot[slot] { //detlint:allow collecting; sortPubs orders them totally below
		for reg, p := range d.datums[id].pubs { //detlint:allow collecting; sortPubs orders them totally below
			if c.whole || slices.Contains(c.dirty, p.Session) {
				all = append(all, p.pub(id, reg))
			}
		}
	}
	sortPubs(all)
	for i := range all {
		h, ok := c.by[all[i].Session]
		if !ok {
			h = uint64(newFNV())
		}
		f := fnv64(h)
		f.pub(&all[i])
		c.by[all[i].Session] = uint64(f)
	}
	clear(all) // drop the strings the buffer would otherwise pin
	d.digBuf = all[:0]
	c.whole, c.dirty = false, c.dirty[:0]
}

// syncChangesNothing reports whether a session's sync snapshot of a slot is
// what the slot holds of that session, by the digest onDigest compares
// (registerId, dataInfoId, data, version, connection; the session is the
// group): then the sync would put nothing and drop nothing, and the walk of
// every publisher of the slot is skipped. Sessions build snapshots sorted
// by registerId; one that is not strictly sorted by (registerId,
// dataInfoId) takes the walk.
func (d *DataServer) syncChangesNothing(w *DataWrite) bool {
	for i := 1; i < len(w.Pubs); i++ {
		a, b := &w.Pubs[i-1], &w.Pubs[i]
		if a.RegID > b.RegID || a.RegID == b.RegID && a.DataID >= b.DataID {
			return false
		}
	}
	return pubsDigest(w.Pubs) == d.sessionDigest(w.Slot, w.Session)
}
