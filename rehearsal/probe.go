package rehearsal

import (
	"strconv"
	"time"

	"github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/sim"
)

// probe measures the registry's push delay the way registry operators
// do: one probe publishes a new value every second, another subscribes
// (through another session server) and the delay from publication to
// push is recorded.
type probe struct {
	h   *harness
	pub bool
	env *sim.Env
	c   *registry.Client
	seq int
}

const probeDataID = "rehearsal/probe"

type probeTick struct{}

func (p *probe) Start(env *sim.Env) {
	p.env = env
	sessions := p.h.reg.Sessions
	if !p.pub && len(sessions) > 1 {
		sessions = append(append([]sim.NodeID(nil), sessions[1:]...), sessions[0])
	}
	p.c = registry.NewClient(env, registry.ClientConfig{Sessions: sessions, OnPush: func(_ string, d *registry.Datum) {
		for _, pd := range d.Pubs {
			if n, err := strconv.Atoi(pd.Data); err == nil {
				p.h.m.probePushed(n)
			}
		}
	}})
	if p.pub {
		env.SetTimer(time.Second, probeTick{})
	} else {
		p.c.Subscribe(probeDataID, string(env.ID()))
	}
}

func (p *probe) Timer(id sim.TimerID, tag any) {
	if _, ok := tag.(probeTick); ok {
		p.seq++
		// A restarted probe must not reuse old values.
		v := int(p.env.Incarnation())<<24 | p.seq
		p.h.m.probePublished(v)
		p.c.Publish(probeDataID, "probe", strconv.Itoa(v))
		p.env.SetTimer(time.Second, probeTick{})
		return
	}
	p.c.HandleTimer(id, tag)
}

func (p *probe) Connected(c sim.ConnID, peer sim.NodeID) { p.c.HandleConnected(c, peer) }
func (p *probe) Closed(c sim.ConnID, peer sim.NodeID)    { p.c.HandleClosed(c, peer) }
func (p *probe) Message(c sim.ConnID, f sim.NodeID, m any) {
	p.c.HandleMessage(c, f, m)
}
func (p *probe) Datagram(sim.NodeID, any) {}
