package registry

import (
	"fmt"
	"slices"

	"github.com/sofasim/sofasim/checkers"
)

// MultiDCPropagation: away from faults, a data centre's change reaches
// every subscriber of its datum in the other data centre within Bound:
// the remote leader announces it and the syncing data server fetches it
// at once. multidc-converge judges only the end and allows a whole-slot
// sync and more after the last fault, so a change that waits for a
// periodic repair (a version the sessions take for old, a lost
// announcement) passes it. A change is judged when no fault acted from
// Settle before it to its deadline (widened by Settle), the subscriber
// subscribed Settle before it and had been pushed the datum, and the
// publisher did not change again before the deadline. A switch drill
// disturbs from its start to Lag after it is set back (the servers read
// the switches every reload period).
type MultiDCPropagation struct{ Bound, Settle, Lag int64 }

func (MultiDCPropagation) Name() string { return "multidc-propagation" }

func (c MultiDCPropagation) Check(h *History, _ checkers.Options) checkers.Result {
	res := checkers.Result{Checker: c.Name(), Verdict: checkers.Unknown}
	m := loadMultiDC(h.Events)
	var ds []disturbance
	end := int64(0)
	for _, ev := range h.Events {
		switch ev.Kind {
		case Disturbed:
			ds = append(ds, disturbance{start: ev.T, end: ev.Until, node: ev.Node})
		case Drill:
			if slices.Contains(MultiDCDrills, ev.Op) {
				ds = append(ds, disturbance{start: ev.T, end: ev.Until + c.Lag, node: ev.Node})
			}
		case End:
			end = ev.T
		}
	}
	var bad []string
	var ops []int
	judged, slowest := 0, int64(0)
	for i, ch := range h.Events {
		if (ch.Kind != Publish && ch.Kind != Unpublish) || ch.Node == "" {
			continue
		}
		deadline := ch.T + c.Bound
		if deadline > end || !quiet(ds, ch.T-c.Settle, deadline, c.Settle, func(string) bool { return true }) ||
			superseded(h.Events[i+1:], ch.RegID, deadline) {
			continue
		}
		want := ch.RegID + "=" + ch.Data
		for _, k := range m.keys {
			sub := m.subs[k]
			if sub.Node != ch.Node || sub.DataID != ch.DataID || sub.T > ch.T-c.Settle {
				continue
			}
			at, last, before := -1, -1, false // the first push showing the change; the last by the deadline
			for _, j := range m.pushes[k] {
				ev := h.Events[j]
				if j < i {
					before = true
					continue
				}
				if ev.T > deadline {
					break
				}
				last = j
				if at < 0 && shows(ev, ch, want) {
					at = j
				}
			}
			if !before {
				continue // never pushed the datum yet: multidc-converge judges its first push
			}
			judged++
			if last >= 0 && shows(h.Events[last], ch, want) {
				slowest = max(slowest, h.Events[at].T-ch.T)
				continue
			}
			bad = append(bad, fmt.Sprintf("client %d %s on %s's %s at %v (op %d), away from faults, but subscriber %s of client %d had not seen it %v later",
				ch.Client, changeWhat(ch, want), ch.Node, ch.DataID, vt(ch.T), i, k.reg, k.client, vt(c.Bound)))
			ops = append(ops, i)
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("%d changes away from faults reached the other data centre's subscribers within the bound %v (slowest %v)", judged, vt(c.Bound), vt(slowest)))
}
