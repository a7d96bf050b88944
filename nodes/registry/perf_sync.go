package registry

// The digests a slot leader compares with a session's in the periodic
// sync, cached per slot: every session sends a digest of every slot it
// wrote to each period, and walking and sorting a slot's publishers once
// per session and slot was ~8% of the registry's time at 10,000 clients.

import "slices"

// slotDigs is one slot's digest of every session's publishers in it
// (pubsDigest of them sorted by (registerId, dataInfoId)) and how many it
// holds there. A change stales only the sessions whose publishers it
// touched, and a session's digest is recomputed only when it is asked for
// stale: after a table change every session re-syncs the slots that moved
// while writes land, and staling the whole slot on each write made every
// sync walk it.
type slotDigs struct {
	by    map[*Proc]sessDig //detlint:allow looked up, never ordered (allLeased asks all): sessions holding publishers in the slot, by their Proc in procs (nil while whole)
	dirty []*Proc           // the sessions whose digest is stale (at most maxDirty)
	whole bool              // everything is stale (never computed, a replica installed, a datum dropped)
	procs procRefs          // the server's: a pointer key is a third of a Proc
}

// sessDig is one session's publishers in a slot: their digest (unless the
// session is dirty) and their number (kept up to date on every change).
type sessDig struct {
	h uint64
	n int32
}

// maxDirty: past this many stale sessions, one walk recomputes them all.
const maxDirty = 32

// gain and lose count a publisher of session s put into or removed from the
// slot, and stale its digest.
func (c *slotDigs) gain(s Proc) { c.count(s, 1) }
func (c *slotDigs) lose(s Proc) { c.count(s, -1) }

func (c *slotDigs) count(s Proc, n int32) {
	if c == nil || c.whole {
		return
	}
	k := c.procs.ref(s)
	if !slices.Contains(c.dirty, k) {
		if len(c.dirty) == maxDirty {
			c.staleAll()
			return
		}
		c.dirty = append(c.dirty, k)
	}
	e := c.by[k]
	e.n += n
	c.by[k] = e
}

// staleAll marks everything about the slot out of date, and lets its
// digests go: a follower's slot is staled by every replica it installs and
// never asked for its digests.
func (c *slotDigs) staleAll() {
	if c != nil {
		c.whole, c.dirty, c.by = true, c.dirty[:0], nil
	}
}

// current reports whether session s's digest is up to date.
func (c *slotDigs) current(s Proc) bool { return !c.whole && !c.stale(s) }

// stale reports whether s is among the dirty sessions.
func (c *slotDigs) stale(s Proc) bool {
	for _, q := range c.dirty {
		if *q == s {
			return true
		}
	}
	return false
}

// ref is the server's one copy of session process s, which publishers
// point at (a fresh one for a datum a test made without a slot).
func (c *slotDigs) ref(s Proc) *Proc {
	if c == nil {
		return &s
	}
	return c.procs.ref(s)
}

// of is session s's entry (unless whole).
func (c *slotDigs) of(s Proc) (sessDig, bool) {
	e, ok := c.by[c.procs.ref(s)]
	return e, ok
}

// settle records session s's fresh digest and count.
func (c *slotDigs) settle(s Proc, e sessDig) {
	k := c.procs.ref(s)
	if e.n == 0 {
		delete(c.by, k)
	} else {
		c.by[k] = e
	}
	c.dirty = slices.DeleteFunc(c.dirty, func(q *Proc) bool { return q == k })
}

