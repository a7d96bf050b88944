package registry

// How a data server numbers a datum's versions: one rule for every write,
// migration and repair path (changed and repairVersion).

// The version rules (Config.Version).
const (
	// VersionRepair (the default): max(last+1, wall ms, the highest
	// version a session reported + 1), and a session's fetch carrying the
	// same version with other content moves past it too. A new leader
	// whose clock is behind its predecessor's still passes what the
	// sessions hold.
	VersionRepair = "repair"
	// VersionNextID is SOFARegistry's DatumVersionUtil.nextId(): (ms -
	// 2019-01-01 CST) << 15 | a per-process sequence, refused ("Clock moved
	// backwards") while the clock is behind the last id this process made.
	// Every change takes one (PublisherGroup.updateVersion), so does a
	// finished migration (the whole slot) and a session that reports a
	// higher version than the datum's (GetDataVersionsHandler): a clock
	// behind the session's version stays below it.
	VersionNextID = "nextid"
)

const (
	nextIDEpoch   = 1546272000000 // DatumVersionUtil.twepoch, ms
	nextIDSeqBits = 15
)

// nextID is DatumVersionUtil's state: static in the real data server, so
// one per process, lost with it.
type nextID struct {
	last int64 // ms of the last id
	seq  uint64
}

// next is nextId() at wall clock ms; false when the clock moved backwards.
// 2^15 ids in one millisecond wait for the next one (untilNextMillis):
// the sim's clock does not move within a handler, so that is last+1.
func (g *nextID) next(ms int64) (uint64, bool) {
	if ms < g.last {
		return 0, false
	}
	if ms == g.last {
		if g.seq = (g.seq + 1) & (1<<nextIDSeqBits - 1); g.seq == 0 {
			ms = g.last + 1
		}
	} else {
		g.seq = 0
	}
	g.last = ms
	return uint64(ms-nextIDEpoch)<<nextIDSeqBits | g.seq, true
}

// canVersion reports whether a change now gets a version.
func (d *DataServer) canVersion() bool {
	return d.cfg.Version != VersionNextID || d.env.Now().UnixMilli() >= d.ids.last
}

// changed gives the datum a new version; the session servers hear of it
// with the next change notice (perf_notify.go). It reports false when
// nextId refused: the change stays, unversioned and unannounced, as the
// real datum keeps a publisher put before updateVersion threw.
func (d *DataServer) changed(x *datum) bool {
	wall := uint64(d.env.Now().UnixMilli())
	d.dirty[x.id] = true
	x.memo = nil
	switch _, bug := d.env.Failpoint(BugVersionCollision); {
	case bug:
		x.version = wall // the clock alone: collides, and goes back with it
	case d.cfg.Version == VersionNextID:
		v, ok := d.ids.next(int64(wall))
		if !ok {
			d.env.Reached("registry/clock-moved-backwards")
			return false
		}
		x.version = v
	default:
		x.version = maxU(maxU(x.version+1, wall), x.seen+1)
		if x.version > wall+1 {
			d.env.Reached("registry/version-ahead-of-clock") // a clock behind, or two changes in one millisecond
		}
	}
	d.notes.add(x.id, x.version)
	return true
}

// repairVersion answers a session's fetch carrying the version it has
// cached (and its digest): a lower datum version is never pushed over it.
// VersionRepair moves past it, or past an equal one with other content (two
// leaders collided), and only then; VersionNextID takes a new id, which a
// clock behind the session's leaves below it.
func (d *DataServer) repairVersion(y *datum, have, digest uint64) {
	if d.cfg.Version == VersionNextID {
		if have > y.version {
			d.changed(y)
			if y.version < have {
				d.env.Reached("registry/nextid-repair-below-session")
			}
		}
		return
	}
	if have > y.version || (have == y.version && digest != d.viewDigest(y.id)) {
		// A session holds a version we have not passed (a previous
		// leader's clock ran ahead), or the same version with other
		// publishers (two leaders collided): move past it, or the session
		// keeps its copy for good.
		y.seen = maxU(y.seen, have)
		d.changed(y)
	}
}
