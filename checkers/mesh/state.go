package mesh

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/sim"
)

// facts are what several checkers derive from the harness's events.
type facts struct {
	service map[sim.NodeID]string          // pod -> service identity
	downs   map[sim.NodeID][]time.Duration // crash and restart times
	configs []configAt
	healAt  time.Duration // -1: never healed
	end     time.Duration
	ended   *Ended
}

type configAt struct {
	at  time.Duration
	cfg ConfigSet
}

func load(h *History) *facts {
	f := &facts{service: map[sim.NodeID]string{}, downs: map[sim.NodeID][]time.Duration{}, healAt: -1}
	for _, r := range h.Records {
		f.end = max(f.end, r.T)
		switch e := r.Ev.(type) {
		case Deployed:
			f.service[r.Node] = e.Service
		case Crashed, Restarted:
			f.downs[r.Node] = append(f.downs[r.Node], r.T)
		case ConfigSet:
			f.configs = append(f.configs, configAt{r.T, e})
		case Healed:
			f.healAt = r.T
		case Ended:
			f.ended = &e
		}
	}
	return f
}

// downAfter reports whether the node crashed or restarted at or after t.
func (f *facts) downAfter(n sim.NodeID, t time.Duration) bool {
	return slices.ContainsFunc(f.downs[n], func(c time.Duration) bool { return c >= t })
}

// policiesIn returns the service's policies of every configuration in
// effect at some time in [from, to] (sidecars apply a change at different
// times, so a checker allows any of them).
func (f *facts) policiesIn(service string, from, to time.Duration) []ServicePolicy {
	var out []ServicePolicy
	for i, c := range f.configs {
		if c.at > to {
			break
		}
		if i+1 < len(f.configs) && f.configs[i+1].at < from {
			continue
		}
		for _, s := range c.cfg.Services {
			if s.Name == service {
				out = append(out, s)
			}
		}
	}
	return out
}

// maxShown bounds the violations a result lists.
const maxShown = 5

// found collects a checker's violations and the records they point at.
type found struct {
	what []string
	ops  []int
	n    int
}

func (v *found) add(op int, format string, args ...any) {
	v.n++
	if len(v.what) < maxShown {
		v.what = append(v.what, fmt.Sprintf(format, args...))
		if op >= 0 {
			v.ops = append(v.ops, op)
		}
	}
}

// result is the verdict: pass with msg, or fail listing the violations.
func (v *found) result(name, msg string) checkers.Result {
	res := checkers.Result{Checker: name, Verdict: checkers.Pass, Explanation: msg}
	if v.n > 0 {
		res.Verdict = checkers.Fail
		res.Explanation = strings.Join(v.what, "; ")
		if v.n > len(v.what) {
			res.Explanation += fmt.Sprintf("; and %d more", v.n-len(v.what))
		}
		res.Ops = slices.Compact(slices.Sorted(slices.Values(v.ops)))
	}
	return res
}

// Bounds are the time limits the checkers allow the mesh.
type Bounds struct {
	// Stale is how long a sidecar may act on endpoints or configuration
	// that changed: its pilot may have died or stopped silently (keepalive
	// or ping timeout), then it reconnects and the new pilot pushes.
	Stale time.Duration
	// CrashStale is Stale for a crashed instance: its registry session
	// must notice first.
	CrashStale time.Duration
	// RecoveryGrace: goodput is judged from the heal plus this.
	RecoveryGrace time.Duration
	// Goodput is the share (percent) of requests that must succeed after
	// the grace.
	Goodput int
}

// DefaultBounds match the mesh's default timers (see nodes/mesh/doc.go).
var DefaultBounds = Bounds{Stale: 5 * time.Second, CrashStale: 8 * time.Second, RecoveryGrace: 3 * time.Second, Goodput: 95}

// Checkers are the mesh checkers the scenarios run.
func Checkers(b Bounds) []checkers.CheckerOf[*History] {
	return []checkers.CheckerOf[*History]{
		XDSDiscipline{}, Convergence{}, ReferentialIntegrity{},
		NoRequestToRemovedHost{Bound: b.Stale, CrashBound: b.CrashStale},
		LBRespectsHealth{}, MaxEjectionPercent{}, RetryLimits{Stale: b.Stale}, CircuitBreakerLimits{},
		WeightedSplit{Settle: b.Stale}, Authorization{Stale: b.Stale}, ExactlyOnce{},
		Recovery{Grace: b.RecoveryGrace, Percent: b.Goodput},
	}
}
