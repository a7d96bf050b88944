package mesh

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// Dist is an integer service-time distribution: uniform in [Min, Max], and
// with probability TailPPM uniform in [Max, TailMax] instead.
type Dist struct {
	Min, Max time.Duration
	TailPPM  int64
	TailMax  time.Duration
}

func (d Dist) draw(r *rand.Rand) time.Duration {
	lo, hi := d.Min, d.Max
	if d.TailPPM > 0 && d.TailMax > d.Max && r.Int64N(1_000_000) < d.TailPPM {
		lo, hi = d.Max, d.TailMax
	}
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(r.Int64N(int64(hi-lo)+1))
}

func chance(r *rand.Rand, ppm int64) bool {
	return ppm > 0 && (ppm >= 1_000_000 || r.Int64N(1_000_000) < ppm)
}

// AppConfig configures an application instance.
type AppConfig struct {
	// Workers run requests; Queue more wait; beyond that a request is
	// refused before it runs (503, not executed).
	Workers, Queue int
	ServiceTime    Dist
	// ErrorPPM of requests fail with a 500 after running.
	ErrorPPM int64
	// Grey failure, invisible to health checks: SlowPPM of requests take
	// SlowExtra longer, FailPPM fail with a 500. The failpoints
	// FailAppSlow and FailAppError do the same when armed on the node.
	SlowPPM   int64
	SlowExtra time.Duration
	FailPPM   int64
	// ReadyAfter its start the instance is ready and publishes itself
	// (once its sidecar has its configuration).
	ReadyAfter time.Duration
	// DrainTime: after unpublishing, the instance serves this long before
	// it refuses new requests.
	DrainTime time.Duration
	Weight    int
	// Then, if set, runs after the service time with the worker still
	// held (a thread-per-request service calling downstream); it calls
	// done once with the answer. A request failed by ErrorPPM or grey
	// failure is answered without it.
	Then func(req Request, done func(Response))
}

// App is a simulated microservice instance. It lives in a Pod; its sidecar
// hands it requests and it answers through a callback.
type App struct {
	cfg      AppConfig
	env      *sim.Env
	pod      *Pod
	busy     int
	queue    []*job
	jobs     map[uint64]*job
	next     uint64
	ready    bool // its own warm-up is over
	scReady  bool // its sidecar has configuration
	state    string
	draining bool
}

type job struct {
	id      uint64
	req     Request
	attempt int
	reply   func(Response)
}

type (
	appReady   struct{}
	appDone    struct{ id uint64 }
	appStopped struct{}
)

func newApp(env *sim.Env, pod *Pod, cfg AppConfig) *App {
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Weight <= 0 {
		cfg.Weight = 1
	}
	if cfg.DrainTime <= 0 {
		cfg.DrainTime = 3 * time.Second
	}
	a := &App{cfg: cfg, env: env, pod: pod, jobs: map[uint64]*job{}}
	env.SetTimer(cfg.ReadyAfter, appReady{})
	return a
}

// Endpoint is how the instance publishes itself.
func (a *App) Endpoint() Endpoint {
	return Endpoint{Addr: a.env.ID(), Weight: a.cfg.Weight, Version: a.pod.cfg.Version, Epoch: a.env.Incarnation()}
}

// Busy and Queued are the workers running requests and the requests
// waiting for one (for load reports).
func (a *App) Busy() int   { return a.busy }
func (a *App) Queued() int { return len(a.queue) }

// State is "", StatePublished, StateDraining or StateStopped.
func (a *App) State() string { return a.state }

func (a *App) sidecarReady() {
	a.scReady = true
	a.maybePublish()
}

func (a *App) maybePublish() {
	if !a.ready || !a.scReady || a.state != "" {
		return
	}
	a.state = StatePublished
	if a.pod.disc != nil {
		a.pod.disc.Publish(a.pod.cfg.Service, a.Endpoint())
	}
	observe(a.pod.cfg.Observer, a.env, Lifecycle{State: StatePublished, Service: a.pod.cfg.Service, Endpoint: a.Endpoint()})
}

