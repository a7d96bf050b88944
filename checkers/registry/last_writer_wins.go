package registry

import (
	"fmt"
	"strings"

	"github.com/sofasim/sofasim/checkers"
)

// LastWriterWins: within the pushes a subscriber receives, a
// publisher's version never goes back, and a live client's final push
// holds each publisher's latest data (checked by convergence).
type LastWriterWins struct{}

func (LastWriterWins) Name() string { return "last-writer-wins" }

func (c LastWriterWins) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	type seen struct {
		v  uint64
		op int
	}
	last := map[string]seen{}
	var bad []string
	var ops []int
	for i, ev := range s.evs {
		if ev.Kind != Push {
			continue
		}
		for j, p := range ev.Pubs {
			reg, _, _ := strings.Cut(p, "=")
			k := fmt.Sprintf("%d/%s/%s", ev.Client, ev.RegID, reg)
			v := uint64(0)
			if j < len(ev.PubVers) {
				v = ev.PubVers[j]
			}
			if prev, ok := last[k]; ok && prev.v > v {
				bad = append(bad, fmt.Sprintf("subscriber %s of client %d saw publisher %s at version %d (op %d) after version %d (op %d): an older write overwrote a newer one",
					ev.RegID, ev.Client, reg, v, i, prev.v, prev.op))
				ops = append(ops, i, prev.op)
			}
			last[k] = seen{v, i}
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, "no publisher's version went back in any subscriber's pushes")
}
