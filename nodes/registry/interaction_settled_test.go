package registry

import (
	"fmt"
	"slices"

	"github.com/sofasim/sofasim/sim"
)

// unsettled says why the cluster has not settled, or "" when it has: one
// meta leader, followed by every running meta server, whose table lists
// exactly the running data and session processes; every running member
// routes by that table; every slot leader serves its slots; every running
// client is connected, its publishers are at their slot leaders and each of
// its subscribers was pushed the datum its slot leader holds; no session has
// writes outstanding; slot leaders hold only what running clients publish,
// and followers have caught up.
func (e *interactionEnv) unsettled() string {
	m := e.metaLeader()
	if m == nil {
		return "no single meta leader"
	}
	t := m.Table()
	for _, id := range e.cfg.Metas {
		if x, ok := e.World.Node(id).(*MetaServer); ok {
			if st := x.Status(); st.Raft.Lead != m.env.ID() || st.Epoch != t.Epoch {
				return fmt.Sprintf("%s follows %q at epoch %d", id, st.Raft.Lead, st.Epoch)
			}
		}
	}
	var data, sessions []Proc
	for _, id := range e.cfg.Data {
		if x := e.data(id); x != nil {
			data = append(data, x.m.proc)
		}
	}
	for _, id := range e.cfg.Sessions {
		if x := e.session(id); x != nil {
			sessions = append(sessions, x.m.proc)
		}
	}
	if !slices.Equal(t.Data, data) || !slices.Equal(t.Sessions, sessions) {
		return fmt.Sprintf("table %d lists data %v sessions %v; running: data %v sessions %v", t.Epoch, t.Data, t.Sessions, data, sessions)
	}
	for _, id := range append(append([]sim.NodeID(nil), e.cfg.Data...), e.cfg.Sessions...) {
		var mb *member
		if x := e.data(id); x != nil {
			mb = &x.m
		} else if x := e.session(id); x != nil {
			mb = &x.m
		}
		if mb != nil && mb.table.Epoch != t.Epoch {
			return fmt.Sprintf("%s routes by epoch %d, not %d", id, mb.table.Epoch, t.Epoch)
		}
	}
	for i, s := range t.Slots {
		x := e.data(sim.NodeID(s.Leader.ID))
		if x == nil || x.access(i, t.Epoch) != Accept {
			return fmt.Sprintf("slot %d is not served by %v", i, s.Leader)
		}
	}
	for _, id := range e.cfg.Sessions {
		if x := e.session(id); x != nil && len(x.outbox) > 0 {
			return fmt.Sprintf("%s has %d writes outstanding", id, len(x.outbox))
		}
	}
	for _, id := range e.names {
		h := e.clients[id]
		if !e.World.Up(id) {
			continue
		}
		if h.c.Session() == "" {
			return fmt.Sprintf("%s is not connected", id)
		}
		leader := func(dataID string) *DataServer {
			return e.data(sim.NodeID(t.Slots[SlotOf(dataID, e.cfg.Slots)].Leader.ID))
		}
		for _, r := range h.c.pubs {
			reg, p, published := r.regID, h.c.pub(r.regID), r.live
			var dataID string
			if published {
				dataID = p.DataID
			} else if dataID = h.unpublished[reg]; dataID == "" {
				continue
			}
			x := leader(dataID).datums[dataID]
			var cur Pub
			held := x != nil
			if held {
				cur, held = x.lookup(reg)
			}
			if published && (!held || cur.Version != p.Version) {
				return fmt.Sprintf("%s %s v%d is not at its slot leader", id, reg, p.Version)
			}
			if !published && held {
				return fmt.Sprintf("%s %s is still at its slot leader after unpublish", id, reg)
			}
		}
		for _, cs := range h.c.subs {
			reg := cs.RegID
			if s := e.session(h.c.Session()); s == nil || s.subs[reg] == nil {
				return fmt.Sprintf("%s %s is not subscribed at %s", id, reg, h.c.Session())
			}
			dataID := cs.DataID
			x := leader(dataID)
			want, got := x.view(dataID), h.pushes[reg]
			if got == nil && want.Version == 0 {
				continue
			}
			if got == nil || got.Version != want.Version || got.Digest() != want.Digest() {
				return fmt.Sprintf("%s %s was not pushed %s", id, reg, fmtDatum(want))
			}
		}
	}
	return e.unsettledData(&t)
}

// unsettledData checks the slot leaders' datums: every publisher belongs to
// a running client process that still publishes it (a lost connection or a
// crashed client is cleaned up), and every follower holds the leader's
// version (replication caught up).
func (e *interactionEnv) unsettledData(t *Table) string {
	for i, s := range t.Slots {
		x := e.data(sim.NodeID(s.Leader.ID))
		for _, id := range sortedKeys(x.inSlot[i]) {
			dx := x.datums[id]
			for _, reg := range sortedKeys(dx.pubs) {
				p, _ := dx.lookup(reg)
				if !e.clientPublishes(p) {
					return fmt.Sprintf("%s holds %s of %s, which no running client publishes", s.Leader, reg, p.Client)
				}
			}
			if s.Follower == (Proc{}) {
				continue
			}
			f := e.data(sim.NodeID(s.Follower.ID))
			if fx := f.datums[id]; fx == nil || fx.version != dx.version {
				return fmt.Sprintf("follower %s of slot %d is behind on %s", s.Follower, i, id)
			}
		}
	}
	return ""
}

// clientPublishes reports whether p is a publisher that a running client
// process holds at p's version.
func (e *interactionEnv) clientPublishes(p Pub) bool {
	for _, id := range e.names {
		h := e.clients[id]
		if !e.World.Up(id) || h.c.name() != p.Client {
			continue
		}
		q := h.c.pub(p.RegID)
		return q != nil && q.Version == p.Version && q.Data == p.Data
	}
	return false
}
