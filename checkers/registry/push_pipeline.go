package registry

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// The session push pipeline's bounds (nodes/registry/push_pipeline.go).

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
	ds := append(s.disturbances(), s.drillDisturbances()...)
	alive := func(cl int, until int64) bool {
		t, dead := s.dead[cl]
		return !dead || t > until
	}
	var bad []string
	var ops []int
	judged := 0
	for _, r := range s.registrations() {
		sb, i := r.sub, r.at
		deadline := sb.T + c.Bound
		if deadline > s.end || !alive(sb.Client, deadline) || s.switchedOff(sb.Client, sb.T-c.Settle, deadline) ||
			s.blacklisted(sb.DataID, deadline) || !quiet(ds, sb.T-c.Settle, deadline, c.Settle, func(string) bool { return true }) {
			continue
		}
		last := -1 // the subscriber's latest push by the deadline (a re-subscribe keeps what it was pushed)
		for j := 0; j < len(s.evs) && s.evs[j].T <= deadline; j++ {
			if ev := s.evs[j]; ev.Kind == Push && ev.Client == sb.Client && ev.RegID == sb.RegID {
				last = j
			}
		}
		for j, p := range s.evs[:i] {
			if p.Kind != Publish || p.DataID != sb.DataID || p.T > sb.T-c.Settle || superseded(s.evs[j+1:], p.RegID, deadline) ||
				!alive(p.Client, deadline) || s.switchedOff(p.Client, p.T, deadline) {
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

// PushRate: changes are merged, so away from reconnects a subscriber is
// pushed at most Max new versions of its dataInfoId in any Window shorter
// than the change debounce (one merged change, one version scan, one
// retry round's newer datum). A session pushing every change at once
// under a burst of publishes fails it.
type PushRate struct {
	Window int64
	Max    int
}

func (PushRate) Name() string { return "push-rate" }

func (c PushRate) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	type key struct {
		client int
		reg    string
	}
	news := map[key][]int{} // indexes of pushes of a new version, since the client's last (re)connect
	top := map[key]uint64{}
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
			k := key{ev.Client, ev.RegID}
			if ev.Version <= top[k] {
				continue
			}
			top[k] = ev.Version
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
