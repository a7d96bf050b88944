package registry

// The data side of the session-to-data periodic sync.

// onDigest answers a session's digests with the slots this server serves
// whose publishers of that session differ.
func (d *DataServer) onDigest(r *SlotDigest) *SlotDigestResp {
	resp := &SlotDigestResp{ReqID: r.ReqID}
	var buf []Pub
	for i, slot := range r.Slots {
		if d.access(slot, r.Epoch) != Accept {
			continue
		}
		buf = d.sessionPubs(buf[:0], slot, r.Session)
		if pubsDigest(buf) != r.Digests[i] {
			resp.Diff = append(resp.Diff, slot)
		}
	}
	return resp
}

// sessionPubs appends to out what this server holds in a slot for a
// session process, sorted by (registerId, dataInfoId). That order is total
// (a datum holds one publisher per registerId), so the maps are walked
// unsorted: sorting every datum's keys for every digest was most of the
// data servers' time.
func (d *DataServer) sessionPubs(out []Pub, slot int, session Proc) []Pub {
	for id := range d.inSlot[slot] { //detlint:allow collecting; sortPubs orders them totally below
		for _, p := range d.datums[id].pubs { //detlint:allow collecting; sortPubs orders them totally below
			if p.Session == session {
				out = append(out, p)
			}
		}
	}
	sortPubs(out)
	return out
}
