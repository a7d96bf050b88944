package registry

import (
	"fmt"
	"strings"

	"github.com/sofasim/sofasim/checkers"
)

// AckVisible: once a session acknowledged a live client's publish (it
// stored it, SOFARegistry's contract), every live subscriber of the
// dataInfoId holds it in its latest push by Bound later, when nothing that
// may delay it was disturbed from Settle before the acknowledgement to the
// deadline: the network, the meta, data and session servers, the
// publisher's and the subscriber's clients; an ops drill that blacklists
// the dataInfoId or switches either client off owes nothing. Any session server counts: a
// slot that migrates to a new leader serves only once every session in the
// table answered, so a stalled or crashed one (it stays in the table for
// the meta lease) holds every write to the slot, which the session gives
// up after 5 retries and the next 6 s sync repairs. The push may beat the
// acknowledgement to its client. Under a push pipeline Bound must cover its
// longest delay.
type AckVisible struct{ Bound, Settle int64 }

func (AckVisible) Name() string { return "ack-visible" }

func (c AckVisible) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	ds := s.disturbances()
	var bad []string
	var ops []int
	judged := 0
	for i, ev := range s.evs {
		if ev.Kind != PublishAck {
			continue
		}
		cur, ok := s.current[ev.Client][ev.RegID]
		deadline := ev.T + c.Bound
		if !ok || cur.Version != ev.Version || deadline > s.end || !s.alive(ev.Client, deadline) || superseded(s.evs[i+1:], ev.RegID, deadline) ||
			s.blacklisted(cur.DataID, deadline) || s.switchedOff(ev.Client, ev.T, deadline) {
			continue
		}
		want := ev.RegID + "=" + cur.Data
		for _, cl := range sortedInts(s.subs) {
			if !s.alive(cl, deadline) || s.switchedOff(cl, ev.T, deadline) {
				continue
			}
			for _, reg := range sortedStr(s.subs[cl]) {
				sub := s.subs[cl][reg]
				if sub.DataID != cur.DataID || sub.T > ev.T-c.Settle {
					continue
				}
				on := func(n string) bool {
					return !strings.HasPrefix(n, "client-") || n == fmt.Sprintf("client-%d", ev.Client) || n == fmt.Sprintf("client-%d", cl)
				}
				if !quiet(ds, ev.T-c.Settle, deadline, c.Settle, on) || moved(s.evs, cl, false, ev.T-c.Settle, deadline) || moved(s.evs, ev.Client, true, ev.T, deadline) {
					continue
				}
				judged++
				// The push may beat the acknowledgement to its client.
				last := -1
				for j := 0; j < len(s.evs) && s.evs[j].T <= deadline; j++ {
					if p := s.evs[j]; p.Kind == Push && p.Client == cl && p.RegID == reg {
						last = j
					}
				}
				if last >= 0 && shows(s.evs[last], cur, want) {
					continue
				}
				bad = append(bad, fmt.Sprintf("client %d's publish %s was acknowledged at %v (op %d), but subscriber %s of client %d did not hold it %v later",
					ev.Client, want, vt(ev.T), i, reg, cl, vt(c.Bound)))
				ops = append(ops, i)
			}
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("%d acknowledged publishes reached their subscribers within %v", judged, vt(c.Bound)))
}

// moved reports whether the client lost its session connection (or, unless
// onlyLost, made a new one) in [from, to].
func moved(evs []Event, client int, onlyLost bool, from, to int64) bool {
	for _, ev := range evs {
		if ev.T >= from && ev.T <= to && ev.Client == client && (ev.Kind == Disconnect || (ev.Kind == Connect && !onlyLost)) {
			return true
		}
	}
	return false
}
