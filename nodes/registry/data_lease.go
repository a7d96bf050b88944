package registry

// The data side's session leases (SOFARegistry's SessionLeaseManager): a
// session process's publishers stay while it is in the meta's table, holds
// a connection to this server, or was heard from within SessionLease; only
// then does the slot leader clean them. The meta's table alone is a poor
// judge: a session that a GC pause or a partition cut from the meta leader
// still serves its clients.

import (
	"sort"

	"github.com/sofasim/sofasim/sim"
)

type leaseTick struct{}

// heard renews a session process's lease and remembers the connection it
// spoke on.
func (d *DataServer) heard(c sim.ConnID, p Proc) {
	if p.ID == "" {
		return
	}
	d.leases[p] = d.env.Monotonic()
	d.sessConns[c] = p
}

// leased reports whether a session process's publishers stay.
func (d *DataServer) leased(p Proc) bool {
	if d.cfg.EvictWithTable {
		return d.m.table.hasSession(p)
	}
	_, ok := d.leases[p]
	return ok || d.m.table.hasSession(p)
}

// checkLeases renews the leases of sessions in the table or connected,
// expires the others after SessionLease, and cleans the expired sessions'
// publishers in the slots this server serves.
func (d *DataServer) checkLeases() {
	now := d.env.Monotonic()
	connected := map[Proc]bool{}
	for _, c := range sortedConnIDs(d.sessConns) {
		connected[d.sessConns[c]] = true
	}
	for _, p := range d.m.table.Sessions {
		d.leases[p] = now
	}
	for _, p := range sortedProcs(d.leases) {
		switch {
		case connected[p]:
			d.leases[p] = now
		case now-d.leases[p] > d.cfg.SessionLease:
			d.env.Reached("registry/session-lease-expired-on-data")
			delete(d.leases, p)
		}
	}
	d.cleanUnleased()
}

// cleanUnleased removes the publishers of sessions whose lease is gone
// from the slots this server serves. Nearly every call finds them all
// leased: that is looked at first, in any order, and only otherwise are
// the datums and publishers walked in order.
func (d *DataServer) cleanUnleased() {
	r := d.sharedRenewals() // first, on every call: it evaluates a failpoint, and skipping one would change runs with it armed
	if d.allLeased() {
		return
	}
	for _, id := range sortedKeys(d.datums) {
		x := d.datums[id]
		st := d.slots[d.m.slotOf(id)]
		if st == nil || !st.leader {
			continue
		}
		n := len(x.pubs)
		for _, reg := range sortedKeys(x.pubs) {
			if p := x.pubs[reg]; !d.leased(*p.Session) && !d.renewedElsewhere(r, p.pub(id, reg)) {
				x.remove(reg)
			}
		}
		if len(x.pubs) != n && st.status == Accept {
			d.changed(x)
		}
	}
}

// allLeased: every publisher in the slots this server leads is of a
// leased session (cleanUnleased would remove none). Walked by the led
// slots' index, not every datum: a slot hash per datum was half its cost;
// and a slot whose sync digests count each session's publishers asks only
// of the sessions that hold some, not of every publisher (perf_sync.go).
func (d *DataServer) allLeased() bool {
	for slot, st := range d.slots { //detlint:allow a check of every publisher: the order does not matter
		if st == nil || !st.leader {
			continue
		}
		if c := d.digs[slot]; c != nil && !c.whole {
			for s, e := range c.by { //detlint:allow as above
				if e.n > 0 && !d.leased(*s) {
					return false
				}
			}
			continue
		}
		for id := range d.inSlot[slot] { //detlint:allow as above
			for _, p := range d.datums[id].pubs { //detlint:allow as above
				if !d.leased(*p.Session) {
					return false
				}
			}
		}
	}
	return true
}

func sortedConnIDs[V any](m map[sim.ConnID]V) []sim.ConnID {
	out := make([]sim.ConnID, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
