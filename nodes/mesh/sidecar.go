package mesh

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// SidecarConfig configures a sidecar.
type SidecarConfig struct {
	// Pilots are the control-plane replicas; the sidecar holds one ADS
	// stream to one of them and moves to another when it breaks.
	Pilots []sim.NodeID
	// ReconnectDelay before dialling another pilot (default 200ms).
	ReconnectDelay time.Duration
	// PingInterval: the sidecar pings its pilot (default 1s) and leaves it
	// for another after PingTimeout without a word (default 3s).
	PingInterval, PingTimeout time.Duration
}

// Sidecar is the MOSN-like proxy of one pod: an xDS client, an outbound
// side (router, cluster manager, connection pools) and an inbound side
// (authorization, rate limit) in front of the pod's application.
type Sidecar struct {
	cfg     SidecarConfig
	env     *sim.Env
	service string
	obs     Observer
	app     *App
	onReady func()

	// xDS stream.
	xconn   sim.ConnID
	xpilot  int
	heard   time.Duration // monotonic time the pilot was last heard from
	applied map[string]Applied
	ready   bool

	// Active configuration.
	clusters  map[string]*cluster
	cdsNames  map[string]bool // clusters of the last applied CDS
	eds       map[string]ClusterLoadAssignment
	listeners map[string]Listener
	routes    map[string]RouteConfig

	// Outbound.
	downs  map[string]*downstream
	pools  map[poolKey]*pool
	byConn map[sim.ConnID]*pool
	stream uint64

	// Inbound.
	in inbound
}

// Applied is the version a sidecar holds of one xDS type.
type Applied struct {
	Version string
	Nonce   string
	Digest  uint64
}

type (
	xdsRedial struct{}
	xdsPing   struct{}
	hcTick    struct {
		cluster string
		gen     uint64
	}
	uneject struct {
		cluster string
		addr    sim.NodeID
		n       int
	}
)

func newSidecar(env *sim.Env, service string, cfg SidecarConfig, obs Observer, app *App) *Sidecar {
	if cfg.ReconnectDelay <= 0 {
		cfg.ReconnectDelay = 200 * time.Millisecond
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = time.Second
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = 3 * time.Second
	}
	s := &Sidecar{cfg: cfg, env: env, service: service, obs: obs, app: app,
		applied: map[string]Applied{}, clusters: map[string]*cluster{}, cdsNames: map[string]bool{},
		eds: map[string]ClusterLoadAssignment{}, listeners: map[string]Listener{}, routes: map[string]RouteConfig{},
		downs: map[string]*downstream{}, pools: map[poolKey]*pool{}, byConn: map[sim.ConnID]*pool{}}
	s.in.init(s)
	if len(cfg.Pilots) > 0 {
		s.xpilot = env.Rand().IntN(len(cfg.Pilots))
		s.dialPilot()
		env.SetTimer(cfg.PingInterval, xdsPing{})
	}
	return s
}

// Applied returns the versions the sidecar holds, by xDS type.
func (s *Sidecar) Applied() map[string]Applied { return maps.Clone(s.applied) }

// Pilot is the control-plane replica the sidecar's stream goes to.
func (s *Sidecar) Pilot() sim.NodeID {
	if s.xconn == 0 {
		return ""
	}
	return s.cfg.Pilots[s.xpilot]
}

// ClusterHosts returns the endpoints each active cluster really holds (which
// may differ from the applied EDS resources when a bug lost them).
func (s *Sidecar) ClusterHosts() map[string][]Endpoint {
	out := map[string][]Endpoint{}
	for _, name := range slices.Sorted(maps.Keys(s.clusters)) {
		eps := []Endpoint{}
		for _, h := range s.clusters[name].hosts {
			eps = append(eps, h.ep)
		}
		out[name] = eps
	}
	return out
}

