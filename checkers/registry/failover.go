package registry

import (
	"fmt"
	"strings"

	"github.com/sofasim/sofasim/checkers"
)

// Failover: when a data server goes down, each slot it led is led again
// by a live data server within Bound (its lease running out, the meta
// leader moving the slot, the new leader taking it). A failover that takes
// four times too long still converges by the end of the run; here it
// fails. Judged only when no fault other than data servers going down
// acted during the window (the meta servers and the network were sound)
// and some data server was up throughout it.
type Failover struct{ Bound int64 }

func (Failover) Name() string { return "failover" }

func (c Failover) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	ds := s.disturbances()
	claims := map[string]map[int]bool{} // up data server -> slots it leads
	orphaned := map[int]int{}           // slot -> index of the event that orphaned it
	var bad []string
	var ops []int
	judged, slowest := 0, int64(0)
	judge := func(slot, from int, until int64) {
		start := s.evs[from].T
		if start+c.Bound > s.end || !quiet(ds, start, start+c.Bound, 0, func(n string) bool { return !strings.HasPrefix(n, "data-") && !strings.HasPrefix(n, "client-") }) {
			return
		}
		if !someDataUp(ds, claims, s.evs[from].Node, start, start+c.Bound) {
			return
		}
		judged++
		if until-start <= c.Bound {
			slowest = max(slowest, until-start)
			return
		}
		bad = append(bad, fmt.Sprintf("slot %d had no leader from %v (%s down, op %d) for %v, over the failover bound %v",
			slot, vt(start), s.evs[from].Node, from, vt(until-start), vt(c.Bound)))
		ops = append(ops, from)
	}
	led := func(slot int) bool {
		for _, m := range claims {
			if m[slot] {
				return true
			}
		}
		return false
	}
	for i, ev := range s.evs {
		switch ev.Kind {
		case DataDown:
			for _, slot := range sortedInts(claims[ev.Node]) {
				delete(claims[ev.Node], slot)
				if !led(slot) {
					if _, ok := orphaned[slot]; !ok {
						orphaned[slot] = i
					}
				}
			}
			delete(claims, ev.Node)
		case Slots:
			m := map[int]bool{}
			for _, slot := range ev.Slots {
				m[slot] = true
				if from, ok := orphaned[slot]; ok {
					delete(orphaned, slot)
					judge(slot, from, ev.T)
				}
			}
			claims[ev.Node] = m
		}
	}
	for _, slot := range sortedInts(orphaned) {
		judge(slot, orphaned[slot], s.end+c.Bound+1) // never led again
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("%d slots failed over within the bound %v (slowest %v)", judged, vt(c.Bound), vt(slowest)))
}

// someDataUp reports whether a data server other than the one that went
// down led slots at the start and was not disturbed in the window.
func someDataUp(ds []disturbance, claims map[string]map[int]bool, down string, from, to int64) bool {
	for _, n := range sortedStr(claims) {
		if n == down {
			continue
		}
		if quiet(ds, from, to, 0, func(x string) bool { return x == n }) {
			return true
		}
	}
	return false
}
