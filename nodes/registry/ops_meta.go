package registry

// The ops side of a meta server: it keeps the provide data (the real
// product's database table, here each meta server's disk), takes data
// servers out of the table when they quit gracefully, takes the slot
// reconcile controls (reconcile.go), and quits the election on request.

import "github.com/sofasim/sofasim/sim"

// opsMessage takes the ops messages; it reports whether msg was one.
func (m *MetaServer) opsMessage(conn sim.ConnID, msg any) bool {
	switch x := msg.(type) {
	case *ProvideWrite:
		if m.prov.put(x.Data) {
			m.env.Send(conn, &ProvideWriteAck{ReqID: x.ReqID})
		}
	case *ProvideFetch:
		m.env.Send(conn, &ProvideAnswer{Data: m.prov.newer(x.Have)})
	case *WatchFetch:
		m.env.Send(conn, m.prov.watchAnswer(x))
	case *ProvideGet:
		if d := m.prov.get(x.Key); d.Version > 0 {
			m.env.Send(conn, &ProvideAnswer{Data: []ProvideData{d}})
		} else {
			m.env.Send(conn, &ProvideMissing{Key: x.Key})
		}
	case *Forbid:
		m.onForbid(conn, x)
	case *MetaQuitElection:
		m.quitElection()
	case *SlotReconcile:
		m.setReconcile(x)
	case *SlotForceRefresh:
		m.forceRefresh(func(r *SlotForceRefreshResp) { m.env.Send(conn, r) }, x)
	default:
		return false
	}
	return true
}

// onForbid drops a quitting data server's lease at once, so the next
// table leaves it out and its slots move to the other data servers, which
// sync from the session servers before they serve; it is answered like a
// heartbeat, so the server learns the tables that leave it out.
func (m *MetaServer) onForbid(conn sim.ConnID, f *Forbid) {
	m.checkLeader()
	if !m.acting() {
		m.env.Send(conn, &HeartbeatResp{Leader: false})
		return
	}
	id := f.Proc.ID
	m.conns[id], m.epochs[id] = conn, f.Epoch
	if cur, ok := m.procs[id]; ok && cur.Inc <= f.Proc.Inc {
		delete(m.leases, id)
		delete(m.procs, id)
		delete(m.roles, id)
		m.membersChanged()
		m.env.Trace("registry/forbidden", id)
		m.env.Reached("registry/data-quit")
	}
	resp := &HeartbeatResp{Leader: true}
	if t := m.table(); f.Epoch < t.Epoch {
		c := copyTable(t)
		resp.Table = &c
	}
	m.env.Send(conn, resp)
	m.maybePropose()
}

// quitElection gives up leadership. Under election=db the meta becomes an
// observer of the lock (SOFARegistry's change2Observer): it stops acting at
// once and a follower takes the row over once it expires. Under raft the
// closest is a leadership transfer to the next meta server.
func (m *MetaServer) quitElection() {
	if !m.acting() {
		return
	}
	if m.db != nil {
		m.db.observer = true
		m.env.Trace("registry/meta-quit-election", "observer")
		m.env.Reached("registry/meta-quit-election")
		m.checkLeader()
		return
	}
	for i, id := range m.cfg.Metas {
		if id == m.env.ID() {
			next := m.cfg.Metas[(i+1)%len(m.cfg.Metas)]
			if next != id && m.raft.TransferLeader(next) == nil {
				m.env.Trace("registry/meta-quit-election", string(next))
				m.env.Reached("registry/meta-quit-election")
			}
			return
		}
	}
}