func (a *App) drain() {
	if a.draining {
		return
	}
	a.draining = true
	if a.state == StatePublished && a.pod.disc != nil {
		a.pod.disc.Unpublish(a.pod.cfg.Service, a.env.ID())
	}
	a.state = StateDraining
	observe(a.pod.cfg.Observer, a.env, Lifecycle{State: StateDraining, Service: a.pod.cfg.Service, Endpoint: a.Endpoint()})
	a.env.SetTimer(a.cfg.DrainTime, appStopped{})
}

// healthy is what the health check sees: a grey failure still passes.
func (a *App) healthy() bool { return a.state == StatePublished }

// stopped instances refuse new requests.
func (a *App) stopped() bool { return a.state == StateStopped }

// handle takes a request: run it, queue it, or refuse it.
func (a *App) handle(req Request, attempt int, reply func(Response)) {
	if a.busy >= a.cfg.Workers && len(a.queue) >= a.cfg.Queue {
		reply(Response{Status: StatusUnavailable, Flag: FlagQueueFull, NotExecuted: true, By: a.env.ID()})
		return
	}
	a.next++
	j := &job{id: a.next, req: req, attempt: attempt, reply: reply}
	if a.busy >= a.cfg.Workers {
		a.queue = append(a.queue, j)
		return
	}
	a.run(j)
}

func (a *App) run(j *job) {
	a.busy++
	a.jobs[j.id] = j
	observe(a.pod.cfg.Observer, a.env, Executed{Req: j.req, Attempt: j.attempt, Version: a.pod.cfg.Version})
	a.env.Trace("mesh/exec", j.req.ID, j.attempt)
	d := a.cfg.ServiceTime.draw(a.env.Rand())
	if chance(a.env.Rand(), a.cfg.SlowPPM) {
		d += a.cfg.SlowExtra
	}
	if v, ok := a.env.Failpoint(FailAppSlow); ok {
		d += millis(v)
	}
	a.env.SetTimer(d, appDone{j.id})
}

func millis(v any) time.Duration {
	switch x := v.(type) {
	case int:
		return time.Duration(x) * time.Millisecond
	case string:
		n, _ := strconv.Atoi(x)
		return time.Duration(n) * time.Millisecond
	}
	return 100 * time.Millisecond
}

func (a *App) finish(id uint64) {
	j := a.jobs[id]
	if j == nil {
		return
	}
	resp := Response{Status: StatusOK, By: a.env.ID()}
	_, grey := a.env.Failpoint(FailAppError)
	if grey || chance(a.env.Rand(), a.cfg.ErrorPPM) || chance(a.env.Rand(), a.cfg.FailPPM) {
		resp.Status = StatusError
	}
	if a.cfg.Then != nil && resp.OK() {
		a.cfg.Then(j.req, func(r Response) { a.complete(j, r) })
		return
	}
	a.complete(j, resp)
}

// complete answers a job and gives its worker to the next queued one.
func (a *App) complete(j *job, resp Response) {
	if a.jobs[j.id] != j {
		return
	}
	delete(a.jobs, j.id)
	a.busy--
	resp.By = a.env.ID()
	j.reply(resp)
	if len(a.queue) > 0 && a.busy < a.cfg.Workers {
		n := a.queue[0]
		a.queue = a.queue[1:]
		a.run(n)
	}
}

func (a *App) timer(tag any) bool {
	switch x := tag.(type) {
	case appReady:
		a.ready = true
		a.maybePublish()
	case appDone:
		a.finish(x.id)
	case appStopped:
		a.state = StateStopped
		observe(a.pod.cfg.Observer, a.env, Lifecycle{State: StateStopped, Service: a.pod.cfg.Service, Endpoint: a.Endpoint()})
	default:
		return false
	}
	return true
}
