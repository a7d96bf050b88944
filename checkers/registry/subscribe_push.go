package registry

import (
	"fmt"
	"sort"

	"github.com/sofasim/sofasim/checkers"
)

// The push pipeline's bound on a new subscription (nodes/registry/push_pipeline.go).

// SubscribePush: a subscriber registered away from faults is pushed,
// within Bound, every publisher of its dataInfoId published Settle before
// it and not changed since (SOFARegistry's fireOnRegister). A client
// registers its subscribers again on every connect, so a connect counts
// too. Any fault near it excuses it: a stalled or crashed session server,
// even one neither client uses, holds a slot's migration and so its
// writes. An empty push standing over the real datum (sofa-registry#325)
// fails it.
type SubscribePush struct{ Bound, Settle int64 }

func (SubscribePush) Name() string { return "subscribe-push" }

// registration is a Subscribe event, or a re-subscription on Connect.
type registration struct {
	at  int // the event's index
	sub Event
}

func (s *regState) registrations() []registration {
	var out []registration
	subs := map[int]map[string]Event{}
	for i, ev := range s.evs {
		switch ev.Kind {
		case Subscribe:
			if subs[ev.Client] == nil {
				subs[ev.Client] = map[string]Event{}
			}
			subs[ev.Client][ev.RegID] = ev
			out = append(out, registration{at: i, sub: ev})
		case Connect:
			for _, reg := range sortedStr(subs[ev.Client]) {
				sb := subs[ev.Client][reg]
				sb.T = ev.T
				out = append(out, registration{at: i, sub: sb})
			}
		}
	}
	return out
}

func (c SubscribePush) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	ds := s.disturbances()       // drills included
	pushes := map[subKey][]int{} // each subscriber's pushes, in time order
	pubs := map[string][]int{}   // each dataInfoId's publishes, in time order
	for j, ev := range s.evs {
		switch ev.Kind {
		case Push:
			k := subKey{ev.Client, ev.RegID}
			pushes[k] = append(pushes[k], j)
		case Publish:
			pubs[ev.DataID] = append(pubs[ev.DataID], j)
		}
	}
	var bad []string
	var ops []int
	judged := 0
	for _, r := range s.registrations() {
		sb, i := r.sub, r.at
		deadline := sb.T + c.Bound
		if deadline > s.end || !s.alive(sb.Client, deadline) || s.switchedOff(sb.Client, sb.T-c.Settle, deadline) ||
			s.blacklisted(sb.DataID, deadline) || !quiet(ds, sb.T-c.Settle, deadline, c.Settle, func(string) bool { return true }) {
			continue
		}
		// the subscriber's latest push by the deadline (a re-subscribe keeps what it was pushed)
		own := pushes[subKey{sb.Client, sb.RegID}]
		n := sort.Search(len(own), func(k int) bool { return s.evs[own[k]].T > deadline })
		last := -1
		if n > 0 {
			last = own[n-1]
		}
		for _, j := range pubs[sb.DataID] {
			p := s.evs[j]
			if j >= i {
				break
			}
			if p.T > sb.T-c.Settle || superseded(s.evs[j+1:], p.RegID, deadline) ||
				!s.alive(p.Client, deadline) || s.switchedOff(p.Client, p.T, deadline) {
				continue
			}
			judged++
			if last >= 0 && shows(s.evs[last], p, p.RegID+"="+p.Data) {
				continue
			}
			bad = append(bad, fmt.Sprintf("subscriber %s of client %d registered on %s at %v away from faults, but its last push %v later lacked %s=%s, published at %v",
				sb.RegID, sb.Client, sb.DataID, vt(sb.T), vt(c.Bound), p.RegID, p.Data, vt(p.T)))
			ops = append(ops, i)
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("%d publishers held before a subscribe away from faults reached it within %v", judged, vt(c.Bound)))
}
