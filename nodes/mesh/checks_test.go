package mesh

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/sofasim/sofasim/checkers"
	meshcheck "github.com/sofasim/sofasim/checkers/mesh"
	"github.com/sofasim/sofasim/sim"
)

// The invariants the simulation tests judge are checkers/mesh's, the same
// the scenarios run. A test world's recorded events read as a
// checkers/mesh History through their JSON (the two event sets share
// names and fields); the harness adds what it knows: the pods, crash and
// restart times, the configuration, the heal and the end state.

// history is the test world's recording as checkers/mesh reads it.
func (tm *testMesh) history() *meshcheck.History {
	data, err := json.Marshal(tm.rec.Records)
	if err != nil {
		panic(err)
	}
	rec, err := meshcheck.ReadJSON(bytes.NewReader(data))
	if err != nil {
		panic(err)
	}
	h := &meshcheck.History{}
	h.Add(0, "harness", configSet(tm.m.Config()))
	for _, id := range append(append([]sim.NodeID(nil), tm.m.AppIDs...), tm.m.Clients...) {
		h.Add(0, id, meshcheck.Deployed{Service: tm.m.ServiceOf(id)})
	}
	type down struct {
		at   time.Duration
		node sim.NodeID
	}
	var downs []down
	for _, n := range slices.Sorted(maps.Keys(tm.crashed)) {
		for _, at := range tm.crashed[n] {
			downs = append(downs, down{at, n})
		}
	}
	slices.SortStableFunc(downs, func(a, b down) int { return int(a.at - b.at) })
	healed := false
	for _, r := range rec.Records {
		for len(downs) > 0 && downs[0].at <= r.T {
			h.Add(downs[0].at, downs[0].node, meshcheck.Crashed{})
			downs = downs[1:]
		}
		if !healed && r.T >= tm.healAt {
			h.Add(tm.healAt, "harness", meshcheck.Healed{})
			healed = true
		}
		h.Add(r.T, r.Node, r.Ev)
	}
	if !healed {
		h.Add(tm.healAt, "harness", meshcheck.Healed{})
	}
	h.Add(tm.w.Now(), "harness", meshcheck.Ended{Divergence: tm.m.Divergence()})
	return h
}

// configSet is what the checkers need of the configuration in force at
// the end (the tests' changes keep retries and allow lists).
func configSet(cfg *MeshConfig) meshcheck.ConfigSet {
	out := meshcheck.ConfigSet{Version: 1}
	for _, name := range cfg.ServiceNames() {
		s := cfg.Service(name)
		p := meshcheck.ServicePolicy{Name: name, Allow: s.Allow}
		for _, r := range s.Routes {
			rp := meshcheck.RoutePolicy{Name: r.Name}
			if r.Retry != nil {
				rp.NumRetries = r.Retry.NumRetries
			}
			for _, sp := range r.Split {
				rp.Split = append(rp.Split, meshcheck.Split{Cluster: ClusterName(name, sp.Subset), Weight: sp.Weight})
			}
			p.Routes = append(p.Routes, rp)
		}
		def := meshcheck.RoutePolicy{Name: "default"}
		if s.DefaultRetry != nil {
			def.NumRetries = s.DefaultRetry.NumRetries
		}
		p.Routes = append(p.Routes, def)
		out.Services = append(out.Services, p)
	}
	return out
}

// staleBound is how long a sidecar may act on endpoints that changed: its
// pilot may have died or stopped without a word, which it learns within
// the keepalive (3s) or its ping timeout (3s, checked every second), then
// it reconnects (at most 400ms) and the new pilot pushes (debounce
// 100ms); half a second of slack.
const staleBound = 5 * time.Second

var testBounds = meshcheck.Bounds{Stale: staleBound, CrashStale: staleBound + 3*time.Second, RecoveryGrace: 2 * time.Second, Goodput: 95}

// checkAll runs every checker and returns the failing ones' explanations.
func (tm *testMesh) checkAll() map[string]string {
	h := tm.history()
	out := map[string]string{}
	for _, c := range meshcheck.Checkers(testBounds) {
		if r := c.Check(h, checkers.Options{}); r.Verdict != checkers.Pass {
			out[c.Name()] = r.Explanation
		}
	}
	return out
}

// checkAllBut runs every checker except the named ones.
func (tm *testMesh) checkAllBut(names ...string) map[string]string {
	v := tm.checkAll()
	for _, n := range names {
		delete(v, n)
	}
	return v
}

// checkNoDrainedHost runs no-request-to-removed-host with other bounds.
func (tm *testMesh) checkNoDrainedHost(bound, crashBound time.Duration) string {
	r := meshcheck.NoRequestToRemovedHost{Bound: bound, CrashBound: crashBound}.Check(tm.history(), checkers.Options{})
	if r.Verdict == checkers.Pass {
		return ""
	}
	return r.Explanation
}
