package rehearsal

import (
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/sofasim/sofasim/nodes/mesh"
	"github.com/sofasim/sofasim/sim"
)

// With traffic.gateways set, clients are users: they hold one connection
// to an ingress gateway (client i to gateway i mod N) and the gateways'
// sidecars route into the mesh, as production traffic enters through LVS
// and a gateway tier. Without them every client pod carries a sidecar of
// its own, which at 10,000 clients costs a full endpoint table per client
// (most of a 1/100 rehearsal's memory) and a connection from every
// client to every entry instance.

// userRequest and userResponse travel between a user and its gateway.
type userRequest struct {
	Seq     uint64
	Service string
}

type userResponse struct {
	Seq uint64
	OK  bool
}

// gateway is an ingress pod: a sidecar with no application, answering
// users with what the mesh answered.
type gateway struct {
	h   *harness
	pc  mesh.PodConfig
	pod *mesh.Pod
	env *sim.Env
}

func (g *gateway) Start(env *sim.Env) {
	g.env = env
	g.pod = mesh.NewPod(g.pc)
	g.pod.Start(env)
}

func (g *gateway) Message(c sim.ConnID, from sim.NodeID, msg any) {
	req, ok := msg.(*userRequest)
	if !ok {
		g.pod.Message(c, from, msg)
		return
	}
	id := string(from) + "/" + strconv.FormatUint(req.Seq, 10)
	seq := req.Seq
	g.pod.Sidecar().Outbound(mesh.Request{ID: id, Service: req.Service, Path: "/"}, func(r mesh.Response) {
		g.env.Send(c, &userResponse{Seq: seq, OK: r.OK()})
	})
}

func (g *gateway) Connected(c sim.ConnID, p sim.NodeID) {
	if !g.h.isClient[p] {
		g.pod.Connected(c, p)
	}
}

func (g *gateway) Closed(c sim.ConnID, p sim.NodeID) {
	if !g.h.isClient[p] {
		g.pod.Closed(c, p)
	}
}

func (g *gateway) Timer(id sim.TimerID, tag any) { g.pod.Timer(id, tag) }
func (g *gateway) Datagram(f sim.NodeID, m any)  { g.pod.Datagram(f, m) }

// user is a loadGen's connection to its gateway: requests in flight by
// sequence number, each with its service and start.
type user struct {
	gw      sim.NodeID
	conn    sim.ConnID
	pending map[uint64]userPending
}

type userPending struct {
	svc   string
	start time.Duration
}

type redial struct{}

func (g *loadGen) dial() {
	g.user.conn = g.env.Dial(g.user.gw)
}

func (g *loadGen) sendToGateway(svc string) {
	g.seq++
	g.user.pending[g.seq] = userPending{svc, g.h.w.Now()}
	g.h.m.issued(svc)
	if g.user.conn == 0 || !g.env.Send(g.user.conn, &userRequest{Seq: g.seq, Service: svc}) {
		g.answer(g.seq, false)
	}
}

func (g *loadGen) answer(seq uint64, ok bool) {
	if p, found := g.user.pending[seq]; found {
		delete(g.user.pending, seq)
		g.h.m.answered(p.svc, p.start, ok)
	}
}

// gatewayLost fails what was in flight and dials again a second later.
func (g *loadGen) gatewayLost() {
	g.user.conn = 0
	for _, seq := range slices.Sorted(maps.Keys(g.user.pending)) {
		g.answer(seq, false)
	}
	g.env.SetTimer(time.Second, redial{})
}
