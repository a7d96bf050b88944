package registry

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/sofasim/sofasim/sim"
)

// handleShow prints state:
//
//	show table [slots]   the meta leader's slot table (slots: every slot)
//	show meta            each meta server's raft and meta-leader state
//	show <node>          a data server's datums, a session server's clients,
//	                     publishers and subscribers, or what a client holds
//	                     and was pushed (@meta-leader and @<client> resolve)
func (e *interactionEnv) handleShow(t *testing.T, d *datadriven.TestData) error {
	if len(d.CmdArgs) == 0 {
		d.Fatalf(t, "show what?")
	}
	switch what := d.CmdArgs[0].Key; what {
	case "table":
		return e.showTable(d.HasArg("slots"))
	case "meta":
		e.showMeta()
		return nil
	default:
		id, err := e.Resolve(what)
		if err != nil {
			return err
		}
		e.showNode(id)
		return nil
	}
}

func (e *interactionEnv) showTable(slots bool) error {
	m := e.metaLeader()
	if m == nil {
		return fmt.Errorf("no meta leader")
	}
	t := m.Table()
	e.Printf("epoch %d (%s)\n", t.Epoch, m.env.ID())
	e.Printf("data: %s\n", procList(t.Data))
	e.Printf("sessions: %s\n", procList(t.Sessions))
	for _, p := range t.Data {
		var lead, follow int
		for _, s := range t.Slots {
			if s.Leader == p {
				lead++
			}
			if s.Follower == p {
				follow++
			}
		}
		e.Printf("%s leads %d follows %d\n", p, lead, follow)
	}
	if slots {
		for i, s := range t.Slots {
			e.Printf("slot %d: %s / %s\n", i, s.Leader, s.Follower)
		}
	}
	return nil
}

func (e *interactionEnv) showMeta() {
	for _, id := range e.cfg.Metas {
		m, ok := e.World.Node(id).(*MetaServer)
		if !ok {
			e.Printf("%s down\n", id)
			continue
		}
		st := m.Status()
		lead := ""
		if st.MetaLeader {
			lead = " meta-leader"
		}
		e.Printf("%s %s term %d epoch %d%s\n", id, st.Raft.Role, st.Raft.Term, st.Epoch, lead)
	}
}

func (e *interactionEnv) showNode(id sim.NodeID) {
	switch n := e.World.Node(id).(type) {
	case nil:
		e.Printf("%s down\n", id)
	case *MetaServer:
		e.showMeta()
	case *DataServer:
		e.showData(n)
	case *SessionServer:
		e.showSession(n)
	case *clientHost:
		e.showClient(n)
	}
}

// showData prints a data server's datums: its role in their slots, the
// version and every publisher with its registration and owner.
func (e *interactionEnv) showData(d *DataServer) {
	e.Printf("%s epoch %d\n", d.m.proc, d.m.table.Epoch)
	for _, id := range sortedKeys(d.datums) {
		x := d.datums[id]
		slot := d.m.slotOf(id)
		role := "follower"
		if st := d.slots[slot]; st != nil && st.leader {
			role = "leader " + st.status.String()
		}
		e.Printf("%s slot %d %s v=%d\n", id, slot, role, x.version)
		for _, reg := range sortedKeys(x.pubs) {
			p, _ := x.lookup(reg)
			e.Printf("  %s\n", fmtPub(p))
		}
		for _, reg := range sortedKeys(x.tombs) {
			e.Printf("  %s unpublished v%d\n", reg, x.tombs[reg])
		}
	}
}

func (e *interactionEnv) showSession(s *SessionServer) {
	var clients []string
	for _, c := range sortedConns(s.clients) {
		clients = append(clients, s.clients[c].client)
	}
	e.Printf("%s epoch %d clients [%s] outstanding %d\n", s.m.proc, s.m.table.Epoch, strings.Join(clients, " "), len(s.outbox))
	for _, reg := range sortedKeys(s.pubs) {
		e.Printf("  pub %s\n", fmtPub(s.pubs[reg].Pub))
	}
	for _, reg := range sortedKeys(s.subs) {
		x := s.subs[reg]
		e.Printf("  sub %s %s pushed v=%d\n", reg, x.dataID, x.pushed)
	}
}

func (e *interactionEnv) showClient(h *clientHost) {
	e.Printf("%s connected to %q\n", h.c.name(), h.c.Session())
	for _, r := range h.c.pubs {
		if r.live {
			e.Printf("  pub %s %s=%s v%d\n", r.dataID, r.regID, r.data, r.ver)
		}
	}
	for _, s := range h.c.subs {
		got := "nothing"
		if d := h.pushes[s.RegID]; d != nil {
			got = fmtDatum(d)
		}
		e.Printf("  sub %s %s: %s\n", s.DataID, s.RegID, got)
	}
}

func fmtPub(p Pub) string {
	return fmt.Sprintf("%s=%s v%d conn%d %s via %s", p.RegID, p.Data, p.Version, p.Conn&0xffffffff, p.Client, p.Session)
}

func procList(ps []Proc) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, " ")
}

func sortedConns[V any](m map[sim.ConnID]V) []sim.ConnID {
	return slices.Sorted(maps.Keys(m))
}
