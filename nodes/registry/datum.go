package registry

// A data server's copy of one dataInfoId and the rules that decide which
// registration wins: in one place, because every write path (publish, sync,
// migration, cleanup) must apply the same ones.

import "maps"

type datum struct {
	id      string
	version uint64
	seen    uint64 // the highest version a session reported having cached
	pubs    map[string]Pub
	tombs   map[string]uint64 // nil until the first unpublish
	gone    map[string]Pub    // the newest registration removed with its session or connection, per registerId; nil until the first
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
	// shared: pubs, tombs and gone are also a replica's (a Replicate in
	// flight, or the follower that installed it), so they are copied before
	// the next change (own) and otherwise never written: a batch costs one
	// copy on the leader's next write instead of two on every replication,
	// and a settled datum's leader and follower hold one copy.
	shared bool
	// digs is the slot's sync digests, staled for the sessions of every
	// publisher put or removed, wholly by install (perf_sync.go).
	digs *slotDigs
}

// own gives the datum maps of its own before a change.
func (x *datum) own() {
	if x.shared {
		x.pubs, x.tombs, x.gone, x.shared = maps.Clone(x.pubs), maps.Clone(x.tombs), maps.Clone(x.gone), false
	}
}

// put stores a registration.
func (x *datum) put(p *Pub) {
	x.own()
	if cur, ok := x.pubs[p.RegID]; ok && cur.Session != p.Session {
		x.digs.stale(cur.Session)
	}
	x.digs.stale(p.Session)
	x.pubs[p.RegID] = *p
	x.edited(p.RegID)
}

// tomb records an unpublish of reg at t.
func (x *datum) tomb(reg string, t uint64) {
	x.own()
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
	x.own()
	x.digs.stale(cur.Session)
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
	x.own()
	if x.gone == nil {
		x.gone = map[string]Pub{}
	}
	if g, ok := x.gone[reg]; !ok || g.older(&cur) {
		x.gone[reg] = cur
	}
	x.digs.stale(cur.Session)
	delete(x.pubs, reg)
	x.memo = nil
	x.edited(reg)
}

// tombOf is the tombstone an unpublish leaves (and the value a publish is
// compared with): the client incarnation above the version, so that a
// restarted client's publishes (versions from 1 again) pass its
// predecessor's tombstones.
func tombOf(p *Pub) uint64 { return p.Conn>>32<<32 | p.Version }
