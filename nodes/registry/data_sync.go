package registry

// The data side of the session-to-data periodic sync.

// onDigest answers a session's digests with the slots this server serves
// whose publishers of that session differ.
func (d *DataServer) onDigest(r *SlotDigest) *SlotDigestResp {
	resp := &SlotDigestResp{ReqID: r.ReqID}
	for i, slot := range r.Slots {
		if d.access(slot, r.Epoch) != Accept {
			continue
		}
		if pubsDigest(d.sessionPubs(slot, r.Session)) != r.Digests[i] {
			resp.Diff = append(resp.Diff, slot)
		}
	}
	return resp
}

// sessionPubs is what this server holds in a slot for a session process,
// sorted by registerId.
func (d *DataServer) sessionPubs(slot int, session Proc) []Pub {
	var out []Pub
	for _, id := range sortedKeys(d.inSlot[slot]) {
		x := d.datums[id]
		for _, reg := range sortedKeys(x.pubs) {
			if p := x.pubs[reg]; p.Session == session {
				out = append(out, p)
			}
		}
	}
	sortPubs(out)
	return out
}
