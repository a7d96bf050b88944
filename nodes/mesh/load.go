package mesh

import (
	"fmt"
	"strconv"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// LoadConfig configures a client pod's load generator: open-loop requests
// at Rate a second on average (gaps uniform in [0, 2/Rate]).
type LoadConfig struct {
	Rate    int
	Targets []string // services, chosen uniformly
	Paths   []string // chosen uniformly (default "/")
	// IdempotentPPM of requests are idempotent (GETs); the rest are not.
	IdempotentPPM int64
	// Users: the x-user header takes one of this many values (ring hash key).
	Users int
	// Start and Stop bound the generation (monotonic time since the start;
	// Stop 0: never). Generation also waits for the sidecar's first full
	// configuration: Istio's holdApplicationUntilProxyStarts keeps the
	// application from starting before its proxy is ready, whose listeners
	// would refuse it (Envoy's init manager warms them first).
	Start, Stop time.Duration
	// Timeout is the caller's patience, reported in Issued for checkers; the
	// sidecar's route timeouts must answer well within it.
	Timeout time.Duration
}

type loadGen struct {
	cfg     LoadConfig
	env     *sim.Env
	sc      *Sidecar
	obs     Observer
	born    time.Duration // monotonic time the pod started
	prefix  string        // of request ids: "pod#incarnation/"
	users   []string      // x-user values
	seq     int
	stopped bool
}

type loadTick struct{}

func newLoadGen(env *sim.Env, cfg LoadConfig, sc *Sidecar, obs Observer) *loadGen {
	if cfg.Rate <= 0 {
		cfg.Rate = 10
	}
	if len(cfg.Paths) == 0 {
		cfg.Paths = []string{"/"}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	g := &loadGen{cfg: cfg, env: env, sc: sc, obs: obs, born: env.Monotonic(),
		prefix: fmt.Sprintf("%s#%d/", env.ID(), env.Incarnation())}
	for u := range cfg.Users {
		g.users = append(g.users, "u"+strconv.Itoa(u))
	}
	return g
}

// sidecarReady starts generation (at Start at the earliest).
func (g *loadGen) sidecarReady() {
	g.env.SetTimer(max(0, g.born+g.cfg.Start-g.env.Monotonic()), loadTick{})
}

func (g *loadGen) timer(tag any) bool {
	if _, ok := tag.(loadTick); !ok {
		return false
	}
	if g.stopped || (g.cfg.Stop > 0 && g.env.Monotonic() >= g.cfg.Stop) {
		return true
	}
	g.issue()
	gap := 2 * int64(time.Second) / int64(g.cfg.Rate)
	g.env.SetTimer(time.Duration(g.env.Rand().Int64N(gap+1)), loadTick{})
	return true
}

func (g *loadGen) issue() {
	if len(g.cfg.Targets) == 0 {
		return
	}
	r := g.env.Rand()
	g.seq++
	req := Request{
		ID:         g.prefix + strconv.Itoa(g.seq),
		Service:    g.cfg.Targets[r.IntN(len(g.cfg.Targets))],
		Path:       g.cfg.Paths[r.IntN(len(g.cfg.Paths))],
		Idempotent: chance(r, g.cfg.IdempotentPPM),
	}
	if g.cfg.Users > 0 {
		req.Headers = []Header{{Name: "x-user", Value: g.users[r.IntN(g.cfg.Users)]}}
	}
	observe(g.obs, g.env, Issued{Req: req, Timeout: g.cfg.Timeout})
	g.sc.Outbound(req, func(Response) {})
}
