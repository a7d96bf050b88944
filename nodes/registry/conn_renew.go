package registry

// BugSharedConnectID (sofa-registry#111): a data server that renews
// publishers by connectId, where clients behind one address (a NAT or a
// proxy) are told apart only by their port, lets one session's renewals of
// a connectId keep another session's publishers of the same connectId.
// The sim's clients have distinct addresses; under the bug a connectId is
// the connection's number alone, as ports repeat behind a shared address.

type connectID uint64

// sharedRenewals returns, when the bug is armed, which sessions hold
// publishers of each connectId on this data server (nil otherwise).
func (d *DataServer) sharedRenewals() map[connectID]map[Proc]bool {
	if _, bug := d.env.Failpoint(BugSharedConnectID); !bug {
		return nil
	}
	out := map[connectID]map[Proc]bool{}
	for _, id := range sortedKeys(d.datums) {
		for _, p := range d.datums[id].pubs { //detlint:allow building a set
			k := connectID(p.Conn)
			if out[k] == nil {
				out[k] = map[Proc]bool{}
			}
			out[k][*p.Session] = true
		}
	}
	return out
}

// renewedElsewhere reports whether another live session renews p's
// connectId, so that the buggy server keeps p though its own session or
// connection is gone.
func (d *DataServer) renewedElsewhere(r map[connectID]map[Proc]bool, p Pub) bool {
	for _, s := range sortedProcs(r[connectID(p.Conn)]) {
		if s != p.Session && d.leased(s) {
			d.env.Reached("registry/connect-id-renewed-by-other-session")
			return true
		}
	}
	return false
}
