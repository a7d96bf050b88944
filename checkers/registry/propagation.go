package registry

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sofasim/sofasim/checkers"
)

// Propagation: away from faults, a live client's change reaches every
// live subscriber of its dataInfoId within Bound: by then the
// subscriber's latest push no longer holds an unpublished publisher and
// holds a published one with its new data. A removal that only
// anti-entropy repairs seconds later, or a push retried far too late,
// passes the end-of-run convergence check but fails here. A change is
// judged only when no fault acted from Settle before it to its deadline
// (widened by Settle), when its client and the subscriber's stayed alive,
// the subscriber subscribed Settle before it, and no later change to the
// same publisher came before the deadline. An app's publisher (app-level
// discovery) reaches the subscribers of every interface its revision
// lists: a revision a session cannot find must not hold it back past the
// bound (sofa-registry#336).
type Propagation struct{ Bound, Settle int64 }

func (Propagation) Name() string { return "propagation" }

func (c Propagation) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	ds := s.disturbances()
	ifaces := s.revisionInterfaces()
	var bad []string
	var ops []int
	judged, slowest := 0, int64(0)
	for i, ch := range s.evs {
		if ch.Kind != Publish && ch.Kind != Unpublish {
			continue
		}
		ids := []string{ch.DataID}
		if strings.HasPrefix(ch.DataID, "app/") && ch.Kind == Publish {
			_, rev, _ := strings.Cut(ch.Data, "@")
			for _, i := range ifaces[rev] {
				ids = append(ids, "iface/"+i)
			}
		}
		deadline := ch.T + c.Bound
		if deadline > s.end || !s.alive(ch.Client, deadline) || !quiet(ds, ch.T-c.Settle, deadline, c.Settle, func(string) bool { return true }) {
			continue
		}
		if superseded(s.evs[i+1:], ch.RegID, deadline) || s.blacklisted(ch.DataID, deadline) || s.switchedOff(ch.Client, ch.T, deadline) {
			continue
		}
		want := ch.RegID + "=" + ch.Data
		for _, cl := range sortedInts(s.subs) {
			if !s.alive(cl, deadline) {
				continue
			}
			for _, reg := range sortedStr(s.subs[cl]) {
				sub := s.subs[cl][reg]
				if !slices.Contains(ids, sub.DataID) || sub.T > ch.T-c.Settle || s.switchedOff(cl, ch.T-c.Settle, deadline) {
					continue
				}
				judged++
				at, last := -1, -1 // the first push that shows the change; the last push by the deadline
				for j := i + 1; j < len(s.evs) && s.evs[j].T <= deadline; j++ {
					ev := s.evs[j]
					if ev.Kind != Push || ev.Client != cl || ev.RegID != reg {
						continue
					}
					last = j
					if shows(ev, ch, want) && at < 0 {
						at = j
					}
				}
				if last >= 0 && shows(s.evs[last], ch, want) {
					slowest = max(slowest, s.evs[at].T-ch.T)
					continue
				}
				bad = append(bad, fmt.Sprintf("client %d %s on %s at %v (op %d), away from faults, but subscriber %s of client %d had not seen it %v later",
					ch.Client, changeWhat(ch, want), ch.DataID, vt(ch.T), i, reg, cl, vt(c.Bound)))
				ops = append(ops, i)
			}
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("%d changes away from faults reached their subscribers within the bound %v (slowest %v)", judged, vt(c.Bound), vt(slowest)))
}

// shows reports whether a push reflects a change.
func shows(push, ch Event, want string) bool {
	for _, p := range push.Pubs {
		if ch.Kind == Publish && p == want {
			return true
		}
		if ch.Kind == Unpublish && strings.HasPrefix(p, ch.RegID+"=") {
			return false
		}
	}
	return ch.Kind == Unpublish
}

// superseded reports whether the publisher changes again before t.
func superseded(evs []Event, regID string, t int64) bool {
	for _, ev := range evs {
		if ev.T > t {
			return false
		}
		if (ev.Kind == Publish || ev.Kind == Unpublish) && ev.RegID == regID {
			return true
		}
	}
	return false
}

// changeWhat says what a publish or unpublish did, for a report.
func changeWhat(ch Event, want string) string {
	if ch.Kind == Unpublish {
		return "unpublished " + ch.RegID
	}
	return "published " + want
}
