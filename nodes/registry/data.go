package registry

import (
	"github.com/sofasim/sofasim/sim"
)

// DataServer stores the publishers of the slots it leads or follows.
type DataServer struct {
	sim.BaseNode
	cfg    Config
	m      member
	env    *sim.Env
	slots  map[int]*slotState
	datums map[string]*datum
	inSlot map[int]map[string]bool // slot -> the dataInfoIds held in it
	dirty  map[string]bool         // changed since the last replication batch
}

type slotState struct {
	leader  bool
	status  Status
	waiting map[Proc]bool // sessions a migrating slot still waits for
}

type datum struct {
	id      string
	version uint64
	seen    uint64 // the highest version a session reported having cached
	pubs    map[string]Pub
	tombs   map[string]uint64
	gone    map[string]Pub // the newest registration removed with its session or connection, per registerId
}

// accepts reports whether p may replace what the datum holds for its
// registerId: not unpublished at p's version or later, and not older than
// the registration it holds or than one it removed (a stalled session may
// forward an old registration after the newer one was cleaned up with
// another session's lease).
func (x *datum) accepts(p *Pub) bool {
	if x.tombs[p.RegID] >= p.Version {
		return false
	}
	if cur, ok := x.pubs[p.RegID]; ok && p.older(&cur) {
		return false
	}
	if g, ok := x.gone[p.RegID]; ok && p.older(&g) {
		return false
	}
	return true
}

// holds reports whether the datum holds exactly this registration.
func (x *datum) holds(p *Pub) bool {
	cur, ok := x.pubs[p.RegID]
	return ok && cur.Version == p.Version && cur.Conn == p.Conn && cur.Session == p.Session && cur.Data == p.Data
}

// remove drops a registration, remembering it in gone.
func (x *datum) remove(reg string) {
	cur, ok := x.pubs[reg]
	if !ok {
		return
	}
	if g, ok := x.gone[reg]; !ok || g.older(&cur) {
		x.gone[reg] = cur
	}
	delete(x.pubs, reg)
}

type (
	replTick    struct{}
	migrateTick struct{}
)

func (d *DataServer) Start(env *sim.Env) {
	d.env = env
	d.slots, d.datums, d.dirty = map[int]*slotState{}, map[string]*datum{}, map[string]bool{}
	d.inSlot = map[int]map[string]bool{}
	d.m = member{cfg: d.cfg, onTable: d.onTable}
	d.m.start(env, "data")
	d.cfg = d.m.cfg
	env.SetTimer(d.cfg.ReplicateInterval, replTick{})
	env.SetTimer(d.cfg.RetryInterval*3, migrateTick{})
}

// DataStatus is what a harness samples.
type DataStatus struct {
	Proc      Proc
	Epoch     uint64
	Leading   []int // slots served (Accept)
	Migrating []int
}

func (d *DataServer) Status() DataStatus {
	st := DataStatus{Proc: d.m.proc, Epoch: d.m.table.Epoch}
	for i := 0; i < d.cfg.Slots; i++ {
		if s := d.slots[i]; s != nil && s.leader {
			if s.status == Accept {
				st.Leading = append(st.Leading, i)
			} else {
				st.Migrating = append(st.Migrating, i)
			}
		}
	}
	return st
}

func (d *DataServer) Closed(c sim.ConnID, _ sim.NodeID) { d.m.peers.closed(c) }

func (d *DataServer) Timer(_ sim.TimerID, tag any) {
	switch tag.(type) {
	case replTick:
		d.replicate()
		d.env.SetTimer(d.cfg.ReplicateInterval, replTick{})
	case migrateTick:
		d.askMigration(nil)
		d.env.SetTimer(d.cfg.RetryInterval*3, migrateTick{})
	default:
		d.m.handle(tag)
	}
}

func (d *DataServer) Message(c sim.ConnID, from sim.NodeID, msg any) {
	if d.m.handle(msg) {
		return
	}
	switch x := msg.(type) {
	case *DataWrite:
		st := d.access(x.Slot, x.Epoch)
		if st == Accept {
			d.write(x)
		}
		d.env.Send(c, &DataWriteResp{ReqID: x.ReqID, Status: st})
	case *GetDatum:
		st := d.access(d.m.slotOf(x.DataID), x.Epoch)
		resp := &GetDatumResp{ReqID: x.ReqID, Status: st}
		if st == Accept {
			if x.Have > 0 {
				y := d.get(x.DataID)
				if x.Have > y.version || (x.Have == y.version && x.Digest != d.view(x.DataID).Digest()) {
					// A session holds a version we have not passed (a
					// previous leader's clock ran ahead), or the same
					// version with other publishers (two leaders
					// collided): move past it, or the session keeps its
					// copy for good.
					y.seen = maxU(y.seen, x.Have)
					d.changed(y)
				}
			}
			resp.Datum = d.view(x.DataID)
		}
		d.env.Send(c, resp)
	case *MigrateResp:
		d.onMigrateResp(x)
	case *Replicate:
		d.onReplicate(x)
	}
}

