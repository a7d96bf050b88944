package rehearsal

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/sofasim/sofasim/nodes/coordinator"
	"github.com/sofasim/sofasim/nodes/mesh"
)

// invariants judges the systems' correctness at the end of the tail:
// money is conserved, every TCC reservation is settled, no global lock,
// session, undo log or local lock is left, every live sidecar holds the
// endpoints the registry's truth makes, and no node panicked.
func (h *harness) invariants() (bad, unjudged []string) {
	for _, f := range h.w.Findings() {
		bad = append(bad, "panic: "+f.String())
	}
	st := coordinator.Inspect(h.w, h.co)
	if len(st.Down) > 0 {
		unjudged = append(unjudged, fmt.Sprintf("coordinator state (down at the end: %v)", st.Down))
	} else {
		if st.Money != st.ExpectedMoney {
			bad = append(bad, fmt.Sprintf("money not conserved: %d, want %d", st.Money, st.ExpectedMoney))
		}
		for _, rm := range slices.Sorted(maps.Keys(st.Items)) {
			for _, it := range slices.Sorted(maps.Keys(st.Items[rm])) {
				v := st.Items[rm][it]
				if v.Stock+v.Frozen+v.Confirmed != st.InitialStock || v.Frozen != 0 {
					bad = append(bad, fmt.Sprintf("stock of %s on %s: %d + frozen %d + confirmed %d, want %d with none frozen", it, rm, v.Stock, v.Frozen, v.Confirmed, st.InitialStock))
				}
			}
		}
		for _, rm := range slices.Sorted(maps.Keys(st.UndoLogs)) {
			if len(st.UndoLogs[rm]) > 0 {
				bad = append(bad, fmt.Sprintf("undo logs left on %s: %v", rm, st.UndoLogs[rm]))
			}
		}
		for _, rm := range slices.Sorted(maps.Keys(st.LocalLocks)) {
			if len(st.LocalLocks[rm]) > 0 {
				bad = append(bad, fmt.Sprintf("local locks left on %s: %v", rm, st.LocalLocks[rm]))
			}
		}
	}
	if st.ServingTC == "" {
		unjudged = append(unjudged, "global locks (no serving TC at the end)")
	} else {
		if len(st.GlobalLocks) > 0 {
			bad = append(bad, fmt.Sprintf("global locks leaked: %d, e.g. %s", len(st.GlobalLocks), slices.Sorted(maps.Keys(st.GlobalLocks))[0]))
		}
		if len(st.Open) > 0 {
			bad = append(bad, fmt.Sprintf("global sessions left open: %d, e.g. xid %d (%v)", len(st.Open), st.Open[0].XID, st.Open[0].Status))
		}
	}
	bad = append(bad, h.divergence()...)
	return bad, unjudged
}

// divergence compares every live sidecar's endpoints with what the
// configuration and the published instances make of them.
func (h *harness) divergence() []string {
	truth := map[string][]mesh.Endpoint{}
	for _, s := range h.f.Services {
		truth[s.Name] = nil
		for _, id := range h.apps[s.Name] {
			p, ok := h.w.Node(id).(*appPod)
			if !ok || h.w.Paused(id) || p.pod.App().State() != mesh.StatePublished {
				continue
			}
			truth[s.Name] = append(truth[s.Name], p.pod.App().Endpoint())
		}
		slices.SortFunc(truth[s.Name], func(a, b mesh.Endpoint) int { return strings.Compare(string(a.Addr), string(b.Addr)) })
	}
	var out []string
	check := func(id string, pod *mesh.Pod, svc string) {
		want := mesh.BuildSnapshot(h.mcfg, truth, svc)[mesh.TypeEndpoint].Digest()
		if got := pod.Sidecar().Applied()[mesh.TypeEndpoint]; got.Digest != want && len(out) < 5 {
			out = append(out, fmt.Sprintf("mesh not converged: sidecar %s holds endpoints %q (digest %x), want digest %x", id, got.Version, got.Digest, want))
		}
	}
	for _, s := range h.f.Services {
		for _, id := range h.apps[s.Name] {
			if p, ok := h.w.Node(id).(*appPod); ok && !h.w.Paused(id) {
				check(string(id), p.pod, s.Name)
			}
		}
	}
	for _, id := range h.clients {
		if g, ok := h.w.Node(id).(*loadGen); ok && g.pod != nil {
			check(string(id), g.pod, "client")
		}
	}
	for _, id := range h.gateways {
		if g, ok := h.w.Node(id).(*gateway); ok {
			check(string(id), g.pod, "client")
		}
	}
	return out
}
