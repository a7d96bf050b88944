package registry

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// PushLiveness: a live client's publisher acknowledged at t reaches
// every live subscriber of its dataInfoId (subscribed at s) by
// max(t, s, heal) + Bound. An acknowledgement says only that the session
// stored the publisher (SOFARegistry's contract): the writes to the data
// servers, given up after five retries and repaired by the session's
// periodic sync, must still get it there within Bound. A span with no
// warmed-up meta leader ("meta-election") that covers that moment moves
// it to the span's end: without a slot table nothing can be routed, and
// a new leader's 30 s warm-up is the real product's choice.
type PushLiveness struct{ Bound int64 }

func (PushLiveness) Name() string { return "push-liveness" }

func (c PushLiveness) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	exp := s.expected()
	elections := s.elections()
	acked := map[string]int{}
	for i, ev := range s.evs {
		if ev.Kind == PublishAck {
			if cur, ok := s.current[ev.Client][ev.RegID]; ok && cur.Version == ev.Version {
				acked[ev.RegID] = i
			}
		}
	}
	var bad []string
	var ops []int
	n := 0
	for _, cl := range sortedInts(s.subs) {
		if _, d := s.dead[cl]; d {
			continue
		}
		for _, reg := range sortedStr(s.subs[cl]) {
			sub := s.subs[cl][reg]
			for _, pr := range sortedStr(exp[sub.DataID]) {
				ai, ok := acked[pr]
				if !ok {
					continue
				}
				n++
				want := pr + "=" + exp[sub.DataID][pr].Data
				deadline := afterElections(elections, max(s.evs[ai].T, sub.T, s.healAt)) + c.Bound
				if deadline > s.end {
					continue // the run ended too early to judge
				}
				got := false
				for i := len(s.evs) - 1; i >= 0; i-- {
					ev := s.evs[i]
					if ev.Kind == Push && ev.Client == cl && ev.RegID == reg && ev.T <= deadline {
						for _, p := range ev.Pubs {
							if p == want {
								got = true
							}
						}
						break
					}
				}
				if !got {
					bad = append(bad, fmt.Sprintf("publisher %s (acknowledged at %v, op %d) had not reached subscriber %s of client %d by %v",
						want, vt(s.evs[ai].T), ai, reg, cl, vt(deadline)))
					ops = append(ops, ai)
				}
			}
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("all %d (publisher, subscriber) pairs were pushed within %v", n, vt(c.Bound)))
}

// afterElections moves t past every meta-election span that covers it.
func afterElections(ds []disturbance, t int64) int64 {
	for moved := true; moved; {
		moved = false
		for _, d := range ds {
			if d.start <= t && t < d.end {
				t, moved = d.end, true
			}
		}
	}
	return t
}
