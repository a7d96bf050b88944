package registry

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sofasim/sofasim/checkers"
)

// NoLoss: once the faults healed and the registry had Settle to
// recover, a live client's acknowledged publisher, once pushed to a
// subscriber, is not missing from a later push to it, unless the client
// unpublished it or its connection closed between the acknowledgement and
// Grace after that push.
//
// Only the client's current publish counts as acknowledged (a late
// acknowledgement of a publish the client has since unpublished does not).
// When the client re-registered it through another session, only a push of
// a datum newer than every one pushed by that acknowledgement shows it: an
// older datum shows the registration through the session it left, which
// that session's cleanup rightly removes, and the new one may reach the
// data servers only with the next session sync when its slot was migrating
// meanwhile (writes are refused then, and given up after 5 retries). Nor
// does the first push of the datum, after the acknowledgement, by a session
// server stalled across it that had pushed the datum before the stall, nor
// any as old from then on: that is the datum it cached before the stall
// (staleMarks).
// Pushes before heal + Settle are not judged: during faults a registry
// legitimately drops the publishers of a session whose lease expired (it
// is partitioned from the meta leader or paused), and a push built before
// the heal, or before the session rejoined and the data servers re-synced
// from it, may still arrive just after the heal.
//
// With DuringDataFaults, pushes before the heal are judged too, as long as
// no fault acted from Settle before the acknowledgement to the push but on
// data servers, on session servers other than the one the publisher was
// acknowledged through, or on other clients: a data server's failure must
// never show in a push, since its slots' new leaders take the publishers
// from the session servers before they serve; and the data servers keep a
// session's publishers while it is connected to them (their session
// lease), so another session's crash, stall or late cleanup must never take
// them away either.
//
// A publisher missing from a push but back in a push to the same
// subscriber within Gap is not a loss: a session acknowledges a publish
// once it stored it (SOFARegistry's contract), so a client that moved to
// another session may be acknowledged before its registration reaches the
// data servers, and the old session's cleanup of the old registration may
// land in between. A subscriber whose client dies or loses its connection
// within Gap cannot be pushed the repair: then a newer version of the
// datum holding the publisher, pushed to any subscriber within Gap, is.
//
// Alone (0: Gap) bounds the gap when the push that brings the publisher
// back changes nothing else for the subscriber. A push pipeline widens Gap
// by its longest delay (changes merged up to 3 s while more keep coming),
// but a change that comes alone fires after the short debounce: a cleanup
// that deleted a re-registered publisher until the next 6 s session sync
// (sofa-registry#74) would otherwise hide in the merge window.
//
// An emergency migration (a new slot leader serving without a session that
// left 15 tries over 40 s unanswered) promises less for that session's
// publishers: they are as the new leader's copy held them until the
// session's next 6 s sync reaches the leader. Nothing here excuses it: the
// session is then stalled or restarted (its own disturbance, excused) or
// cut from the data servers for 50 s or more, which no scenario draws at
// its defaults (registry-ops' long session-data-cut lasts at most 40 s).
type NoLoss struct {
	Grace, Settle, Gap, Alone int64
	DuringDataFaults          bool
}

func (NoLoss) Name() string { return "no-loss" }

