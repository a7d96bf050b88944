package registry

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// Blacklist: once a dataInfoId is blacklisted, publishes to it are refused
// and the publishers it had removed: DrillLag + Bound later, every live
// subscriber of it that had been pushed the id holds no publisher, and no
// later push brings one back. Judged when no fault acted on the servers
// from Settle before the blacklist to the deadline, or before a later push.
type Blacklist struct{ Bound, Settle int64 }

func (Blacklist) Name() string { return "blacklist" }

func (c Blacklist) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	ds := s.disturbances()
	notOps := func(n string) bool { return n != "ops" }
	var bad []string
	var ops []int
	judged := 0
	for _, d := range s.drills(DrillBlacklistData) {
		deadline := d.T + DrillLag + c.Bound
		if deadline > s.end {
			continue
		}
		settled := quiet(ds, d.T-c.Settle, deadline, c.Settle, notOps)
		last := map[string]int{} // "client/sub" -> its latest push of the id
		for i, ev := range s.evs {
			if ev.Kind != Push || ev.DataID != d.DataID {
				continue
			}
			if ev.T <= deadline {
				last[fmt.Sprintf("%d/%s", ev.Client, ev.RegID)] = i
				continue
			}
			if !settled && !quiet(ds, ev.T-c.Bound-c.Settle, ev.T, 0, notOps) {
				continue
			}
			judged++
			if len(ev.Pubs) > 0 {
				bad = append(bad, fmt.Sprintf("%s, blacklisted at %v, was pushed with publishers %v to subscriber %s of client %d at %v (op %d)",
					d.DataID, vt(d.T), ev.Pubs, ev.RegID, ev.Client, vt(ev.T), i))
				ops = append(ops, i)
			}
		}
		if !settled {
			continue
		}
		for _, k := range sortedStr(last) {
			ev := s.evs[last[k]]
			if t, dead := s.dead[ev.Client]; (dead && t <= deadline) || s.switchedOff(ev.Client, d.T, deadline) || s.moved(ev.Client, d.T, deadline) ||
				s.afterStops(ev.Client, d.T, deadline, c.Bound) != deadline {
				continue // a stopped push holds the empty push back: the stop-push checker judges it
			}
			judged++
			if len(ev.Pubs) > 0 {
				bad = append(bad, fmt.Sprintf("%s was blacklisted at %v, but subscriber %s of client %d still held publishers %v at %v (last pushed at %v, op %d)",
					d.DataID, vt(d.T), ev.RegID, ev.Client, ev.Pubs, vt(deadline), vt(ev.T), last[k]))
				ops = append(ops, last[k])
			}
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("%d subscribers and pushes of blacklisted dataInfoIds held no publisher", judged))
}
