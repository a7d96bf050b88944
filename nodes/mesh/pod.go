package mesh

import (
	"time"

	"github.com/sofasim/sofasim/sim"
)

// PodConfig configures a pod: a sidecar with an application instance
// (a service pod) or with a load generator (a client pod), or both.
type PodConfig struct {
	// Service is the pod's identity (its service account).
	Service string
	// Version labels the instance (subset selection).
	Version string
	// App runs an application instance behind the sidecar's inbound side.
	App *AppConfig
	// Load generates requests through the sidecar's outbound side.
	Load    *LoadConfig
	Sidecar SidecarConfig
	// Discovery publishes the application (nil: not published).
	Discovery DiscoveryFactory
	Observer  Observer
}

// Pod is one simulated machine: the sidecar and what runs beside it. The
// sidecar and the application talk by direct calls (localhost), the
// sidecar and the outside world over the simulated network.
type Pod struct {
	cfg  PodConfig
	env  *sim.Env
	sc   *Sidecar
	app  *App
	load *loadGen
	disc Discovery
}

// NewPod returns a pod to be started by the world.
func NewPod(cfg PodConfig) *Pod { return &Pod{cfg: cfg} }

func (p *Pod) Start(env *sim.Env) {
	p.env = env
	if p.cfg.Discovery != nil {
		p.disc = p.cfg.Discovery(env, nil)
	}
	if p.cfg.App != nil {
		p.app = newApp(env, p, *p.cfg.App)
	}
	p.sc = newSidecar(env, p.cfg.Service, p.cfg.Sidecar, p.cfg.Observer, p.app)
	p.sc.onReady = p.sidecarReady
	if p.cfg.Load != nil {
		p.load = newLoadGen(env, *p.cfg.Load, p.sc, p.cfg.Observer)
	}
}

func (p *Pod) sidecarReady() {
	if p.app != nil {
		p.app.sidecarReady()
	}
	if p.load != nil {
		p.load.sidecarReady()
	}
}

// Sidecar returns the pod's sidecar, for harness inspection.
func (p *Pod) Sidecar() *Sidecar { return p.sc }

// App returns the pod's application instance (nil for a client pod).
func (p *Pod) App() *App { return p.app }

// Drain starts a graceful shutdown of the application: it unpublishes, keeps
// serving for its drain time while callers learn of it, then refuses new
// requests.
func (p *Pod) Drain() {
	if p.app != nil {
		p.app.drain()
	}
}

// StopLoad makes the load generator issue no new requests.
func (p *Pod) StopLoad() {
	if p.load != nil {
		p.load.stopped = true
	}
}

func (p *Pod) Connected(c sim.ConnID, peer sim.NodeID) {
	if p.disc != nil && p.disc.HandleConnected(c, peer) {
		return
	}
	p.sc.connected(c, peer)
}

func (p *Pod) Closed(c sim.ConnID, peer sim.NodeID) {
	if p.disc != nil && p.disc.HandleClosed(c, peer) {
		return
	}
	p.sc.closed(c, peer)
}

func (p *Pod) Message(c sim.ConnID, from sim.NodeID, msg any) {
	if p.sc.message(c, from, msg) {
		return
	}
	if p.disc != nil {
		p.disc.HandleMessage(c, from, msg)
	}
}

func (p *Pod) Datagram(from sim.NodeID, msg any) { p.sc.datagram(from, msg) }

func (p *Pod) Timer(id sim.TimerID, tag any) {
	switch {
	case p.sc.timer(tag):
	case p.app != nil && p.app.timer(tag):
	case p.load != nil && p.load.timer(tag):
	case p.disc != nil && p.disc.HandleTimer(id, tag):
	}
}

// since is the monotonic time elapsed since t.
func since(env *sim.Env, t time.Duration) time.Duration { return env.Monotonic() - t }