func (s *Sidecar) dialPilot() {
	s.xconn = s.env.Dial(s.cfg.Pilots[s.xpilot])
	s.heard = s.env.Monotonic()
	for _, t := range Types {
		req := &DiscoveryRequest{TypeURL: t, VersionInfo: s.applied[t].Version, Node: s.env.ID(), Service: s.service}
		s.env.Send(s.xconn, req)
		observe(s.obs, s.env, XDSEvent{Kind: XDSSubscribe, Sidecar: s.env.ID(), Pilot: s.cfg.Pilots[s.xpilot], Type: t, Version: req.VersionInfo})
	}
}

func (s *Sidecar) connected(c sim.ConnID, peer sim.NodeID) {
	if p := s.byConn[c]; p != nil {
		s.poolUp(p)
	}
}

func (s *Sidecar) closed(c sim.ConnID, peer sim.NodeID) {
	switch {
	case c == s.xconn:
		s.pilotLost()
	case s.byConn[c] != nil:
		s.poolClosed(s.byConn[c])
	default:
		s.in.closed(c)
	}
}

// pilotLost schedules a dial of another pilot.
func (s *Sidecar) pilotLost() {
	s.xconn = 0
	s.env.SetTimer(s.cfg.ReconnectDelay+time.Duration(s.env.Rand().Int64N(int64(s.cfg.ReconnectDelay))), xdsRedial{})
}

// ping keeps the stream honest: a pilot silent for PingTimeout is left.
func (s *Sidecar) ping() {
	s.env.SetTimer(s.cfg.PingInterval, xdsPing{})
	if s.xconn == 0 {
		return
	}
	if s.env.Monotonic()-s.heard > s.cfg.PingTimeout {
		s.env.Close(s.xconn)
		s.pilotLost()
		return
	}
	s.env.Send(s.xconn, &XDSPing{})
}

func (s *Sidecar) message(c sim.ConnID, from sim.NodeID, msg any) bool {
	if c == s.xconn && c != 0 {
		s.heard = s.env.Monotonic()
	}
	switch x := msg.(type) {
	case *XDSPong:
	case *DiscoveryResponse:
		if c == s.xconn {
			s.onResponse(x)
		}
	case *UpstreamReq:
		s.in.request(c, x)
	case *UpstreamResp:
		if p := s.byConn[c]; p != nil {
			s.poolResponse(p, x)
		}
	default:
		return false
	}
	return true
}

func (s *Sidecar) datagram(from sim.NodeID, msg any) {
	switch x := msg.(type) {
	case *HealthProbe:
		s.env.SendDatagram(from, &HealthReply{Cluster: x.Cluster, Seq: x.Seq, OK: s.app != nil && s.app.healthy()})
	case *HealthReply:
		if c := s.clusters[x.Cluster]; c != nil {
			if h := c.host(from); h != nil && h.probe == x.Seq {
				h.probe = 0
				s.hcResult(x.Cluster, c, h, x.OK)
			}
		}
	}
}

func (s *Sidecar) timer(tag any) bool {
	switch x := tag.(type) {
	case xdsPing:
		s.ping()
	case xdsRedial:
		s.xpilot = (s.xpilot + 1 + s.env.Rand().IntN(len(s.cfg.Pilots))) % len(s.cfg.Pilots)
		s.dialPilot()
	case hcTick:
		s.healthCheck(x)
	case uneject:
		if c := s.clusters[x.cluster]; c != nil {
			if h := c.host(x.addr); h != nil && h.ejected && h.ejections == x.n {
				h.ejected = false
				h.consec = 0
				s.observeEjection(x.cluster, c, h)
			}
		}
	case routeTimeout:
		s.onRouteTimeout(x)
	case tryTimeout:
		s.onTryTimeout(x)
	case backoffDone:
		s.onBackoff(x)
	case faultDelay:
		s.afterFaultDelay(x)
	default:
		return false
	}
	return true
}

