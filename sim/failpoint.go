package sim

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/pingcap/failpoint"
)

// armedFailpoint is a failpoint the world has armed. The world enables it
// in pingcap/failpoint's registry with a plain return(...) term, and decides
// each evaluation itself through a context hook with its own seeded stream,
// because the library's % terms and sleep/pause are not deterministic.
type armedFailpoint struct {
	name  string
	term  string
	ppm   int64 // 0: always
	left  int   // fires left; -1: unlimited
	nodes bitset
	all   bool
	rng   *rand.Rand
	fired uint64
}

func (w *World) arm(f ArmFailpoint) {
	v := f.Value
	if v == "" {
		v = "true"
	}
	a := &armedFailpoint{name: f.Failpoint, term: fmt.Sprintf("return(%s)", v), ppm: f.ProbabilityPPM, left: -1,
		nodes: w.bits(f.Nodes), all: len(f.Nodes) == 0, rng: NewStream(w.seed, "failpoint/"+f.Failpoint)}
	if f.Count > 0 {
		a.left = f.Count
	}
	w.armed[f.Failpoint] = a
	if w.running {
		w.enableFailpoint(a)
	}
}

func (w *World) disarm(name string) {
	if _, ok := w.armed[name]; !ok {
		return
	}
	delete(w.armed, name)
	if w.running {
		_ = failpoint.Disable(name)
	}
}

func (w *World) enableFailpoint(a *armedFailpoint) {
	if err := failpoint.Enable(a.name, a.term); err != nil {
		// The value is plan data: a bad term is the plan's fault.
		w.findings = append(w.findings, Finding{Kind: "bad-failpoint", Value: err.Error(), Seed: w.seed, At: w.Now()})
		delete(w.armed, a.name)
	}
}

// Armed lists the failpoints armed now.
func (w *World) Armed() []string { return sortedNames(w.armed) }

// FailpointFired counts how often an armed failpoint fired.
func (w *World) FailpointFired(name string) uint64 {
	if a := w.armed[name]; a != nil {
		return a.fired
	}
	return 0
}

func (w *World) failpointContext(n *slot) context.Context {
	r := n.rarePart()
	if r.fpCtx == nil { // made on first use: most nodes never evaluate one
		r.fpCtx = failpoint.WithHook(context.Background(), func(_ context.Context, name string) bool {
			return w.decide(n, name)
		})
	}
	return r.fpCtx
}

// decide says whether the named failpoint fires for node n now.
func (w *World) decide(n *slot, name string) bool {
	a := w.armed[name]
	if a == nil || a.left == 0 || (!a.all && !a.nodes.has(n.idx)) {
		return false
	}
	if a.ppm > 0 && !chance(a.rng, a.ppm) {
		return false
	}
	if a.left > 0 {
		a.left--
	}
	a.fired++
	w.fp.str("failpoint")
	w.fp.str(name)
	w.trace.write(&TraceRecord{T: w.now, Kind: "failpoint", Node: n.id, Event: name})
	return true
}
