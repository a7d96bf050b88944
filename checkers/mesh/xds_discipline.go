package mesh

import (
	"fmt"
	"slices"
	"time"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/sim"
)

// XDSDiscipline: every response a sidecar received is answered once, by
// an ACK carrying its version or a NACK carrying the version the sidecar
// held (its last ACK of the type, or what it subscribed with after a
// restart), with the same nonce; and every response a pilot sent is
// answered unless its stream closed, either end went down, or the run
// ended within a second of it.
type XDSDiscipline struct{}

func (XDSDiscipline) Name() string { return "xds-discipline" }

func (c XDSDiscipline) Check(h *History, _ checkers.Options) checkers.Result {
	f := load(h)
	var v found
	type key struct {
		node  sim.NodeID
		nonce string
	}
	type got struct {
		ev XDSEvent
		at time.Duration
		i  int
	}
	recv := map[key]got{}
	var recvOrder []key
	answered := map[key]bool{}
	held := map[sim.NodeID]map[string]string{}
	hold := func(n sim.NodeID, typ, version string) {
		if held[n] == nil {
			held[n] = map[string]string{}
		}
		held[n][typ] = version
	}
	responses := 0
	for i, r := range h.Records {
		e, ok := r.Ev.(XDSEvent)
		if !ok {
			continue
		}
		k := key{r.Node, e.Nonce}
		switch e.Kind {
		case XDSSubscribe:
			hold(r.Node, e.Type, e.Version)
		case XDSReceived:
			responses++
			recv[k] = got{e, r.T, i}
			recvOrder = append(recvOrder, k)
		case XDSAck, XDSNack:
			g, ok := recv[k]
			switch {
			case !ok:
				v.add(i, "%s %sed nonce %s it never received, at %v", r.Node, e.Kind, e.Nonce, r.T)
			case answered[k]:
				v.add(i, "%s answered nonce %s twice (again at %v)", r.Node, e.Nonce, r.T)
			case e.Kind == XDSAck && e.Version != g.ev.Version:
				v.add(i, "%s ACKed %s nonce %s with version %s, was sent %s", r.Node, e.Type, e.Nonce, e.Version, g.ev.Version)
			case e.Kind == XDSNack && e.Version != held[r.Node][e.Type]:
				v.add(i, "%s NACKed %s nonce %s with version %s, held %s", r.Node, e.Type, e.Nonce, e.Version, held[r.Node][e.Type])
			}
			answered[k] = true
			if e.Kind == XDSAck {
				hold(r.Node, e.Type, e.Version)
			}
		}
	}
	for _, k := range recvOrder {
		g := recv[k]
		if !answered[k] && !f.downAfter(k.node, g.at) {
			v.add(g.i, "%s never answered %s nonce %s (received at %v)", k.node, g.ev.Type, k.nonce, g.at)
		}
	}
	c.pilotSide(h, f, &v)
	return v.result(c.Name(), fmt.Sprintf("%d responses received, each ACKed or NACKed once with consistent versions and nonces", responses))
}

// pilotSide: every response sent is seen answered.
func (XDSDiscipline) pilotSide(h *History, f *facts, v *found) {
	type sent struct {
		at   time.Duration
		ev   XDSEvent
		i    int
		done bool
	}
	byNonce := map[string]*sent{}
	var order []string
	closes := map[[2]sim.NodeID][]time.Duration{}
	for i, r := range h.Records {
		e, ok := r.Ev.(XDSEvent)
		if !ok {
			continue
		}
		switch e.Kind {
		case XDSResponse:
			byNonce[e.Nonce] = &sent{at: r.T, ev: e, i: i}
			order = append(order, e.Nonce)
		case XDSAckSeen, XDSNackSeen:
			if s := byNonce[e.Nonce]; s != nil {
				s.done = true
			}
		case XDSStreamClosed:
			k := [2]sim.NodeID{e.Pilot, e.Sidecar}
			closes[k] = append(closes[k], r.T)
		}
	}
	for _, n := range order {
		s := byNonce[n]
		if s.done || f.end-s.at < time.Second || f.downAfter(s.ev.Pilot, s.at) || f.downAfter(s.ev.Sidecar, s.at) {
			continue
		}
		if slices.ContainsFunc(closes[[2]sim.NodeID{s.ev.Pilot, s.ev.Sidecar}], func(t time.Duration) bool { return t >= s.at }) {
			continue
		}
		v.add(s.i, "%s's %s response %s to %s (at %v) never answered", s.ev.Pilot, s.ev.Type, n, s.ev.Sidecar, s.at)
	}
}