// onResponse validates an xDS response and applies it whole, or rejects it
// whole.
func (s *Sidecar) onResponse(r *DiscoveryResponse) {
	pilot := s.cfg.Pilots[s.xpilot]
	observe(s.obs, s.env, XDSEvent{Kind: XDSReceived, Sidecar: s.env.ID(), Pilot: pilot, Type: r.TypeURL, Version: r.VersionInfo, Nonce: r.Nonce, Digest: r.ContentDigest})
	err := r.Resources.Validate()
	if err == nil && r.TypeURL == TypeRoute && !bug(s.env, BugRouteBeforeCluster) {
		// Referential integrity: a route configuration that names a
		// cluster the sidecar does not have is refused (the control plane
		// sends clusters first).
		for _, name := range referencedClusters(r.Resources.Routes) {
			if s.clusters[name] == nil {
				err = fmt.Errorf("route references unknown cluster %s", name)
				break
			}
		}
	}
	if err != nil {
		s.env.Send(s.xconn, &DiscoveryRequest{TypeURL: r.TypeURL, VersionInfo: s.applied[r.TypeURL].Version, ResponseNonce: r.Nonce, ErrorDetail: err.Error(), Node: s.env.ID(), Service: s.service})
		observe(s.obs, s.env, XDSEvent{Kind: XDSNack, Sidecar: s.env.ID(), Pilot: pilot, Type: r.TypeURL, Version: s.applied[r.TypeURL].Version, Nonce: r.Nonce, Error: err.Error()})
		return
	}
	switch r.TypeURL {
	case TypeCluster:
		s.applyClusters(r.Resources.Clusters)
	case TypeEndpoint:
		s.applyEndpoints(r.Resources.Endpoints)
	case TypeListener:
		s.listeners = map[string]Listener{}
		for _, l := range r.Resources.Listeners {
			s.listeners[l.Name] = l
		}
		s.in.configure(s.listeners[InboundListener])
	case TypeRoute:
		s.routes = map[string]RouteConfig{}
		for _, rc := range r.Resources.Routes {
			s.routes[rc.Name] = rc
		}
		s.dropUnreferencedClusters()
	}
	d := r.ContentDigest
	s.applied[r.TypeURL] = Applied{Version: r.VersionInfo, Nonce: r.Nonce, Digest: d}
	s.env.Send(s.xconn, &DiscoveryRequest{TypeURL: r.TypeURL, VersionInfo: r.VersionInfo, ResponseNonce: r.Nonce, Node: s.env.ID(), Service: s.service})
	s.env.Trace("mesh/applied", r.TypeURL, r.VersionInfo, d)
	observe(s.obs, s.env, ConfigApplied{Type: r.TypeURL, Version: r.VersionInfo, Nonce: r.Nonce, Digest: d,
		Clusters: slices.Sorted(maps.Keys(s.clusters)), Referenced: s.referenced()})
	observe(s.obs, s.env, XDSEvent{Kind: XDSAck, Sidecar: s.env.ID(), Pilot: pilot, Type: r.TypeURL, Version: r.VersionInfo, Nonce: r.Nonce, Digest: d})
	if !s.ready && len(s.applied) == len(Types) {
		s.ready = true
		if s.onReady != nil {
			s.onReady()
		}
	}
}

func (s *Sidecar) applyClusters(cs []Cluster) {
	s.cdsNames = map[string]bool{}
	for _, cfg := range cs {
		s.cdsNames[cfg.Name] = true
		c := s.clusters[cfg.Name]
		if c == nil {
			c = &cluster{cfg: cfg}
			s.clusters[cfg.Name] = c
			if a, ok := s.eds[cfg.Name]; ok {
				c.setHosts(a.Endpoints)
			}
		} else if !reflect.DeepEqual(c.cfg, cfg) {
			c.cfg = cfg
			if bug(s.env, BugClusterUpdateWipesEndpoints) {
				for _, addr := range c.setHosts(nil) {
					s.retirePool(cfg.Name, addr)
				}
			}
		}
		if cfg.HealthCheck != nil && c.hcGen == 0 {
			s.stream++
			c.hcGen = s.stream
			s.env.SetTimer(cfg.HealthCheck.Interval, hcTick{cfg.Name, c.hcGen})
		}
	}
	s.dropUnreferencedClusters()
}