func (d *DataServer) access(slot int, epoch uint64) Status {
	if epoch > d.m.table.Epoch {
		return MisMatch
	}
	s := d.slots[slot]
	switch {
	case s == nil || !s.leader:
		return Moved
	case s.status != Accept:
		return Migrating
	}
	return Accept
}

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
		if cur, ok := x.pubs[w.Pub.RegID]; ok && cur.Version <= w.Pub.Version {
			delete(x.pubs, w.Pub.RegID)
			d.changed(x)
		}
		if x.tombs[w.Pub.RegID] < w.Pub.Version {
			x.tombs[w.Pub.RegID] = w.Pub.Version
		}
	case "sync":
		// The session's publishers in the slot: add what is missing or
		// older, drop what it no longer holds.
		have := map[string]bool{}
		touched := map[string]*datum{}
		for _, p := range w.Pubs {
			have[p.RegID] = true
			x := d.get(p.DataID)
			if x.holds(&p) || !x.accepts(&p) {
				continue
			}
			x.pubs[p.RegID] = p
			touched[x.id] = x
		}
		for _, id := range sortedKeys(d.inSlot[w.Slot]) {
			x := d.datums[id]
			for _, reg := range sortedKeys(x.pubs) {
				if x.pubs[reg].Session == w.Session && !have[reg] {
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
		touched := map[string]*datum{}
		for i, reg := range w.RegIDs {
			x := d.get(w.DataIDs[i])
			cur, ok := x.pubs[reg]
			if !ok {
				continue
			}
			// Only the publisher this session registered for this client
			// goes: the client may have re-registered it elsewhere since.
			if !late && (cur.Session != w.Session || cur.Client != w.Client) {
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

// changed gives the datum a new version and announces it.
func (d *DataServer) changed(x *datum) {
	wall := uint64(d.env.Now().UnixMilli())
	if _, bug := d.env.Failpoint(BugVersionCollision); bug {
		x.version = wall // the clock alone: collides, and goes back with it
	} else {
		x.version = maxU(maxU(x.version+1, wall), x.seen+1)
	}
	d.dirty[x.id] = true
	v := d.view(x.id)
	for _, s := range d.m.table.Sessions {
		d.m.peers.send(sim.NodeID(s.ID), &DatumChanged{Datum: v})
	}
}

func (d *DataServer) view(id string) *Datum {
	x := d.datums[id]
	if x == nil {
		return &Datum{DataID: id}
	}
	out := &Datum{DataID: id, Version: x.version}
	for _, reg := range sortedKeys(x.pubs) {
		p := x.pubs[reg]
		out.Pubs = append(out.Pubs, PubData{RegID: reg, Data: p.Data, Version: p.Version})
	}
	return out
}

func (d *DataServer) onTable(old Table) {
	t := &d.m.table
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
			st = &slotState{leader: true, status: Migrating, waiting: map[Proc]bool{}}
			for _, p := range t.Sessions {
				st.waiting[p] = true
			}
			d.slots[i] = st
			if _, bug := d.env.Failpoint(BugServeBeforeMigration); bug {
				st.status, st.waiting = Accept, nil // the emergency path: serve what the follower copy has
			} else {
				newly = append(newly, i)
			}
		case lead && was:
			for _, p := range sortedProcs(st.waiting) {
				if !t.hasSession(p) {
					delete(st.waiting, p)
				}
			}
			if st.status == Migrating {
				for _, p := range t.Sessions {
					if !old.hasSession(p) {
						st.waiting[p] = true // a session that joined mid-migration
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
	// that left the table (their lease expired) in the slots we serve.
	for _, id := range sortedKeys(d.datums) {
		x := d.datums[id]
		st := d.slots[d.m.slotOf(id)]
		if st == nil {
			d.drop(id)
			continue
		}
		if !st.leader {
			continue
		}
		n := len(x.pubs)
		for _, reg := range sortedKeys(x.pubs) {
			if !t.hasSession(x.pubs[reg].Session) {
				x.remove(reg)
			}
		}
		if len(x.pubs) != n && st.status == Accept {
			d.changed(x)
		}
	}
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
		if !old.hasSession(p) && len(served) > 0 {
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

func (d *DataServer) onMigrateResp(r *MigrateResp) {
	bySlot := map[int][]Pub{}
	for _, p := range r.Pubs {
		s := d.m.slotOf(p.DataID)
		bySlot[s] = append(bySlot[s], p)
	}
	touched := map[string]*datum{}
	for _, i := range r.Slots {
		st := d.slots[i]
		if st != nil && st.leader && st.status == Accept && d.m.table.hasSession(r.Session) {
			// A rejoined session: add what we miss (never delete: its
			// later writes may have overtaken this answer).
			for _, p := range bySlot[i] {
				x := d.get(p.DataID)
				if x.holds(&p) || !x.accepts(&p) {
					continue
				}
				x.pubs[p.RegID] = p
				touched[x.id] = x
			}
			continue
		}
		if st == nil || !st.leader || st.status == Accept || !st.waiting[r.Session] {
			continue
		}
		delete(st.waiting, r.Session)
		// The session is the truth about its own clients' publishers.
		for _, id := range sortedKeys(d.inSlot[i]) {
			x := d.datums[id]
			for _, reg := range sortedKeys(x.pubs) {
				if x.pubs[reg].Session == r.Session {
					x.remove(reg)
				}
			}
		}
		for _, p := range bySlot[i] {
			x := d.get(p.DataID)
			if !x.accepts(&p) {
				continue
			}
			x.pubs[p.RegID] = p
		}
	}
	for _, id := range sortedKeys(r.Versions) {
		x := d.get(id)
		x.seen = maxU(x.seen, r.Versions[id])
	}
	for _, id := range sortedKeys(touched) {
		d.changed(touched[id])
	}
	d.finishMigrations()
}

func (d *DataServer) finishMigrations() {
	var done []int
	for i := 0; i < len(d.m.table.Slots); i++ {
		st := d.slots[i]
		if st != nil && st.leader && st.status == Migrating && len(st.waiting) == 0 {
			st.status = Accept
			done = append(done, i)
		}
	}
	if len(done) == 0 {
		return
	}
	d.env.Trace("registry/migrated", d.m.table.Epoch, len(done))
	set := map[int]bool{}
	for _, i := range done {
		set[i] = true
	}
	for _, id := range sortedKeys(d.datums) {
		if set[d.m.slotOf(id)] {
			d.changed(d.datums[id])
		}
	}
}

func (d *DataServer) replicate() {
	batches := map[sim.NodeID][]*replicaDatum{}
	for _, id := range sortedKeys(d.dirty) {
		x := d.datums[id]
		slot := d.m.slotOf(id)
		st := d.slots[slot]
		if x == nil || st == nil || !st.leader || slot >= len(d.m.table.Slots) {
			continue
		}
		f := sim.NodeID(d.m.table.Slots[slot].Follower.ID)
		if f == "" {
			continue
		}
		r := &replicaDatum{DataID: id, Version: x.version, Pubs: map[string]Pub{}, Tombs: map[string]uint64{}, Gone: map[string]Pub{}}
		for k, v := range x.pubs { //detlint:allow copying a map: order does not matter
			r.Pubs[k] = v
		}
		for k, v := range x.tombs { //detlint:allow copying a map: order does not matter
			r.Tombs[k] = v
		}
		for k, v := range x.gone { //detlint:allow copying a map: order does not matter
			r.Gone[k] = v
		}
		batches[f] = append(batches[f], r)
	}
	d.dirty = map[string]bool{}
	for _, f := range sortedKeysID(batches) {
		d.m.peers.send(f, &Replicate{Epoch: d.m.table.Epoch, Datums: batches[f]})
	}
}

func (d *DataServer) onReplicate(r *Replicate) {
	for _, rd := range r.Datums {
		st := d.slots[d.m.slotOf(rd.DataID)]
		if st == nil || st.leader {
			continue // we lead it now (or hold nothing): our copy rules
		}
		x := d.get(rd.DataID)
		if rd.Version < x.version {
			continue
		}
		x.version = rd.Version
		x.pubs, x.tombs, x.gone = map[string]Pub{}, map[string]uint64{}, map[string]Pub{}
		for k, v := range rd.Pubs { //detlint:allow copying a map: order does not matter
			x.pubs[k] = v
		}
		for k, v := range rd.Tombs { //detlint:allow copying a map: order does not matter
			x.tombs[k] = v
		}
		for k, v := range rd.Gone { //detlint:allow copying a map: order does not matter
			x.gone[k] = v
		}
	}
}

func sortedProcs[V any](m map[Proc]V) []Proc {
	out := make([]Proc, 0, len(m))
	for p := range m { //detlint:allow collecting keys; sorted below
		out = append(out, p)
	}
	sortProcs(out)
	return out
}
