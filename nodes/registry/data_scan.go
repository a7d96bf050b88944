package registry

// The data side of the sessions' version scan (SOFARegistry's
// GetDataVersionsHandler): a session asks each data server once per scan
// for the versions of the datums it follows there, and fetches only the
// ones that differ from what it holds.

import (
	"github.com/sofasim/sofasim/sim"
)

// onGetVersions answers a version scan with the versions that differ from
// what the session holds, in the slots served here. As the real handler,
// the request renews the session's lease (processSessionProcessId) and a
// session holding a higher version moves the datum past it (repairVersion),
// so the new version is answered; a slot not served is left out, to be
// asked again next scan.
func (d *DataServer) onGetVersions(c sim.ConnID, g *GetVersions) {
	d.heard(c, g.Session)
	resp := &GetVersionsResp{}
	for _, in := range g.Slots {
		if d.access(in.Slot, g.Epoch) != Accept {
			continue
		}
		for i, id := range in.IDs {
			if v, ok := d.versionFor(id, in.Have[i], in.Digests[i]); ok && v != in.Have[i] {
				resp.IDs = append(resp.IDs, id)
				resp.Versions = append(resp.Versions, v)
			}
		}
	}
	d.env.Send(c, resp)
}

// versionFor is a datum's version as a session holding have (with digest)
// reads it; false for a remote datum whose slot has not synced yet.
func (d *DataServer) versionFor(id string, have, digest uint64) (uint64, bool) {
	if dc, rid, ok := splitRemote(id); ok {
		x := d.remoteFor(dc, rid, have, digest)
		if x == nil {
			return 0, false
		}
		return x.version, true
	}
	if x := d.datums[id]; x != nil && x.memo == nil && have == x.version && digest == scanDigest(x) {
		return x.version, true // held as it is: no view kept for it
	}
	d.repairFor(id, have, digest)
	if x := d.datums[id]; x != nil {
		return x.version, true
	}
	return 0, true
}

// scanDigest is viewDigest(x.id) without keeping the view: a scan reads
// the digest of every datum a session follows, most of them never fetched
// (keeping a view for each measured about 40 bytes a client at 10,000).
func scanDigest(x *datum) uint64 {
	if x.scanned {
		return x.scanDig
	}
	h := newFNV()
	for _, reg := range sortedKeys(x.pubs) {
		p := x.pubs[reg]
		h.pubData(reg, p.Data, p.Version)
	}
	x.scanDig, x.scanned = uint64(h), true
	return x.scanDig
}

// repairFor moves a local datum past what a session holds (repairVersion);
// a session that holds nothing leaves it alone.
func (d *DataServer) repairFor(id string, have, digest uint64) {
	if have > 0 {
		d.repairVersion(d.get(id), have, digest)
	}
}
