package registry

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sofasim/sofasim/checkers"
)

// ClientOff: a client switched off (from DrillLag after the switch until
// client-open) receives no push, and, once Bound more has passed with no
// fault acting since the switch, its publishers are in no push to anyone.
// A zone's drill judges only a client connected to one of the zone's
// session servers since before the switch and staying there. That it
// comes back complete after client-open is the convergence checker's.
type ClientOff struct{ Bound, Settle int64 }

func (ClientOff) Name() string { return "client-off" }

func (c ClientOff) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	ds := s.disturbances()
	owner := s.owners()
	var bad []string
	var ops []int
	judged := 0
	for _, op := range []string{DrillClientOff, DrillClientOffZone} {
		for _, d := range s.drills(op) {
			from, until := d.T+DrillLag, s.until(d)
			off := map[int]bool{}
			for _, cl := range d.Clients {
				if _, dead := s.dead[cl]; dead {
					continue
				}
				if op == DrillClientOffZone {
					node, since := s.sessionAt(cl, d.T)
					if !slices.Contains(d.Sessions, node) || since > d.T || s.moved(cl, d.T, until) {
						continue
					}
				}
				off[cl] = true
				judged++
			}
			for i, ev := range s.evs {
				if ev.Kind != Push || ev.T < from || ev.T >= until {
					continue
				}
				if off[ev.Client] {
					bad = append(bad, fmt.Sprintf("client %d, switched off at %v (%s), was pushed version %d of %s at %v (op %d)",
						ev.Client, vt(d.T), op, ev.Version, ev.DataID, vt(ev.T), i))
					ops = append(ops, i)
					continue
				}
				if ev.T < from+c.Bound || !quiet(ds, d.T-c.Settle, ev.T, c.Settle, func(n string) bool { return n != "ops" }) {
					continue
				}
				for _, p := range ev.Pubs {
					reg, _, _ := strings.Cut(p, "=")
					if o, ok := owner[reg]; ok && off[o] {
						bad = append(bad, fmt.Sprintf("publisher %s of client %d, switched off at %v (%s), was still pushed to subscriber %s of client %d at %v (op %d)",
							reg, o, vt(d.T), op, ev.RegID, ev.Client, vt(ev.T), i))
						ops = append(ops, i)
					}
				}
			}
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("%d switched-off clients got no push and were gone from pushes within %v", judged, vt(DrillLag+c.Bound)))
}
