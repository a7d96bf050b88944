package registry

// A data server's copy of one dataInfoId and the rules that decide which
// registration wins: in one place, because every write path (publish, sync,
// migration, cleanup) must apply the same ones.

import "maps"

type datum struct {
	id      string
	version uint64
	seen    uint64            // the highest version a session reported having cached
	pubs    map[string]pubRec // by registerId
	tombs   map[string]uint64 // nil until the first unpublish
	gone    map[string]pubRec // the newest registration removed with its session or connection, per registerId; nil until the first
	// memo is the datum as last served (view; its digest rides in it):
	// valid while the version is unchanged, dropped on every removal and
	// table change (perf_view.go).
	memo *Datum
	// built is the last view built and edits the registerIds put or
	// deleted since: the next view patches it instead of sorting every
	// publisher again (perf_view.go). Nil while nothing is to be patched.
	built *Datum
	edits []string
	// scanDig is scanDigest's value while scanned: the version scan reads
	// the digest of every followed datum each scan, and sorting the
	// publishers for it was a quarter of the benchmark's simulation time.
	// Every change of pubs clears scanned (edited, install).
	scanDig uint64
	scanned bool
	// shared: which of pubs, tombs and gone are also a replica's (a
	// Replicate in flight, or the follower that installed it), so they are
	// copied before their next change (own) and otherwise never written: a
	// batch costs one copy on the leader's next write instead of two on
	// every replication, a settled datum's leader and follower hold one
	// copy, and a write copies only the map it changes (a publish left the
	// removed registrations and tombstones shared).
	shared sharedMaps
	// digs is the slot's sync digests, told of every publisher put or
	// removed, staled wholly by install (perf_sync.go).
	digs *slotDigs
}

// pubRec is a publisher as a datum keeps it: its dataInfoId is the
// datum's and its registerId the map's key, so a Pub's copies of them (a
// third of its size) are not kept again for every publisher.
type pubRec struct {
	Data    string
	Version uint64
	Conn    uint64
	Client  string
	Session *Proc // one copy per session process (procRefs)
}

// recOf is p as kept, its session process s.
func recOf(p *Pub, s *Proc) pubRec {
	return pubRec{Data: p.Data, Version: p.Version, Conn: p.Conn, Client: p.Client, Session: s}
}

// procRefs interns a data server's session processes: each publisher
// points at its session's one Proc (8 bytes) instead of holding a copy
// (24). A nil table hands out a copy each time.
type procRefs map[Proc]*Proc

func (t procRefs) ref(p Proc) *Proc {
	if r, ok := t[p]; ok {
		return r
	}
	r := &p
	if t != nil {
		t[p] = r
	}
	return r
}

// pub is the registration reg of the datum id as a Pub.
func (r *pubRec) pub(id, reg string) Pub {
	return Pub{DataID: id, RegID: reg, Data: r.Data, Version: r.Version, Conn: r.Conn, Client: r.Client, Session: *r.Session}
}

// lookup is the datum's registration reg as a Pub.
func (x *datum) lookup(reg string) (Pub, bool) {
	r, ok := x.pubs[reg]
	if !ok {
		return Pub{}, false
	}
	return r.pub(x.id, reg), true
}

// older is Pub.older: r is an older registration than q.
func (r *pubRec) older(q *Pub) bool { return regOlder(r.Version, r.Conn, q.Version, q.Conn) }

// olderThan is Pub.older with a kept registration: p is older than r.
func (p *Pub) olderThan(r *pubRec) bool { return regOlder(p.Version, p.Conn, r.Version, r.Conn) }

// sharedMaps flags the datum maps a replica shares.
type sharedMaps uint8

const (
	sharedPubs sharedMaps = 1 << iota
	sharedTombs
	sharedGone
	sharedAll = sharedPubs | sharedTombs | sharedGone
)

// own gives the datum its own copy of the maps m before a change.
func (x *datum) own(m sharedMaps) {
	if m &= x.shared; m == 0 {
		return
	}
	if m&sharedPubs != 0 {
		x.pubs = maps.Clone(x.pubs)
	}
	if m&sharedTombs != 0 {
		x.tombs = maps.Clone(x.tombs)
	}
	if m&sharedGone != 0 {
		x.gone = maps.Clone(x.gone)
	}
	x.shared &^= m
}

// put stores a registration.
func (x *datum) put(p *Pub) {
	x.own(sharedPubs)
	if cur, ok := x.pubs[p.RegID]; ok {
		x.digs.lose(*cur.Session)
	}
	x.digs.gain(p.Session)
	x.pubs[p.RegID] = recOf(p, x.digs.ref(p.Session))
	x.edited(p.RegID)
}

// tomb records an unpublish of reg at t.
func (x *datum) tomb(reg string, t uint64) {
	x.own(sharedTombs)
	if x.tombs == nil {
		x.tombs = map[string]uint64{}
	}
	x.tombs[reg] = t
}

// del drops a registration (an unpublish: not remembered in gone).
func (x *datum) del(reg string) {
	cur, ok := x.pubs[reg]
	if !ok {
		return
	}
	x.own(sharedPubs)
	x.digs.lose(*cur.Session)
	delete(x.pubs, reg)
	x.edited(reg)
}

// accepts reports whether p may replace what the datum holds for its
// registerId: not unpublished at p's version or later, and not older than
// the registration it holds or than one it removed (a stalled session may
// forward an old registration after the newer one was cleaned up with
// another session's lease).
func (x *datum) accepts(p *Pub) bool {
	if x.tombs[p.RegID] >= tombOf(p) {
		return false
	}
	if cur, ok := x.pubs[p.RegID]; ok && p.olderThan(&cur) {
		return false
	}
	if g, ok := x.gone[p.RegID]; ok && p.olderThan(&g) {
		return false
	}
	return true
}

// holds reports whether the datum holds exactly this registration.
func (x *datum) holds(p *Pub) bool {
	cur, ok := x.pubs[p.RegID]
	return ok && cur.Version == p.Version && cur.Conn == p.Conn && *cur.Session == p.Session && cur.Data == p.Data
}

// remove drops a registration, remembering it in gone.
func (x *datum) remove(reg string) {
	cur, ok := x.pubs[reg]
	if !ok {
		return
	}
	x.own(sharedPubs)
	if g, ok := x.gone[reg]; !ok || regOlder(g.Version, g.Conn, cur.Version, cur.Conn) {
		x.own(sharedGone)
		if x.gone == nil {
			x.gone = map[string]pubRec{}
		}
		x.gone[reg] = cur
	}
	x.digs.lose(*cur.Session)
	delete(x.pubs, reg)
	x.memo = nil
	x.edited(reg)
}

// tombOf is the tombstone an unpublish leaves (and the value a publish is
// compared with): the client incarnation above the version, so that a
// restarted client's publishes (versions from 1 again) pass its
// predecessor's tombstones.
func tombOf(p *Pub) uint64 { return p.Conn>>32<<32 | p.Version }