// slotDigsOf returns a slot's cache, creating it (and the map, for a
// server assembled by hand in a test; Start resets it on every restart).
func (d *DataServer) slotDigsOf(slot int) *slotDigs {
	c := d.digs[slot]
	if c == nil {
		if d.digs == nil {
			d.digs = map[int]*slotDigs{}
		}
		if d.procs == nil {
			d.procs = procRefs{}
		}
		c = &slotDigs{whole: true, procs: d.procs}
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
	if e, ok := c.of(session); ok {
		return e.h
	}
	return uint64(newFNV())
}

// rebuildDigs hashes the stale sessions' publishers in a slot in one pass:
// those publishers sorted by (registerId, dataInfoId), a total order in a
// slot, each folded into its session's running hash, so each session's
// hash sees its own publishers in (registerId, dataInfoId) order.
func (d *DataServer) rebuildDigs(slot int, c *slotDigs) {
	need := -1 // the stale sessions' publishers, counted (unless whole): the walk ends once all are found
	if c.whole {
		c.by = map[*Proc]sessDig{} //detlint:allow as slotDigs.by
	} else {
		need = 0
		for _, s := range c.dirty {
			need += int(c.by[s].n)
			delete(c.by, s)
		}
	}
	all := d.digBuf[:0]
	for id := range d.inSlot[slot] { //detlint:allow collecting; sortPubs orders them totally below
		if len(all) == need {
			break
		}
		for reg, p := range d.datums[id].pubs { //detlint:allow collecting; sortPubs orders them totally below
			if c.whole || c.stale(*p.Session) {
				if all = append(all, p.pub(id, reg)); len(all) == need {
					break
				}
			}
		}
	}
	sortPubs(all)
	var k *Proc
	for i := range all {
		if k == nil || *k != all[i].Session {
			k = c.procs.ref(all[i].Session)
		}
		e, ok := c.by[k]
		if !ok {
			e.h = uint64(newFNV())
		}
		f := fnv64(e.h)
		f.pub(&all[i])
		e.h, e.n = uint64(f), e.n+1
		c.by[k] = e
	}
	d.keepBuf(all)
	c.whole, c.dirty = false, c.dirty[:0]
}

// heldIn is how many publishers session s holds in the slot: every
// session's migration answer removes its publishers there, and walking the
// whole slot for each of them was most of a new leader's time.
func (d *DataServer) heldIn(slot int, s Proc) int {
	c := d.digs[slot]
	if c == nil {
		return 0
	}
	if c.whole {
		d.rebuildDigs(slot, c)
	}
	e, _ := c.of(s)
	return int(e.n)
}

// keepBuf keeps a small scratch buffer for the next digest, emptied so it
// pins no strings; a slot's worth of a hot datum's publishers (a whole
// rebuild) is let go.
func (d *DataServer) keepBuf(b []Pub) {
	if cap(b) > 64 {
		d.digBuf = nil
		return
	}
	clear(b)
	d.digBuf = b[:0]
}

// answeredDigest brings a session's digest in a slot up to date after its
// migration answer replaced all its publishers there: they are among the
// answer's, pubs[k] for k in idx, so they are hashed without walking the
// slot.
func (d *DataServer) answeredDigest(slot int, s Proc, pubs []Pub, idx []int) {
	c := d.digs[slot]
	if c == nil || c.whole {
		return // the next rebuild recomputes every session anyway
	}
	mine := d.digBuf[:0]
	for _, k := range idx {
		p := &pubs[k]
		if x := d.datums[p.DataID]; x != nil {
			if r, ok := x.pubs[p.RegID]; ok && *r.Session == s {
				mine = append(mine, r.pub(p.DataID, p.RegID))
			}
		}
	}
	sortPubs(mine)
	mine = slices.CompactFunc(mine, func(a, b Pub) bool { return a.RegID == b.RegID && a.DataID == b.DataID })
	c.settle(s, sessDig{h: pubsDigest(mine), n: int32(len(mine))})
	d.keepBuf(mine)
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
	if c := d.digs[w.Slot]; c != nil && !c.whole && !c.current(w.Session) {
		return d.snapshotHeld(c, w)
	}
	return pubsDigest(w.Pubs) == d.sessionDigest(w.Slot, w.Session)
}

// snapshotHeld is syncChangesNothing for a session whose digest is stale:
// the snapshot's publishers, distinct, are each held as they are and are as
// many as the session holds in the slot. A session's writes stale its
// digest, and rebuilding it for each of its syncs walked the slot.
func (d *DataServer) snapshotHeld(c *slotDigs, w *DataWrite) bool {
	if e, _ := c.of(w.Session); int(e.n) != len(w.Pubs) {
		return false
	}
	for i := range w.Pubs {
		p := &w.Pubs[i]
		x := d.datums[p.DataID]
		if x == nil || x.digs != c || p.Session != w.Session || !x.holds(p) {
			return false
		}
	}
	c.settle(w.Session, sessDig{h: pubsDigest(w.Pubs), n: int32(len(w.Pubs))})
	return true
}
