package registry

import (
	"fmt"
	"strings"

	"github.com/sofasim/sofasim/checkers"
)

// NoGhost: a dead client's publishers disappear from every push
// received more than Bound after it died.
type NoGhost struct{ Bound int64 }

func (NoGhost) Name() string { return "no-ghost" }

func (c NoGhost) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	owner := map[string]int{}
	for _, ev := range s.evs {
		if ev.Kind == Publish {
			owner[ev.RegID] = ev.Client
		}
	}
	var bad []string
	var ops []int
	reported := map[string]bool{}
	for i, ev := range s.evs {
		if ev.Kind != Push {
			continue
		}
		for _, p := range ev.Pubs {
			reg, _, _ := strings.Cut(p, "=")
			o, known := owner[reg]
			td, dead := s.dead[o]
			if !known || !dead || ev.T <= td+c.Bound || reported[reg] {
				continue
			}
			reported[reg] = true
			bad = append(bad, fmt.Sprintf("publisher %s of client %d, dead since %v, was still pushed to subscriber %s of client %d at %v (op %d), more than %v later",
				reg, o, vt(td), ev.RegID, ev.Client, vt(ev.T), i, vt(c.Bound)))
			ops = append(ops, i)
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("%d dead clients' publishers were gone from pushes within %v", len(s.dead), vt(c.Bound)))
}
