package mesh

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// PilotConfig configures a control-plane replica.
type PilotConfig struct {
	Discovery DiscoveryFactory
	// Config reads the operator's configuration at start (the config
	// store); later changes come through SetConfig.
	Config func() *MeshConfig
	// Debounce: a push waits for Debounce of quiet after a change, and at
	// most DebounceMax after the first change (defaults 100ms and 1s).
	Debounce, DebounceMax time.Duration
	// SyncTimeout: the pilot serves once it heard the registry about every
	// service, or after this long (default 3s): serving before would push
	// empty endpoints.
	SyncTimeout time.Duration
	Observer    Observer
}

// Pilot is an Istio-Pilot-like control-plane replica: it watches the
// registry, translates configuration and endpoints into xDS resources and
// pushes them (state of the world, per type) to the sidecars that hold an
// ADS stream to it. Replicas are independent: a sidecar that moves to
// another replica resyncs from it.
type Pilot struct {
	sim.BaseNode
	cfg     PilotConfig
	env     *sim.Env
	disc    Discovery
	mesh    *MeshConfig
	eps     map[string][]Endpoint
	heard   map[string]bool
	subbed  map[string]bool
	ready   bool
	streams map[sim.ConnID]*adsStream
	pushes  uint64
	nonces  uint64
	dirty   bool
	first   time.Duration // monotonic time of the first change since the last push
	timer   sim.TimerID
	cur     *round // resources of the current state (nil: changed since)
}

// adsStream is one sidecar's stream and, per type, what was sent and what
// the sidecar acknowledged.
type adsStream struct {
	conn    sim.ConnID
	node    sim.NodeID
	service string
	known   bool
	types   map[string]*typeState
}

type typeState struct {
	version, nonce string
	digest         uint64 // last sent
	answered       bool   // the last sent was ACKed or NACKed
	acked          uint64 // digest of the last ACKed
	ackedOnce      bool
}

type (
	pilotDebounce struct{}
	pilotSynced   struct{}
)

// NewPilot returns a control-plane replica to be started by the world.
func NewPilot(cfg PilotConfig) *Pilot { return &Pilot{cfg: cfg} }

func (p *Pilot) Start(env *sim.Env) {
	if p.cfg.Debounce <= 0 {
		p.cfg.Debounce = 100 * time.Millisecond
	}
	if p.cfg.DebounceMax <= 0 {
		p.cfg.DebounceMax = time.Second
	}
	if p.cfg.SyncTimeout <= 0 {
		p.cfg.SyncTimeout = 3 * time.Second
	}
	p.env = env
	p.eps, p.heard, p.subbed = map[string][]Endpoint{}, map[string]bool{}, map[string]bool{}
	p.streams = map[sim.ConnID]*adsStream{}
	p.disc = p.cfg.Discovery(env, p.onEndpoints)
	p.mesh = &MeshConfig{}
	if p.cfg.Config != nil {
		p.mesh = p.cfg.Config()
	}
	p.subscribe()
	env.SetTimer(p.cfg.SyncTimeout, pilotSynced{})
}

// SetConfig replaces the operator's configuration; a push follows.
func (p *Pilot) SetConfig(cfg *MeshConfig) {
	p.mesh, p.cur = cfg, nil
	p.subscribe()
	p.changed()
}

// Ready reports whether the pilot serves.
func (p *Pilot) Ready() bool { return p.ready }

// Endpoints returns the endpoints the pilot holds, by service.
func (p *Pilot) Endpoints() map[string][]Endpoint { return maps.Clone(p.eps) }

func (p *Pilot) subscribe() {
	for _, svc := range p.mesh.ServiceNames() {
		if !p.subbed[svc] {
			p.subbed[svc] = true
			p.disc.Subscribe(svc)
		}
	}
}

func (p *Pilot) onEndpoints(svc string, eps []Endpoint) {
	if bug(p.env, BugDeletedInstanceKept) {
		for _, old := range p.eps[svc] {
			if !slices.ContainsFunc(eps, func(e Endpoint) bool { return e.Addr == old.Addr }) {
				eps = append(eps, old) // the removal is lost
			}
		}
		slices.SortFunc(eps, func(a, b Endpoint) int { return cmpAddr(a.Addr, b.Addr) })
	}
	p.eps[svc], p.cur = eps, nil
	p.heard[svc] = true
	if !p.ready && p.allHeard() {
		p.becomeReady()
		return
	}
	p.changed()
}

