package registry

// Writes on a slot leader (publish, unpublish, session sync, connection
// cleanup) and the versioning that announces each change.

// get returns the datum, creating an empty one in its slot's index.
func (d *DataServer) get(id string) *datum {
	x := d.datums[id]
	if x == nil {
		x = &datum{id: id, pubs: map[string]Pub{}, tombs: map[string]uint64{}, gone: map[string]Pub{}}
		d.datums[id] = x
		slot := d.m.slotOf(id)
		if d.inSlot[slot] == nil {
			d.inSlot[slot] = map[string]bool{}
		}
		d.inSlot[slot][id] = true
	}
	return x
}

// drop forgets a datum.
func (d *DataServer) drop(id string) {
	delete(d.datums, id)
	slot := d.m.slotOf(id)
	delete(d.inSlot[slot], id)
	if len(d.inSlot[slot]) == 0 {
		delete(d.inSlot, slot)
	}
}

// write applies an accepted write to the slot's datums.
func (d *DataServer) write(w *DataWrite) {
	switch w.Kind {
	case "pub":
		x := d.get(w.Pub.DataID)
		if !x.accepts(&w.Pub) {
			return
		}
		x.pubs[w.Pub.RegID] = w.Pub
		d.changed(x)
	case "unpub":
		x := d.get(w.Pub.DataID)
		if cur, ok := x.pubs[w.Pub.RegID]; ok && !w.Pub.older(&cur) {
			delete(x.pubs, w.Pub.RegID)
			d.changed(x)
		}
		if t := tombOf(&w.Pub); x.tombs[w.Pub.RegID] < t {
			x.tombs[w.Pub.RegID] = t
		}
	case "sync":
		// The session's publishers in the slot: add what is missing or
		// older, drop what it no longer holds. A snapshot built in an
		// older table than one already applied (a migration answer travels
		// on another connection) would drop publishers registered since.
		if !d.snapshotApplied(w.Session, w.Slot, w.Epoch) {
			d.env.Reached("registry/stale-sync-ignored")
			return
		}
		have := map[string]bool{}
		touched := map[string]*datum{}
		for _, p := range w.Pubs {
			have[p.DataID+"\x00"+p.RegID] = true
			x := d.get(p.DataID)
			if x.holds(&p) || !x.accepts(&p) {
				continue
			}
			x.pubs[p.RegID] = p
			touched[x.id] = x
		}
		r := d.sharedRenewals()
		for _, id := range sortedKeys(d.inSlot[w.Slot]) {
			x := d.datums[id]
			for _, reg := range sortedKeys(x.pubs) {
				if x.pubs[reg].Session == w.Session && !have[id+"\x00"+reg] && !d.renewedElsewhere(r, x.pubs[reg]) {
					x.remove(reg)
					touched[id] = x
				}
			}
		}
		for _, id := range sortedKeys(touched) {
			d.changed(touched[id])
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
			newer := i < len(w.Pubs) && w.Pubs[i].older(&cur)
			if cur.Session != w.Session || cur.Client != w.Client || newer {
				d.env.Reached("registry/cleanup-spared-reregistered-publisher")
				if !late {
					continue
				}
			}
			if d.renewedElsewhere(r, cur) {
				continue
			}
			x.remove(reg)
			touched[x.id] = x
		}
		for _, id := range sortedKeys(touched) {
			d.changed(touched[id])
		}
	}
}

// changed gives the datum a new version; the session servers hear of it
// with the next change notice (perf_notify.go).
func (d *DataServer) changed(x *datum) {
	wall := uint64(d.env.Now().UnixMilli())
	if _, bug := d.env.Failpoint(BugVersionCollision); bug {
		x.version = wall // the clock alone: collides, and goes back with it
	} else {
		x.version = maxU(maxU(x.version+1, wall), x.seen+1)
	}
	if x.version > wall+1 {
		d.env.Reached("registry/version-ahead-of-clock") // a clock behind, or two changes in one millisecond
	}
	d.dirty[x.id] = true
	x.memo = nil
	d.notes.add(x.id, x.version)
}

// snapshotApplied records a session's snapshot of a slot built in table
// epoch; it reports false when a newer one was already applied.
func (d *DataServer) snapshotApplied(session Proc, slot int, epoch uint64) bool {
	m := d.snaps[session]
	if m == nil {
		m = map[int]uint64{}
		d.snaps[session] = m
	}
	if epoch < m[slot] {
		return false
	}
	m[slot] = epoch
	return true
}
