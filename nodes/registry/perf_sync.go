package registry

// The digests a slot leader compares with a session's in the periodic
// sync, cached per slot: every session sends a digest of every slot it
// wrote to each period, and walking and sorting a slot's publishers once
// per session and slot was ~8% of the registry's time at 10,000 clients.

// slotDigs is one slot's digest of every session's publishers in it
// (pubsDigest of them sorted by (registerId, dataInfoId)), rebuilt in one
// walk after any change.
type slotDigs struct {
	gen   uint64 // counts changes to the slot's publishers (stale)
	built uint64 // gen when by was computed
	ok    bool   // by has been computed once
	by    map[Proc]uint64
}

// stale marks the slot's digests out of date: O(1) on every write.
func (c *slotDigs) stale() {
	if c != nil {
		c.gen++
	}
}

// slotDigsOf returns a slot's cache, creating it (and the map, for a
// server assembled by hand in a test; Start resets it on every restart).
func (d *DataServer) slotDigsOf(slot int) *slotDigs {
	c := d.digs[slot]
	if c == nil {
		if d.digs == nil {
			d.digs = map[int]*slotDigs{}
		}
		c = &slotDigs{}
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
	if !c.ok || c.built != c.gen {
		d.rebuildDigs(slot, c)
	}
	if h, ok := c.by[session]; ok {
		return h
	}
	return uint64(newFNV())
}

// rebuildDigs hashes every session's publishers in a slot in one pass: the
// slot's publishers sorted by (registerId, dataInfoId), a total order in a
// slot, each folded into its session's running hash, so each session's
// hash sees its own publishers in (registerId, dataInfoId) order.
func (d *DataServer) rebuildDigs(slot int, c *slotDigs) {
	all := d.digBuf[:0]
	for id := range d.inSlot[slot] { //detlint:allow collecting; sortPubs orders them totally below
		for _, p := range d.datums[id].pubs { //detlint:allow collecting; sortPubs orders them totally below
			all = append(all, p)
		}
	}
	sortPubs(all)
	if c.by == nil {
		c.by = map[Proc]uint64{}
	}
	clear(c.by)
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
	c.built, c.ok = c.gen, true
}

// syncChangesNothing reports whether a session's sync snapshot of a slot is
// what the slot holds of that session, by the digest onDigest compares
// (registerId, dataInfoId, data, version, connection; the session is the
// group): then the sync would put nothing and drop nothing, and the walk of
// every publisher of the slot is skipped. Sessions build snapshots sorted
// by registerId; one that is not strictly sorted by (registerId,
// dataInfoId), or arriving while the slot's digests are out of date,
// takes the walk.
func (d *DataServer) syncChangesNothing(w *DataWrite) bool {
	for i := 1; i < len(w.Pubs); i++ {
		a, b := &w.Pubs[i-1], &w.Pubs[i]
		if a.RegID > b.RegID || a.RegID == b.RegID && a.DataID >= b.DataID {
			return false
		}
	}
	c := d.digs[w.Slot]
	if c == nil || !c.ok || c.built != c.gen {
		return false // rebuilding for one session's sync cost more than the walk saves
	}
	return pubsDigest(w.Pubs) == d.sessionDigest(w.Slot, w.Session)
}
