package registry

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// The push pipeline's merge bound (nodes/registry/push_pipeline.go).

// PushRate: changes are merged, so away from reconnects a subscriber is
// pushed at most Max new versions of its dataInfoId in any Window shorter
// than the change debounce (one merged change, one version scan, one
// retry round's newer datum). A session pushing every change at once
// under a burst of publishes fails it. Pushes that arrive during a fault
// of the network or of the client (or as it ends: a clog delivers what it
// held at once) are not the session's rate and are not counted.
type PushRate struct {
	Window int64
	Max    int
}

func (PushRate) Name() string { return "push-rate" }

func (c PushRate) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	ds := s.faults()
	news := map[subKey][]int{} // indexes of pushes of a new version, since the client's last (re)connect
	top := map[subKey]uint64{}
	var bad []string
	var ops []int
	worst := 0
	for i, ev := range s.evs {
		switch ev.Kind {
		case Connect, Disconnect, Subscribe:
			for k := range news {
				if k.client == ev.Client {
					delete(news, k) // a new subscription restarts the pipeline
				}
			}
		case Push:
			k := subKey{ev.Client, ev.RegID}
			if ev.Version <= top[k] {
				continue
			}
			top[k] = ev.Version
			own := fmt.Sprintf("client-%d", ev.Client)
			if !quiet(ds, ev.T, ev.T, 0, func(n string) bool { return n == "" || n == own }) {
				continue
			}
			in := append(news[k], i)
			for len(in) > 0 && s.evs[in[0]].T <= ev.T-c.Window {
				in = in[1:]
			}
			news[k] = in
			worst = max(worst, len(in))
			if len(in) > c.Max {
				bad = append(bad, fmt.Sprintf("subscriber %s of client %d was pushed %d new versions of %s from %v to %v (at most %d in %v)",
					ev.RegID, ev.Client, len(in), ev.DataID, vt(s.evs[in[0]].T), vt(ev.T), c.Max, vt(c.Window)))
				ops = append(ops, i)
				news[k] = nil
			}
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("at most %d new versions pushed to a subscriber in any %v", worst, vt(c.Window)))
}