func (c NoLoss) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	if s.healAt < 0 {
		return pass(res, "no heal marker: nothing judged")
	}
	type ack struct {
		t       int64
		op      int
		client  int
		data    string
		dataID  string
		session string // the session server the client was connected to
		floor   uint64 // moved: the newest version of the datum pushed by then
		marks   []staleMark
	}
	acks := map[string]ack{}    // regId -> last ack
	unpub := map[string]int64{} // regId -> last unpublish
	discs := map[int][]int64{}  // client -> disconnect times
	seenIn := map[string]int{}  // "client/sub/reg" -> op of a push that contained it after its ack
	pubData := map[string]string{}
	pubVer := map[string]uint64{}
	pubDataID := map[string]string{}
	live := map[string]bool{} // regId -> the client's latest operation on it is a publish
	session := map[int]string{}
	pushed := map[string]uint64{}   // dataInfoId -> newest version pushed so far
	ackedVia := map[string]string{} // regId -> the session of its last acknowledgement
	faults := s.faults()
	for i, ev := range s.evs {
		switch ev.Kind {
		case Push:
			pushed[ev.DataID] = max(pushed[ev.DataID], ev.Version)
		case Connect:
			session[ev.Client] = ev.Node
		case Publish:
			pubData[ev.RegID] = ev.Data
			pubVer[ev.RegID] = ev.Version
			pubDataID[ev.RegID] = ev.DataID
			live[ev.RegID] = true
		case PublishAck:
			// Only the acknowledgement of the client's current publish
			// counts: an acknowledgement that arrives after the client
			// unpublished (or re-published) is of a write it has already
			// superseded.
			if !live[ev.RegID] || ev.Version != pubVer[ev.RegID] {
				continue
			}
			acks[ev.RegID] = ack{t: ev.T, op: i, client: ev.Client, data: pubData[ev.RegID], dataID: pubDataID[ev.RegID], session: session[ev.Client]}
			if prev, ok := ackedVia[ev.RegID]; ok && prev != session[ev.Client] {
				a := acks[ev.RegID]
				a.floor = pushed[pubDataID[ev.RegID]] // moved: what was pushed so far is the old session's registration
				a.marks = s.staleMarks(a.dataID, a.t, faults)
				acks[ev.RegID] = a
			}
			ackedVia[ev.RegID] = session[ev.Client]
		case Unpublish:
			unpub[ev.RegID] = ev.T
			live[ev.RegID] = false
		case Disconnect:
			discs[ev.Client] = append(discs[ev.Client], ev.T)
		}
	}
	disconnected := func(cl int, from, to int64) bool {
		for _, t := range discs[cl] {
			if t >= from && t <= to {
				return true
			}
		}
		return false
	}
	ds := s.disturbances()
	var bad []string
	var ops []int
	for i, ev := range s.evs {
		if ev.Kind != Push {
			continue
		}
		has := map[string]bool{}
		for _, p := range ev.Pubs {
			reg, _, _ := strings.Cut(p, "=")
			has[reg] = true
			if a, ok := acks[reg]; ok && a.t <= ev.T && showsNew(ev.T, ev.Version, a.floor, a.marks) {
				seenIn[fmt.Sprintf("%d/%s/%s", ev.Client, ev.RegID, reg)] = i
			}
		}
		early := ev.T < s.healAt+c.Settle
		if early && !c.DuringDataFaults {
			continue
		}
		prefix := fmt.Sprintf("%d/%s/", ev.Client, ev.RegID)
		for _, k := range sortedStr(seenIn) {
			if !strings.HasPrefix(k, prefix) {
				continue
			}
			reg := strings.TrimPrefix(k, prefix)
			a := acks[reg]
			if has[reg] || a.t > ev.T || a.dataID != ev.DataID {
				continue
			}
			if _, d := s.dead[a.client]; d {
				continue
			}
			if u, ok := unpub[reg]; ok && u >= a.t {
				continue
			}
			if disconnected(a.client, a.t, ev.T+c.Grace) || s.switchedOff(a.client, a.t, ev.T+c.Grace) || s.blacklisted(ev.DataID, ev.T) {
				continue
			}
			if early && !quiet(ds, a.t-c.Settle, ev.T, c.Settle, excuses(a.session, a.client)) {
				continue
			}
			if s.repaired(i, reg, ev.T+c.Gap, c.Alone) {
				continue
			}
			j := seenIn[k]
			delete(seenIn, k)
			bad = append(bad, fmt.Sprintf("publisher %s of live client %d (acknowledged at %v, op %d; pushed in op %d) was missing from the push of version %d to subscriber %s of client %d at %v (op %d)",
				reg, a.client, vt(a.t), a.op, j, ev.Version, ev.RegID, ev.Client, vt(ev.T), i))
			ops = append(ops, i, j, a.op)
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("no live client's acknowledged publisher disappeared from a push after the heal + %v", vt(c.Settle)))
}

// excuses reports which disturbed nodes may take a publisher acknowledged
// through session by client out of pushes: the network, the meta servers
// (a meta leader whose clock jumped may evict a sound session), the
// publisher's own session server and client; not the data servers, the
// other session servers, the other clients, nor a cut between session and
// data servers only (the session stays in the table, and the data side's
// session lease keeps its publishers).
func excuses(session string, client int) func(node string) bool {
	own := fmt.Sprintf("client-%d", client)
	return func(n string) bool {
		switch {
		case n == SessionDataCut:
			return false // the data servers' session lease keeps them
		case strings.HasPrefix(n, "data-"):
			return false
		case strings.HasPrefix(n, "session-"):
			return n == session
		case strings.HasPrefix(n, "client-"):
			return n == own
		}
		return true
	}
}

// repaired reports whether the publisher reg, missing from the push
// s.evs[i], is back by until (by the push's time + alone, if alone is set
// and nothing else changed in the push that brings it back): in a push to
// the same subscriber or, if the subscriber's client died or lost its
// connection first, in a push of a newer version of the datum to any
// subscriber.
func (s *regState) repaired(i int, reg string, until, alone int64) bool {
	miss := s.evs[i]
	t, cut := s.dead[miss.Client]
	cut = cut && t <= until // the subscriber could not be pushed the whole gap
	for _, ev := range s.evs[i+1:] {
		if ev.T > until {
			break
		}
		cut = cut || ev.Kind == Disconnect && ev.Client == miss.Client
	}
	prev := miss // the subscriber's latest push
	for _, ev := range s.evs[i+1:] {
		if ev.T > until {
			break
		}
		if ev.Kind != Push || ev.DataID != miss.DataID {
			continue
		}
		own := ev.Client == miss.Client && ev.RegID == miss.RegID
		if !holds(ev, reg) {
			if own {
				prev = ev
			}
			continue
		}
		if own {
			return alone <= 0 || ev.T <= miss.T+alone || !onlyChange(prev, ev, reg)
		}
		if cut && ev.Version > miss.Version {
			return true // another subscriber saw the repair the cut one could not
		}
	}
	return false
}

// onlyChange reports whether push back differs from the push before it,
// prev, only by publisher reg.
func onlyChange(prev, back Event, reg string) bool {
	entries := func(ev Event) []string {
		var out []string
		for j, p := range ev.Pubs {
			if r, _, _ := strings.Cut(p, "="); r != reg {
				if j < len(ev.PubVers) {
					p = fmt.Sprintf("%s/%d", p, ev.PubVers[j])
				}
				out = append(out, p)
			}
		}
		return out
	}
	return slices.Equal(entries(prev), entries(back))
}

// holds reports whether the push lists reg.
func holds(push Event, reg string) bool {
	for _, p := range push.Pubs {
		if r, _, _ := strings.Cut(p, "="); r == reg {
			return true
		}
	}
	return false
}
