package rehearsal

import (
	"strconv"
	"time"

	"github.com/sofasim/sofasim/nodes/mesh"
	"github.com/sofasim/sofasim/sim"
)

// Rate is the traffic curve: requests a second, in thousandths, at t
// after the warm-up (noise included). Integer-only.
type Rate struct {
	points []Point
	noise  []int64 // ppm per second
}

func newRate(t Traffic, seed uint64) *Rate {
	r := &Rate{points: t.Points}
	n := int(time.Duration(t.Points[len(t.Points)-1].At)/time.Second) + 1
	s := sim.NewStream(seed, "harness/traffic-noise")
	for range n {
		var v int64
		if t.NoisePPM > 0 {
			v = s.Int64N(2*t.NoisePPM+1) - t.NoisePPM
		}
		r.noise = append(r.noise, v)
	}
	return r
}

// Milli is the rate at t in requests per thousand seconds.
func (r *Rate) Milli(t time.Duration) int64 {
	ps := r.points
	if t < 0 || t >= time.Duration(ps[len(ps)-1].At) {
		return 0
	}
	i := 1
	for time.Duration(ps[i].At) <= t {
		i++
	}
	a, b := ps[i-1], ps[i]
	span := int64(b.At - a.At)
	base := int64(a.Rate)*1000 + (int64(b.Rate)-int64(a.Rate))*1000*int64(t-time.Duration(a.At))/span
	return base * (1_000_000 + r.noise[int(t/time.Second)]) / 1_000_000
}

// MaxMilli bounds Milli over the whole curve.
func (r *Rate) MaxMilli() int64 {
	var m int64
	for _, p := range r.points {
		m = max(m, int64(p.Rate)*1000)
	}
	var n int64
	for _, v := range r.noise {
		n = max(n, v)
	}
	return m * (1_000_000 + n) / 1_000_000
}

// loadGen is a client pod: a sidecar and an open-loop generator. Its
// share of the rate (1/clients) arrives as a Poisson process with a
// varying rate, by thinning: candidate gaps are exponential at the
// curve's maximum, and a candidate at t is kept with probability
// rate(t)/max.
type loadGen struct {
	h       *harness
	pc      mesh.PodConfig
	pod     *mesh.Pod
	env     *sim.Env
	clients int64
	seq     uint64
	start   time.Duration // monotonic time of the traffic's 0s
	user    *user         // set: a user behind a gateway, no sidecar
}

type arrival struct{}

func (g *loadGen) Start(env *sim.Env) {
	g.env = env
	if g.user != nil {
		g.user.pending = map[uint64]userPending{}
		g.dial()
	} else {
		g.pod = mesh.NewPod(g.pc)
		g.pod.Start(env)
	}
	g.start = g.h.warmup - g.h.w.Now() + env.Monotonic()
	g.next()
}

func (g *loadGen) next() {
	maxMilli := g.h.rate.MaxMilli()
	if maxMilli <= 0 {
		return
	}
	// Mean gap at the maximum rate of this client, in nanoseconds.
	mean := int64(time.Second) * 1000 * g.clients / maxMilli
	g.env.SetTimer(time.Duration(expScaled(g.env.Rand(), mean)), arrival{})
}

func (g *loadGen) Timer(id sim.TimerID, tag any) {
	switch tag.(type) {
	case arrival:
	case redial:
		g.dial()
		return
	default:
		g.pod.Timer(id, tag)
		return
	}
	t := g.env.Monotonic() - g.start
	if t >= g.h.f.Duration() {
		return
	}
	if t >= 0 && g.env.Rand().Int64N(g.h.rate.MaxMilli()) < g.h.rate.Milli(t) {
		g.issue()
	}
	g.next()
}

func (g *loadGen) issue() {
	entry := g.h.f.Traffic.Entry
	svc := entry[g.env.Rand().IntN(len(entry))]
	if g.user != nil {
		g.sendToGateway(svc)
		return
	}
	g.seq++
	req := mesh.Request{ID: string(g.env.ID()) + "#" + strconv.FormatUint(uint64(g.env.Incarnation()), 10) + "/" + strconv.FormatUint(g.seq, 10),
		Service: svc, Path: "/"}
	start := g.h.w.Now()
	g.h.m.issued(svc)
	g.pod.Sidecar().Outbound(req, func(r mesh.Response) { g.h.m.answered(svc, start, r.OK()) })
}

func (g *loadGen) Connected(c sim.ConnID, p sim.NodeID) {
	if g.user == nil {
		g.pod.Connected(c, p)
	}
}

func (g *loadGen) Closed(c sim.ConnID, p sim.NodeID) {
	switch {
	case g.user == nil:
		g.pod.Closed(c, p)
	case c == g.user.conn:
		g.gatewayLost()
	}
}

func (g *loadGen) Message(c sim.ConnID, f sim.NodeID, m any) {
	if g.user == nil {
		g.pod.Message(c, f, m)
	} else if r, ok := m.(*userResponse); ok {
		g.answer(r.Seq, r.OK)
	}
}

func (g *loadGen) Datagram(f sim.NodeID, m any) {
	if g.user == nil {
		g.pod.Datagram(f, m)
	}
}
