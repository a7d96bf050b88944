package registry

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// The push pipeline's retry bound (nodes/registry/push_pipeline.go).

// RetryCap: a push of one version is sent at most 1+Retries times, then
// waits for the version scan, so a subscriber on one connection receives
// one version at most 2*(1+Retries) times in any Scan interval (a round
// and the next scan's).
type RetryCap struct {
	Retries int
	Scan    int64
}

func (RetryCap) Name() string { return "push-retry-cap" }

func (c RetryCap) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	type key struct {
		client int
		reg    string
		v      uint64
	}
	got := map[key][]int64{}
	limit := 2 * (1 + c.Retries)
	var bad []string
	var ops []int
	for i, ev := range s.evs {
		switch ev.Kind {
		case Connect, Disconnect:
			for k := range got {
				if k.client == ev.Client {
					delete(got, k)
				}
			}
		case Push:
			k := key{ev.Client, ev.RegID, ev.Version}
			ts := append(got[k], ev.T)
			for len(ts) > 0 && ts[0] <= ev.T-c.Scan {
				ts = ts[1:]
			}
			got[k] = ts
			if len(ts) > limit {
				bad = append(bad, fmt.Sprintf("subscriber %s of client %d received version %d %d times from %v to %v (retry cap %d, scan %v)",
					ev.RegID, ev.Client, ev.Version, len(ts), vt(ts[0]), vt(ev.T), c.Retries, vt(c.Scan)))
				ops = append(ops, i)
				got[k] = nil
			}
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, "no version was pushed past the retry cap")
}
