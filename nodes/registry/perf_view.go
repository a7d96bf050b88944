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
//
// A new version's view patches the last one built with the registerIds
// written since (datum.edits): a hot datum changes one publisher a write,
// and re-sorting all of them on each version was 4% of the benchmark's CPU.

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
	if x.built != nil {
		x.patch(out)
	} else {
		for reg, p := range x.pubs { //detlint:allow collecting; sorted by registerId (the map's key, so a total order) below
			out.Pubs = append(out.Pubs, PubData{RegID: reg, Data: p.Data, Version: p.Version})
		}
		slices.SortFunc(out.Pubs, func(a, b PubData) int { return strings.Compare(a.RegID, b.RegID) })
	}
	out.digest, out.digested = datumDigest(out), true
	x.memo, x.built, x.edits = out, out, nil
	return out
}

// patch fills out with the last view built, the edited registerIds taken
// from the publishers now (merged in registerId order).
func (x *datum) patch(out *Datum) {
	slices.Sort(x.edits)
	old := x.built.Pubs
	i := 0
	for _, reg := range slices.Compact(x.edits) {
		// the run of unedited publishers before reg, copied at once
		j, found := slices.BinarySearchFunc(old[i:], reg, func(p PubData, reg string) int { return strings.Compare(p.RegID, reg) })
		out.Pubs = append(out.Pubs, old[i:i+j]...)
		if i += j; found {
			i++
		}
		if p, ok := x.pubs[reg]; ok {
			out.Pubs = append(out.Pubs, PubData{RegID: reg, Data: p.Data, Version: p.Version})
		}
	}
	out.Pubs = append(out.Pubs, old[i:]...)
}

// edited notes a registerId written since the last view built; past a
// quarter of the publishers, sorting them all again is as cheap.
func (x *datum) edited(reg string) {
	x.scanned = false
	if x.built == nil {
		return
	}
	if len(x.edits) >= max(8, len(x.built.Pubs)/4) {
		x.built, x.edits = nil, nil
		return
	}
	x.edits = append(x.edits, reg)
}

// viewDigest is view(id)'s digest.
func (d *DataServer) viewDigest(id string) uint64 { return d.view(id).Digest() }

// forgetViews drops every memo (the order of a map's datums does not
// matter to clearing them).
func (d *DataServer) forgetViews() {
	for _, x := range d.datums { //detlint:allow order-free: clears each datum's memo
		x.memo = nil
	}
}
