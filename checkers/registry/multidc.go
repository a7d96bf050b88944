package registry

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/sofasim/sofasim/checkers"
)

// Multi-data-centre sync (nodes/registry/multidc.go). In a multi-DC
// history Node names a data centre: where a Publish or Unpublish happened,
// and whose datum a Subscribe and its Pushes follow (DataID is that data
// centre's dataInfoId).

// MultiDCConverge: a subscriber of another data centre's datum ends the
// run holding exactly the publishers that data centre's clients left
// published, and holds them from no later than Bound after the last of:
// the datum's last change, the end of the last disturbance (a fault on the
// inter-DC link or in either data centre), its own subscription, and Lag
// after that data centre's last switch drill was set back (the servers
// read the switches every reload period).
type MultiDCConverge struct{ Bound, Lag int64 }

func (MultiDCConverge) Name() string { return "multidc-converge" }

func (c MultiDCConverge) Check(h *History, _ checkers.Options) checkers.Result {
	res := checkers.Result{Checker: c.Name(), Verdict: checkers.Unknown}
	m := loadMultiDC(h.Events)
	var bad []string
	var ops []int
	slowest, subs := int64(0), 0
	for _, k := range m.keys {
		subs++
		sub := m.subs[k]
		want := m.want(sub.Node, sub.DataID)
		since := max(m.changed[sub.Node+"\x00"+sub.DataID], m.quiet, sub.T)
		if t, ok := m.drilled[sub.Node]; ok {
			since = max(since, t+c.Lag)
		}
		pushes := m.pushes[k]
		held, at, idx := []string(nil), sub.T, m.subIdx[k]
		for i := len(pushes) - 1; i >= 0; i-- {
			p := h.Events[pushes[i]]
			if i == len(pushes)-1 {
				held = p.Pubs
			}
			if !slices.Equal(p.Pubs, want) {
				break
			}
			at, idx = p.T, pushes[i]
		}
		switch {
		case !slices.Equal(held, want):
			bad = append(bad, fmt.Sprintf("subscriber %s of client %d holds %v of %s's %s at the end; %s has %v",
				k.reg, k.client, held, sub.Node, sub.DataID, sub.Node, want))
			ops = append(ops, m.subIdx[k])
			if len(pushes) > 0 {
				ops = append(ops, pushes[len(pushes)-1])
			}
		case at > since+c.Bound:
			bad = append(bad, fmt.Sprintf("subscriber %s of client %d got %s's %s = %v at %v, %v after %v (bound %v)",
				k.reg, k.client, sub.Node, sub.DataID, want, vt(at), vt(at-since), vt(since), vt(c.Bound)))
			ops = append(ops, idx)
		default:
			slowest = max(slowest, at-since)
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("%d subscribers of another data centre's datum converged, the slowest %v after its last change or disturbance (bound %v)",
		subs, vt(slowest), vt(c.Bound)))
}

// MultiDCConverged reports whether every subscriber of another data
// centre's datum was last pushed exactly what that data centre's clients
// left published (a harness stops its liveness phase on it).
func MultiDCConverged(evs []Event) bool {
	m := loadMultiDC(evs)
	for _, k := range m.keys {
		sub := m.subs[k]
		var held []string
		if p := m.pushes[k]; len(p) > 0 {
			held = evs[p[len(p)-1]].Pubs
		}
		if !slices.Equal(held, m.want(sub.Node, sub.DataID)) {
			return false
		}
	}
	return true
}

// subKey names a subscriber: its client and registerId.
type subKey struct {
	client int
	reg    string
}

type multiDC struct {
	live    map[string]map[string]string // dc, dataID -> regId -> data
	changed map[string]int64             // dc, dataID -> its last change
	quiet   int64                        // the end of the last disturbance
	drilled map[string]int64             // dc -> when its last switch drill was set back
	// published: dc, dataID, "regId=data" -> when it was published (the
	// workload's data are unique)
	published map[string]int64
	subs      map[subKey]Event
	subIdx    map[subKey]int
	pushes    map[subKey][]int
	keys      []subKey
}

func loadMultiDC(evs []Event) *multiDC {
	m := &multiDC{live: map[string]map[string]string{}, changed: map[string]int64{}, drilled: map[string]int64{}, published: map[string]int64{}, subs: map[subKey]Event{}, subIdx: map[subKey]int{}, pushes: map[subKey][]int{}}
	for i, ev := range evs {
		k := ev.Node + "\x00" + ev.DataID
		switch ev.Kind {
		case Publish, Unpublish:
			if m.live[k] == nil {
				m.live[k] = map[string]string{}
			}
			if ev.Kind == Publish {
				m.live[k][ev.RegID] = ev.Data
				m.published[k+"\x00"+ev.RegID+"="+ev.Data] = ev.T
			} else {
				delete(m.live[k], ev.RegID)
			}
			m.changed[k] = ev.T
		case Disturbed:
			m.quiet = max(m.quiet, ev.Until)
		case Drill:
			if slices.Contains(MultiDCDrills, ev.Op) {
				m.drilled[ev.Node] = max(m.drilled[ev.Node], ev.Until)
			}
		case Subscribe:
			if ev.Node == "" {
				continue
			}
			sk := subKey{ev.Client, ev.RegID}
			if _, ok := m.subs[sk]; !ok {
				m.keys = append(m.keys, sk)
			}
			m.subs[sk], m.subIdx[sk] = ev, i
		case Push:
			sk := subKey{ev.Client, ev.RegID}
			if _, ok := m.subs[sk]; ok {
				m.pushes[sk] = append(m.pushes[sk], i)
			}
		}
	}
	sort.Slice(m.keys, func(i, j int) bool {
		a, b := m.keys[i], m.keys[j]
		return a.client < b.client || (a.client == b.client && strings.Compare(a.reg, b.reg) < 0)
	})
	return m
}

// want is dc's datum of dataID as "regId=data", sorted by registerId.
func (m *multiDC) want(dc, dataID string) []string {
	live := m.live[dc+"\x00"+dataID]
	var out []string
	for _, reg := range sortedStr(live) {
		out = append(out, reg+"="+live[reg])
	}
	return out
}