// dropUnreferencedClusters removes clusters that left CDS once no active
// route names them: removing one that a route still names would answer
// "no cluster" until the new routes arrive.
func (s *Sidecar) dropUnreferencedClusters() {
	ref := s.referenced()
	for _, name := range slices.Sorted(maps.Keys(s.clusters)) {
		if !s.cdsNames[name] && !slices.Contains(ref, name) {
			for _, h := range s.clusters[name].hosts {
				s.retirePool(name, h.ep.Addr)
			}
			delete(s.clusters, name)
		}
	}
}

func (s *Sidecar) applyEndpoints(as []ClusterLoadAssignment) {
	dropUnknown := bug(s.env, BugUnknownClusterNeverRecovers)
	s.eds = map[string]ClusterLoadAssignment{}
	for _, a := range as {
		if dropUnknown && s.clusters[a.Cluster] == nil {
			continue
		}
		s.eds[a.Cluster] = a
	}
	for _, name := range slices.Sorted(maps.Keys(s.clusters)) {
		changed := s.clusters[name].setHosts(s.eds[name].Endpoints)
		for _, addr := range changed {
			if !bug(s.env, BugStalePoolMetadata) {
				s.retirePool(name, addr)
			}
		}
	}
}

// healthCheck probes every host of the cluster; a probe unanswered by the
// next tick failed.
func (s *Sidecar) healthCheck(t hcTick) {
	name := t.cluster
	c := s.clusters[name]
	if c == nil || c.hcGen != t.gen {
		return
	}
	if c.cfg.HealthCheck == nil {
		c.hcGen = 0
		for _, h := range c.hosts {
			h.unhealthy, h.probe = false, 0
		}
		return
	}
	for _, h := range c.hosts {
		if h.probe != 0 {
			h.probe = 0
			s.hcResult(name, c, h, false)
		}
		s.stream++
		h.probe = s.stream
		s.env.SendDatagram(h.ep.Addr, &HealthProbe{Cluster: name, Seq: h.probe})
	}
	s.env.SetTimer(c.cfg.HealthCheck.Interval, t)
}

func (s *Sidecar) hcResult(name string, c *cluster, h *host, ok bool) {
	hc := c.cfg.HealthCheck
	if hc == nil {
		return
	}
	if ok {
		h.hcFails = 0
		h.hcOKs++
		if h.unhealthy && h.hcOKs >= hc.HealthyThreshold {
			h.unhealthy = false
			observe(s.obs, s.env, Health{Cluster: name, Host: h.ep.Addr, Healthy: true})
		}
		return
	}
	h.hcOKs = 0
	h.hcFails++
	if !h.unhealthy && h.hcFails >= hc.UnhealthyThreshold {
		h.unhealthy = true
		observe(s.obs, s.env, Health{Cluster: name, Host: h.ep.Addr, Healthy: false})
	}
}

func (s *Sidecar) observeEjection(name string, c *cluster, h *host) {
	observe(s.obs, s.env, Ejection{Cluster: name, Host: h.ep.Addr, Ejected: h.ejected, NumEjected: c.ejectedCount(),
		Hosts: len(c.hosts), MaxPercent: c.cfg.Outlier.MaxEjectionPercent})
}

// referenced lists the clusters the active routes name.
func (s *Sidecar) referenced() []string {
	var rcs []RouteConfig
	for _, name := range slices.Sorted(maps.Keys(s.routes)) {
		rcs = append(rcs, s.routes[name])
	}
	return referencedClusters(rcs)
}
