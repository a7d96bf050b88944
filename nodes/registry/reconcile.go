package registry

// Slot reconcile controls of a meta server, as SOFARegistry's
// SlotTableResource offers them:
//
//   - reconcile stop/start (PUT /reconcile/stop, /start) suspends the
//     meta's ScheduledSlotArranger: it neither repairs nor balances the slot
//     table (a dead data server keeps its slots). The flag is in the memory
//     of the meta that received it, so a restarted meta or a new leader that
//     was not told arranges again; session membership, which is not part of
//     SOFARegistry's slot table, still follows the leases.
//   - force refresh (PUT /force/refresh, leader only) runs a BalanceTask
//     under the arranger's lock: a brand-new table from the live data
//     servers (leader of slot i the i-th server round robin, its follower
//     counted from the last), every slot moved at once whatever the
//     current table, even while reconcile is stopped; it fails while an
//     arrangement is running (here: a table proposal in flight).

// SlotReconcile: ops console -> a meta server: stop (Stop) or start its
// slot arrangement.
type SlotReconcile struct{ Stop bool }

// SlotForceRefresh: ops console -> a meta server: rebuild the slot table now.
type SlotForceRefresh struct{ ReqID uint64 }

// SlotForceRefreshResp: meta -> console. OK with the epoch of the table
// made (the current one when there is no data server); otherwise Reason.
type SlotForceRefreshResp struct {
	ReqID  uint64
	OK     bool
	Reason string
	Epoch  uint64
}

// reconcile is a meta server's arranger state, in memory only.
type reconcile struct{ stopped bool }

func (m *MetaServer) setReconcile(r *SlotReconcile) {
	if m.rec.stopped != r.Stop {
		m.rec.stopped = r.Stop
		m.env.Trace("registry/slot-reconcile-stopped", r.Stop)
	}
	if !r.Stop {
		m.maybePropose()
	}
}

// arranged is the table the arranger makes from cur: computeTable's, or
// while reconcile is stopped cur's data servers and slots with the live
// sessions.
func (m *MetaServer) arranged(cur *Table, data, sessions []Proc) Table {
	if m.rec.stopped {
		m.env.Reached("registry/slot-reconcile-held")
		t := *cur // tables are values, never changed in place
		t.Sessions = sessions
		return t
	}
	return arrangeTable(cur, data, sessions, m.cfg.Slots, m.stable(cur, data), m.cfg.RealAssigner)
}

// forceRefresh answers SlotForceRefresh.
func (m *MetaServer) forceRefresh(reply func(*SlotForceRefreshResp), r *SlotForceRefresh) {
	m.checkLeader()
	resp := &SlotForceRefreshResp{ReqID: r.ReqID}
	switch {
	case !m.acting():
		resp.Reason = "not the meta-server leader"
	case m.propose:
		resp.Reason = "scheduled slot arrangement is running"
	default:
		data, sessions := m.members()
		cur := m.table()
		if len(data) == 0 {
			resp.OK, resp.Epoch = true, cur.Epoch // BalanceTask: "empty candidate, quit"
			break
		}
		next := balanceTask(data, sessions, m.cfg.Slots)
		next.Epoch = m.nextEpoch(cur.Epoch)
		m.env.Trace("registry/slot-force-refresh", next.Epoch)
		m.env.Reached("registry/slot-force-refresh")
		m.commit(cur, next, func(ok bool) {
			resp.OK = ok
			if ok {
				resp.Epoch = next.Epoch
			} else {
				resp.Reason = "the table did not apply"
			}
			reply(resp)
		})
		return
	}
	reply(resp)
}

// balanceTask is BalanceTask's table: slot i led by data[i mod n] and
// followed by data[(n-1+i) mod n].
func balanceTask(data, sessions []Proc, slots int) Table {
	t := Table{Data: data, Sessions: sessions, Slots: make([]Slot, slots)}
	n := len(data)
	for i := range t.Slots {
		t.Slots[i].Leader = data[i%n]
		if n > 1 {
			t.Slots[i].Follower = data[(n-1+i)%n]
		}
	}
	return t
}
