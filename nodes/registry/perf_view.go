package registry

// A data server's datums as sessions see them, built once per version: a
// hot dataInfoId with thousands of publishers is fetched by every session
// that has one of its subscribers after each change notice, and sorting its
// publishers for each fetch was most of the data servers' time.
//
// The memo is valid while the datum's version is unchanged: every write
// that changes the publishers of a datum this server leads gives it a new
// version (changed), removal drops the memo, and a table change drops all
// of them (a follower's replicated copy or a migration rewrites publishers
// without a new version, and only a table change makes this server serve
// them).

import (
	"slices"
	"strings"
)

// view is a datum as sessions and subscribers see it.
func (d *DataServer) view(id string) *Datum {
	x := d.datums[id]
	if x == nil {
		return &Datum{DataID: id}
	}
	if x.memo != nil && x.memo.Version == x.version {
		return x.memo
	}
	out := &Datum{DataID: id, Version: x.version, Pubs: make([]PubData, 0, len(x.pubs))}
	for reg, p := range x.pubs { //detlint:allow collecting; sorted by registerId (the map's key, so a total order) below
		out.Pubs = append(out.Pubs, PubData{RegID: reg, Data: p.Data, Version: p.Version})
	}
	slices.SortFunc(out.Pubs, func(a, b PubData) int { return strings.Compare(a.RegID, b.RegID) })
	out.digest, out.digested = datumDigest(out), true
	x.memo, x.memoDigest = out, out.digest
	return out
}

// viewDigest is view(id)'s digest.
func (d *DataServer) viewDigest(id string) uint64 {
	v := d.view(id)
	if x := d.datums[id]; x != nil && x.memo == v {
		return x.memoDigest
	}
	return datumDigest(v)
}

// forgetViews drops every memo (the order of a map's datums does not
// matter to clearing them).
func (d *DataServer) forgetViews() {
	for _, x := range d.datums { //detlint:allow order-free: clears each datum's memo
		x.memo = nil
	}
}
