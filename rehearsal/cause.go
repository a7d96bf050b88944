package rehearsal

import (
	"fmt"
	"strings"
	"time"
)

// Saturation thresholds of the cause analysis: a pool this busy on
// average over a second, or with this many requests waiting, has no
// room left for the next burst.
const (
	saturatedUtil  = 0.9
	saturatedQueue = 1.0
)

// cause says what broke at second s, downstream first. Entry SLOs are
// measured where users stand, but what gave way is usually deeper in the
// call graph: the deepest saturated service is the bottleneck, the
// services failing above it are its victims. With no pool saturated the
// cause is named from the failures, the coordinator and the drills.
func (r *Result) cause(f *File, s int) string {
	depth := callDepths(f)
	var saturated, failing []string
	bottleneck, deepest := "", -1
	for _, ss := range r.Services {
		u, q := at(ss.Util, s), at(ss.Queue, s)
		if u >= saturatedUtil || q >= saturatedQueue {
			what := fmt.Sprintf("%s (%.0f%% of workers busy, %.0f queued", ss.Name, 100*u, q)
			if m := at(ss.MaxQueue, s); ss.Instances > 1 && float64(m) > 2*q/float64(ss.Instances)+1 {
				what += fmt.Sprintf(", up to %d at one instance: load spread unevenly", m)
			}
			saturated = append(saturated, what+")")
			if d := depth[ss.Name]; d > deepest {
				bottleneck, deepest = ss.Name, d
			}
		}
		if ok, bad := at(ss.Goodput, s), at(ss.Failed, s); bad > 0 {
			failing = append(failing, fmt.Sprintf("%s %.1f%%", ss.Name, 100*float64(bad)/float64(ok+bad)))
		}
	}
	var b strings.Builder
	if bottleneck != "" {
		fmt.Fprintf(&b, "bottleneck: %s, the deepest saturated service; saturated: %s", bottleneck, strings.Join(saturated, ", "))
	} else {
		b.WriteString("no worker pool saturated")
	}
	if len(failing) > 0 {
		fmt.Fprintf(&b, "; failed calls: %s", strings.Join(failing, ", "))
	}
	if p := at(r.System.CommitP99, s); p > 0 {
		fmt.Fprintf(&b, "; commit p99 %.0fms, %d rollbacks", p, at(r.System.Rollbacks, s))
	}
	t := time.Duration(s) * time.Second
	for _, d := range r.Drills {
		if t >= d.At && (d.Until == 0 || t < d.Until) {
			fmt.Fprintf(&b, "; during drill: %s", d.What)
		}
	}
	return b.String()
}

// callDepths: entry services are 0, a service one more than its deepest
// caller (the graph is acyclic, checked by Validate).
func callDepths(f *File) map[string]int {
	depth := map[string]int{}
	var visit func(name string, d int)
	visit = func(name string, d int) {
		if old, ok := depth[name]; ok && old >= d {
			return
		}
		depth[name] = d
		if s := f.Service(name); s != nil {
			for _, c := range s.Calls {
				visit(c, d+1)
			}
		}
	}
	for _, e := range f.Traffic.Entry {
		visit(e, 0)
	}
	return depth
}
