package registry

import (
	"encoding/json"
	"time"

	regcheck "github.com/sofasim/sofasim/checkers/registry"
	regnode "github.com/sofasim/sofasim/nodes/registry"

	"github.com/sofasim/sofasim/nodes/raftkv"
	"github.com/sofasim/sofasim/sim"
)

// metaProbeID is the harness client that reads the meta store's table
// epoch through raft (linearizable reads) for the meta-store check.
const metaProbeID = sim.NodeID("meta-probe")

// ProposeTable records the start of a meta leader's table proposal.
func (s *system) ProposeTable(node sim.NodeID, expected uint64) int {
	return s.startMetaOp(regcheck.Event{Kind: regcheck.MetaOp, Op: "cas", Node: string(node), Expected: expected})
}

// ProposeDone records its outcome.
func (s *system) ProposeDone(id int, known, applied bool) {
	ev, ok := s.pending[id]
	if !ok {
		return
	}
	ev.Unknown, ev.OK = !known, applied
	s.endMetaOp(id, ev)
}

func (s *system) startMetaOp(ev regcheck.Event) int {
	s.nextOp++
	ev.Call, ev.Client = int64(s.w.Now()), -2
	s.pending[s.nextOp] = ev
	return s.nextOp
}

func (s *system) endMetaOp(id int, ev regcheck.Event) {
	delete(s.pending, id)
	ev.T = int64(s.w.Now())
	s.rec.Record(ev)
}

// metaProbe reads the table through the meta servers' raft every 500ms.
type metaProbe struct {
	sim.BaseNode
	sys    *system
	env    *sim.Env
	client *raftkv.Client
}

type probeTick struct{}

func (p *metaProbe) Start(env *sim.Env) {
	p.env = env
	p.client = raftkv.NewClient(env, raftkv.ClientConfig{Servers: p.sys.cfg.Metas, ClientID: 1})
	env.SetTimer(500*time.Millisecond, probeTick{})
}

func (p *metaProbe) Timer(id sim.TimerID, tag any) {
	if _, ok := tag.(probeTick); !ok {
		p.client.HandleTimer(id, tag)
		return
	}
	p.env.SetTimer(500*time.Millisecond, probeTick{})
	if p.client.Busy() {
		return
	}
	op := p.sys.startMetaOp(regcheck.Event{Kind: regcheck.MetaOp, Op: "read", Node: string(metaProbeID)})
	p.client.Read([]byte("table"), func(resp []byte, err error) {
		ev := p.sys.pending[op]
		var t regnode.Table
		if err != nil || json.Unmarshal(resp, &t) != nil {
			delete(p.sys.pending, op) // a read with no answer changed nothing: drop it
			return
		}
		ev.Epoch = t.Epoch
		p.sys.endMetaOp(op, ev)
	})
}

func (p *metaProbe) Message(conn sim.ConnID, from sim.NodeID, msg any) {
	p.client.HandleMessage(conn, from, msg)
}
func (p *metaProbe) Connected(conn sim.ConnID, peer sim.NodeID) { p.client.HandleConnected(conn, peer) }
func (p *metaProbe) Closed(conn sim.ConnID, peer sim.NodeID)    { p.client.HandleClosed(conn, peer) }
