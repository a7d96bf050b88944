package mesh

import (
	"slices"

	meshcheck "github.com/sofasim/sofasim/checkers/mesh"
	meshnode "github.com/sofasim/sofasim/nodes/mesh"
	"github.com/sofasim/sofasim/sim"
)

// recorder is the mesh's Observer: it turns each node event into the
// checkers' typed event, stamped with the world's time. The two event
// sets have the same names and fields; this is the one place that maps
// them.
type recorder struct {
	w *sim.World
	h *meshcheck.History
}

func (r *recorder) Observe(node sim.NodeID, ev meshnode.Event) {
	r.h.Add(r.w.Now(), node, convert(ev))
}

func (r *recorder) add(node sim.NodeID, ev meshcheck.Event) { r.h.Add(r.w.Now(), node, ev) }

func req(q meshnode.Request) meshcheck.Request {
	out := meshcheck.Request{ID: q.ID, Service: q.Service, Path: q.Path, Idempotent: q.Idempotent, Caller: q.Caller}
	for _, h := range q.Headers {
		out.Headers = append(out.Headers, meshcheck.Header{Name: h.Name, Value: h.Value})
	}
	return out
}

func resp(r meshnode.Response) meshcheck.Response {
	return meshcheck.Response{Status: r.Status, Flag: r.Flag, NotExecuted: r.NotExecuted, By: r.By}
}

func convert(ev meshnode.Event) meshcheck.Event {
	switch e := ev.(type) {
	case meshnode.XDSEvent:
		return meshcheck.XDSEvent(e)
	case meshnode.ConfigApplied:
		return meshcheck.ConfigApplied(e)
	case meshnode.Issued:
		return meshcheck.Issued{Req: req(e.Req), Timeout: e.Timeout}
	case meshnode.Answered:
		return meshcheck.Answered{ReqID: e.ReqID, Resp: resp(e.Resp), Attempts: e.Attempts, Route: e.Route, Cluster: e.Cluster}
	case meshnode.Routed:
		return meshcheck.Routed(e)
	case meshnode.Attempt:
		return meshcheck.Attempt(e)
	case meshnode.AttemptDone:
		return meshcheck.AttemptDone{ReqID: e.ReqID, N: e.N, Host: e.Host, Epoch: e.Epoch, Resp: resp(e.Resp)}
	case meshnode.NoHost:
		return meshcheck.NoHost(e)
	case meshnode.Retry:
		return meshcheck.Retry(e)
	case meshnode.RetryDone:
		return meshcheck.RetryDone(e)
	case meshnode.Overflow:
		return meshcheck.Overflow(e)
	case meshnode.Ejection:
		return meshcheck.Ejection(e)
	case meshnode.Health:
		return meshcheck.Health(e)
	case meshnode.AuthzDecision:
		return meshcheck.AuthzDecision(e)
	case meshnode.Executed:
		return meshcheck.Executed{Req: req(e.Req), Attempt: e.Attempt, Version: e.Version}
	case meshnode.Lifecycle:
		return meshcheck.Lifecycle{State: e.State, Service: e.Service, Endpoint: meshcheck.Endpoint(e.Endpoint)}
	}
	panic("scenarios/mesh: unknown mesh event " + ev.(interface{ String() string }).String())
}

// policies is what the checkers need of a configuration.
func policies(cfg *meshnode.MeshConfig, version int) meshcheck.ConfigSet {
	out := meshcheck.ConfigSet{Version: version, Invalid: invalid(cfg)}
	for _, name := range cfg.ServiceNames() {
		s := cfg.Service(name)
		p := meshcheck.ServicePolicy{Name: name, Allow: slices.Clone(s.Allow)}
		for _, r := range s.Routes {
			rp := meshcheck.RoutePolicy{Name: r.Name, NumRetries: retries(r.Retry)}
			for _, sp := range r.Split {
				rp.Split = append(rp.Split, meshcheck.Split{Cluster: meshnode.ClusterName(name, sp.Subset), Weight: sp.Weight})
			}
			p.Routes = append(p.Routes, rp)
		}
		p.Routes = append(p.Routes, meshcheck.RoutePolicy{Name: "default", NumRetries: retries(s.DefaultRetry),
			Split: []meshcheck.Split{{Cluster: meshnode.ClusterName(name, ""), Weight: 1}}})
		out.Services = append(out.Services, p)
	}
	return out
}

func retries(p *meshnode.RetryPolicy) int {
	if p == nil {
		return 0
	}
	return p.NumRetries
}

// invalid reports whether sidecars reject the configuration's resources.
func invalid(cfg *meshnode.MeshConfig) bool {
	snap := meshnode.BuildSnapshot(cfg, map[string][]meshnode.Endpoint{}, "")
	for _, t := range meshnode.Types {
		if snap[t].Validate() != nil {
			return true
		}
	}
	return false
}
