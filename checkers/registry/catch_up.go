package registry

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/sofasim/sofasim/checkers"
)

// CatchUp: a client that connects to a session server again (its session
// failed, stalled or was cut off) is pushed, within Bound, every publisher
// that another live subscriber of the same dataInfoId had been pushed
// Settle before the connect and still holds: the data is in the registry
// already, so neither writes nor migrations stand in the way. What a
// client misses while it moves is the typical loss of a failover (a
// re-subscription taken to hold the session's cache, a subscriber not
// registered again). subscribe-push excuses every fault near a
// registration; this excuses only faults that can keep the new session
// from the data: the network, the data and meta servers, the drills, the
// new session server and the client itself, not the session it left.
type CatchUp struct{ Bound, Settle int64 }

func (CatchUp) Name() string { return "catch-up" }

func (c CatchUp) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	ds := s.disturbances()
	pushes := map[subKey][]int{} // each subscriber's pushes, in time order
	byData := map[string][]subKey{}
	changes := map[string][]int{}
	drops := map[int][]int64{} // each client's disconnects, in time order
	var epochs []int64         // when the highest table epoch a data server served grew
	top := uint64(0)
	for j, ev := range s.evs {
		if ev.Kind == Publish || ev.Kind == Unpublish {
			changes[ev.RegID] = append(changes[ev.RegID], j)
		}
		if ev.Kind == Disconnect {
			drops[ev.Client] = append(drops[ev.Client], ev.T)
		}
		if ev.Kind == Slots && ev.Epoch > top {
			top = ev.Epoch
			epochs = append(epochs, ev.T)
		}
		if ev.Kind != Push {
			continue
		}
		k := subKey{ev.Client, ev.RegID}
		if pushes[k] == nil {
			byData[ev.DataID] = append(byData[ev.DataID], k)
		}
		pushes[k] = append(pushes[k], j)
	}
	// upTo is the index in a subscriber's pushes of the first after t.
	upTo := func(k subKey, t int64) int {
		own := pushes[k]
		return sort.Search(len(own), func(n int) bool { return s.evs[own[n]].T > t })
	}
	var bad []string
	var ops []int
	judged := 0
	for _, r := range s.registrations() {
		con := s.evs[r.at]
		sb := r.sub
		if con.Kind != Connect {
			continue
		}
		deadline := con.T + c.Bound
		own := fmt.Sprintf("client-%d", sb.Client)
		excused := func(n string) bool {
			switch {
			case n == SessionDataCut:
				return true
			case strings.HasPrefix(n, "session-"):
				return n == con.Node
			case strings.HasPrefix(n, "client-"):
				return n == own
			}
			return true
		}
		if deadline > s.end || !s.alive(sb.Client, deadline) || s.switchedOff(sb.Client, con.T-c.Settle, deadline) ||
			s.blacklisted(sb.DataID, deadline) || !quiet(ds, con.T-c.Settle, deadline, c.Settle, excused) {
			continue
		}
		// A session server that is down or stalled holds every migration
		// (a new slot leader waits for its answer): another session's
		// fault excuses only when the table changed during it.
		if from, ok := othersFrom(ds, con.Node, con.T-c.Settle, deadline, c.Settle); ok && anyIn(epochs, from, deadline) {
			continue
		}
		me := subKey{sb.Client, sb.RegID}
		var held Event // the subscriber's latest push by the deadline
		if n := upTo(me, deadline); n > 0 {
			held = s.evs[pushes[me][n-1]]
		}
		seen := map[string]bool{}
		for _, o := range byData[sb.DataID] {
			if o.client == sb.Client || !s.alive(o.client, deadline) {
				continue
			}
			n := upTo(o, con.T-c.Settle)
			if n == 0 {
				continue
			}
			for _, e := range s.evs[pushes[o][n-1]].Pubs {
				if seen[e] || !stillHeld(s.evs, pushes[o][n:], e, deadline) {
					continue
				}
				// the publisher's live registration, unchanged since Settle
				// before the connect, its client connected all along (a
				// session drops a closed connection's publishers until the
				// client publishes them again elsewhere)
				p, ok := lastChange(s.evs, changes, e, deadline)
				if !ok || p.Kind != Publish || p.T > con.T-c.Settle || !s.alive(p.Client, deadline) || s.switchedOff(p.Client, p.T, deadline) ||
					anyIn(drops[p.Client], p.T, deadline) {
					continue
				}
				seen[e] = true
				judged++
				if slices.Contains(held.Pubs, e) {
					continue
				}
				bad = append(bad, fmt.Sprintf("client %d connected to %s at %v; subscriber %s of %s lacked %s %v later, which subscriber %s of client %d had held since before %v",
					sb.Client, con.Node, vt(con.T), sb.RegID, sb.DataID, e, vt(c.Bound), o.reg, o.client, vt(con.T-c.Settle)))
				ops = append(ops, r.at)
			}
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("%d publishers other subscribers held reached a reconnected client within %v", judged, vt(c.Bound)))
}

// othersFrom is the earliest start of a disturbance of a session server
// other than session overlapping [from, to] (widened by settle).
func othersFrom(ds []disturbance, session string, from, to, settle int64) (int64, bool) {
	first, ok := int64(0), false
	for _, d := range ds {
		if strings.HasPrefix(d.node, "session-") && d.node != session && d.node != SessionDataCut && d.start <= to && d.end+settle >= from {
			if !ok || d.start < first {
				first, ok = d.start, true
			}
		}
	}
	return first, ok
}

// anyIn reports whether any of the sorted times falls in [from, to].
func anyIn(times []int64, from, to int64) bool {
	n := sort.Search(len(times), func(k int) bool { return times[k] >= from })
	return n < len(times) && times[n] <= to
}

// stillHeld reports whether every push in idx up to t holds entry e.
func stillHeld(evs []Event, idx []int, e string, t int64) bool {
	for _, j := range idx {
		if evs[j].T > t {
			break
		}
		if !slices.Contains(evs[j].Pubs, e) {
			return false
		}
	}
	return true
}

// lastChange is the last publish or unpublish by t of the publisher of
// entry e ("regId=data"), if it is that registration's; changes lists each
// publisher's publish and unpublish events in time order.
func lastChange(evs []Event, changes map[string][]int, e string, t int64) (Event, bool) {
	reg, data, _ := strings.Cut(e, "=")
	idx := changes[reg]
	n := sort.Search(len(idx), func(k int) bool { return evs[idx[k]].T > t })
	if n == 0 {
		return Event{}, false
	}
	last := evs[idx[n-1]]
	return last, last.Kind == Unpublish || last.Data == data
}
