package registry

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// Blacklist: once a dataInfoId is blacklisted, every push of it received
// DrillLag + Bound later, with no fault acting in the Bound + Settle
// before, holds no publisher: publishes to it are refused and the
// publishers it had are removed.
type Blacklist struct{ Bound, Settle int64 }

func (Blacklist) Name() string { return "blacklist" }

func (c Blacklist) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	ds := s.disturbances()
	var bad []string
	var ops []int
	judged := 0
	for _, d := range s.drills(DrillBlacklistData) {
		for i, ev := range s.evs {
			if ev.Kind != Push || ev.DataID != d.DataID || ev.T < d.T+DrillLag+c.Bound ||
				!quiet(ds, ev.T-c.Bound-c.Settle, ev.T, 0, func(n string) bool { return n != "ops" }) {
				continue
			}
			judged++
			if len(ev.Pubs) > 0 {
				bad = append(bad, fmt.Sprintf("%s, blacklisted at %v, was pushed with publishers %v to subscriber %s of client %d at %v (op %d)",
					d.DataID, vt(d.T), ev.Pubs, ev.RegID, ev.Client, vt(ev.T), i))
				ops = append(ops, i)
			}
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("%d pushes of blacklisted dataInfoIds held no publisher", judged))
}