func cmpAddr(a, b sim.NodeID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (p *Pilot) allHeard() bool {
	for _, svc := range p.mesh.ServiceNames() {
		if !p.heard[svc] {
			return false
		}
	}
	return true
}

func (p *Pilot) becomeReady() {
	p.ready = true
	p.env.Trace("mesh/pilot-ready")
	p.pushAll()
}

// changed schedules a debounced push.
func (p *Pilot) changed() {
	if !p.ready {
		return
	}
	now := p.env.Monotonic()
	if !p.dirty {
		p.dirty, p.first = true, now
	} else {
		p.env.CancelTimer(p.timer)
	}
	wait := min(p.cfg.Debounce, max(0, p.cfg.DebounceMax-(now-p.first)))
	p.timer = p.env.SetTimer(wait, pilotDebounce{})
}

func (p *Pilot) Timer(id sim.TimerID, tag any) {
	switch tag.(type) {
	case pilotDebounce:
		p.dirty = false
		p.pushAll()
	case pilotSynced:
		if !p.ready {
			p.becomeReady()
		}
	default:
		p.disc.HandleTimer(id, tag)
	}
}

func (p *Pilot) Connected(c sim.ConnID, peer sim.NodeID) { p.disc.HandleConnected(c, peer) }

func (p *Pilot) Closed(c sim.ConnID, peer sim.NodeID) {
	if p.disc.HandleClosed(c, peer) {
		return
	}
	if st := p.streams[c]; st != nil {
		observe(p.cfg.Observer, p.env, XDSEvent{Kind: XDSStreamClosed, Sidecar: st.node, Pilot: p.env.ID()})
	}
	delete(p.streams, c)
}

func (p *Pilot) Message(c sim.ConnID, from sim.NodeID, msg any) {
	if _, ok := msg.(*XDSPing); ok {
		p.env.Send(c, &XDSPong{})
		return
	}
	r, ok := msg.(*DiscoveryRequest)
	if !ok {
		p.disc.HandleMessage(c, from, msg)
		return
	}
	st := p.streams[c]
	if st == nil {
		st = &adsStream{conn: c, node: r.Node, service: r.Service, types: map[string]*typeState{}}
		p.streams[c] = st
	}
	ts := st.types[r.TypeURL]
	if ts == nil {
		ts = &typeState{}
		st.types[r.TypeURL] = ts
	}
	if r.ResponseNonce == "" {
		// A subscription: the stream is new, push what the sidecar lacks.
		if p.ready {
			p.pushes++
			p.push(st, p.round())
		}
		return
	}
	kind := XDSAckSeen
	if r.ErrorDetail != "" {
		kind = XDSNackSeen
	}
	observe(p.cfg.Observer, p.env, XDSEvent{Kind: kind, Sidecar: st.node, Pilot: p.env.ID(), Type: r.TypeURL, Version: r.VersionInfo, Nonce: r.ResponseNonce, Error: r.ErrorDetail})
	if r.ResponseNonce != ts.nonce {
		return // an answer to a response superseded since: ignored, as in xDS
	}
	ts.answered = true
	if r.ErrorDetail == "" {
		ts.acked, ts.ackedOnce = ts.digest, true
		// An ACK may be what a NACKed type waited for (routes refused while
		// their cluster was unknown): offer the stream again whatever it
		// has not ACKed. Only ACKs push, so an invalid resource is not
		// resent in a loop (mesh-chaos seed 218: routes NACKed beside a bad
		// cluster update were never resent after the fix was ACKed).
		if p.ready {
			p.push(st, p.round())
		}
	}
}

// pushAll starts a push round: a new version for every stream.
func (p *Pilot) pushAll() {
	p.pushes++
	r := p.round()
	for _, c := range slices.Sorted(maps.Keys(p.streams)) {
		p.push(p.streams[c], r)
	}
}

// round caches one push round's resources: the shared ones once, the
// listeners per service.
type round struct {
	shared    Snapshot
	digests   map[string]uint64
	listeners map[string]*Resources
	ldigest   map[string]uint64
}

// round returns the resources of the current state, built once per change.
func (p *Pilot) round() *round {
	if p.cur != nil {
		return p.cur
	}
	s := buildShared(p.mesh, p.eps)
	r := &round{shared: s, digests: map[string]uint64{}, listeners: map[string]*Resources{}, ldigest: map[string]uint64{}}
	for _, t := range []string{TypeCluster, TypeEndpoint, TypeRoute} {
		r.digests[t] = s[t].Digest()
	}
	p.cur = r
	return r
}

// resources returns the round's resources of a type for a service's proxy.
func (p *Pilot) resources(r *round, service, typ string) (*Resources, uint64) {
	if typ != TypeListener {
		return r.shared[typ], r.digests[typ]
	}
	if l, ok := r.listeners[service]; ok {
		return l, r.ldigest[service]
	}
	l := buildListeners(p.mesh, service)
	r.listeners[service], r.ldigest[service] = l, l.Digest()
	return l, r.ldigest[service]
}

// push sends a stream every type whose content differs from what the
// sidecar acknowledged and is not already on its way, clusters first.
func (p *Pilot) push(st *adsStream, r *round) {
	order := Types
	if bug(p.env, BugRouteBeforeCluster) {
		order = []string{TypeListener, TypeRoute, TypeCluster, TypeEndpoint}
	}
	version := fmt.Sprintf("%s#%d/%d", p.env.ID(), p.env.Incarnation(), p.pushes)
	for _, t := range order {
		ts := st.types[t]
		if ts == nil {
			ts = &typeState{}
			st.types[t] = ts
		}
		res, d := p.resources(r, st.service, t)
		// Nothing to send when the sidecar holds this content and nothing
		// else is on its way, or when this content is on its way. A
		// response in flight with other content must be superseded even
		// if the sidecar ACKed this content before: it will apply the one
		// in flight (mesh-chaos seed 70: an EDS update delayed by loss
		// was the last a sidecar got; found by checkers/mesh convergence).
		inFlight := ts.nonce != "" && !ts.answered
		if (!inFlight && ts.ackedOnce && d == ts.acked) || (inFlight && d == ts.digest) {
			continue
		}
		p.nonces++
		ts.version, ts.nonce, ts.digest, ts.answered = version, fmt.Sprintf("%s#%d-%d", p.env.ID(), p.env.Incarnation(), p.nonces), d, false
		p.env.Send(st.conn, &DiscoveryResponse{TypeURL: t, VersionInfo: version, Nonce: ts.nonce, Resources: res, ContentDigest: d})
		observe(p.cfg.Observer, p.env, XDSEvent{Kind: XDSResponse, Sidecar: st.node, Pilot: p.env.ID(), Type: t, Version: version, Nonce: ts.nonce, Digest: d})
	}
}
