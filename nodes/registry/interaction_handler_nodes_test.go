package registry

import (
	"time"

	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/sofasim/sofasim/sim"
	"github.com/sofasim/sofasim/sim/transcript"
)

// handleAddNodes builds the servers (first call: metas, data, sessions,
// slots, seed) or adds clients (clients=(c1, c2)).
func (e *interactionEnv) handleAddNodes(t *testing.T, d *datadriven.TestData) error {
	var metas, data, sessions, slots, seed int
	var clients []string
	transcript.ScanArgs(t, d, d.CmdArgs, map[string]any{"metas": &metas, "data": &data, "sessions": &sessions,
		"slots": &slots, "seed": &seed, "clients": &clients})
	if metas+data+sessions > 0 {
		if e.World != nil {
			return fmt.Errorf("the servers were added already")
		}
		e.addServers(metas, data, sessions, slots, uint64(max(seed, 1)))
		e.Printf("%d metas, %d data, %d sessions, %d slots\n", len(e.cfg.Metas), len(e.cfg.Data), len(e.cfg.Sessions), e.cfg.Slots)
	}
	if len(clients) > 0 && e.World == nil {
		return fmt.Errorf("add the servers first")
	}
	for _, c := range clients {
		id := sim.NodeID(c)
		if strings.HasPrefix(c, "@") || slices.Contains(e.World.NodeIDs(), id) {
			return fmt.Errorf("bad or duplicate client name %q", c)
		}
		h := &clientHost{e: e, id: id, last: map[string]uint64{}}
		e.clients[id], e.names = h, append(e.names, id)
		e.World.AddNode(id, func() sim.Node { return h })
	}
	if len(clients) > 0 {
		e.RunUntil(e.World.Now()) // start them
	}
	return nil
}

func (e *interactionEnv) addServers(metas, data, sessions, slots int, seed uint64) {
	names := func(prefix string, n int) []sim.NodeID {
		out := make([]sim.NodeID, n)
		for i := range out {
			out[i] = sim.NodeID(prefix + "-" + strconv.Itoa(i+1))
		}
		return out
	}
	e.cfg = Config{Metas: names("meta", metas), Data: names("data", data), Sessions: names("session", sessions), Slots: slots,
		Election: ElectionRaft, Lease: 3 * time.Second, HeartbeatAll: true, HeartbeatInterval: 500 * time.Millisecond, // the transcripts were written for raft, a 3 s lease, heartbeats to every meta
		ClientLiveness: Liveness{Mode: LivenessPing}} // and the clients' 1 s ping
	e.cfg.defaults()
	e.World = sim.NewWorld(sim.Config{Seed: seed, Trace: &e.Env})
	AddServers(e.World, e.cfg)
}

// clientHost is a node hosting one Client. It reports the client's
// callbacks to the transcript and checks that a subscriber is never pushed
// an older version than one it was pushed before (by any session).
type clientHost struct {
	sim.BaseNode
	e      *interactionEnv
	id     sim.NodeID
	env    *sim.Env
	c      *Client
	pushes map[string]*Datum // subscriber -> the last datum pushed
	last   map[string]uint64 // subscriber -> the highest version pushed, across incarnations
	// unpublished: registerId -> dataInfoId of this incarnation's unpublished publishers
	unpublished map[string]string
}

func (h *clientHost) Start(env *sim.Env) {
	h.env, h.pushes, h.unpublished = env, map[string]*Datum{}, map[string]string{}
	e := h.e
	h.c = NewClient(env, ClientConfig{
		Sessions:       e.cfg.Sessions,
		Liveness:       e.cfg.ClientLiveness,
		OnConnected:    func(s sim.NodeID) { e.Logf("%s connected to %s", h.id, s) },
		OnDisconnected: func(s sim.NodeID) { e.Logf("%s lost %s", h.id, s) },
		OnPublishAck: func(reg string, v uint64) {
			e.Logf("%s ack %s v%d", h.id, reg, v)
		},
		OnPush: func(reg string, d *Datum) {
			e.Logf("%s push %s %s", h.id, reg, fmtDatum(d))
			if d.Version < h.last[reg] {
				e.Logf("VIOLATION %s %s: version went back from %d to %d", h.id, reg, h.last[reg], d.Version)
			}
			h.last[reg] = max(h.last[reg], d.Version)
			h.pushes[reg] = d
		},
	})
}

func (h *clientHost) Message(c sim.ConnID, from sim.NodeID, m any) { h.c.HandleMessage(c, from, m) }
func (h *clientHost) Connected(c sim.ConnID, p sim.NodeID)         { h.c.HandleConnected(c, p) }
func (h *clientHost) Closed(c sim.ConnID, p sim.NodeID)            { h.c.HandleClosed(c, p) }
func (h *clientHost) Timer(id sim.TimerID, tag any)                { h.c.HandleTimer(id, tag) }

// fmtDatum prints a datum as subscribers see it.
func fmtDatum(d *Datum) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s v=%d [", d.DataID, d.Version)
	for i, p := range d.Pubs {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%s", p.RegID, p.Data)
	}
	b.WriteByte(']')
	return b.String()
}
