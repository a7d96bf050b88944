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
		if d.sessionDigest(slot, r.Session) != r.Digests[i] {
			resp.Diff = append(resp.Diff, slot)
		}
	}
	return resp
}
