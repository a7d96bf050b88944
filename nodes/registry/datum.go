package registry

// A data server's copy of one dataInfoId and the rules that decide which
// registration wins: in one place, because every write path (publish, sync,
// migration, cleanup) must apply the same ones.

type datum struct {
	id      string
	version uint64
	seen    uint64 // the highest version a session reported having cached
	pubs    map[string]Pub
	tombs   map[string]uint64
	gone    map[string]Pub // the newest registration removed with its session or connection, per registerId
	// memo is the datum as last served (view), and its digest: valid while
	// the version is unchanged, dropped on every removal and table change
	// (perf_view.go).
	memo       *Datum
	memoDigest uint64
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
	if g, ok := x.gone[reg]; !ok || g.older(&cur) {
		x.gone[reg] = cur
	}
	delete(x.pubs, reg)
	x.memo = nil
}

// tombOf is the tombstone an unpublish leaves (and the value a publish is
// compared with): the client incarnation above the version, so that a
// restarted client's publishes (versions from 1 again) pass its
// predecessor's tombstones.
func tombOf(p *Pub) uint64 { return p.Conn>>32<<32 | p.Version }
