package registry

// The ops drills of a history (Drill events) and what they excuse in the
// other checkers: a client switched off loses its publishers like a client
// whose connection closed, and a blacklisted dataInfoId loses its
// publishers for the rest of the run (lifting a blacklist brings them back
// only as their clients register again).

import (
	"fmt"
	"slices"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// The drills the ops console issues (Event.Op of a Drill event).
const (
	DrillStopPush      = "stop-push"          // Clients: the gray list, still pushed
	DrillClientOff     = "client-off"         // Clients switched off on every session server (persisted)
	DrillClientOffZone = "client-off-zone"    // Clients switched off on the Sessions of one zone (Node)
	DrillBlacklistData = "blacklist-data"     // DataID blacklisted
	DrillDataQuit      = "data-quit"          // data server Node quits gracefully, joins again at Until
	DrillMetaQuit      = "meta-quit-election" // meta server Node quits the election
	DrillSetConfig     = "set-config"         // DataID's config (watched) set to Data
)

func drillText(ev Event) string {
	out := "drill " + ev.Op
	switch {
	case ev.DataID != "" && ev.Data != "":
		out += " " + ev.DataID + " = " + ev.Data
	case ev.DataID != "":
		out += " " + ev.DataID
	case len(ev.Clients) > 0:
		out += fmt.Sprintf(" clients %v", ev.Clients)
	}
	if ev.Node != "" {
		out += " on " + ev.Node
	}
	if ev.Until > 0 {
		out += " until " + vt(ev.Until)
	}
	return out
}

// drills lists the Drill events of a kind, in history order (shared: the
// caller must not modify it).
func (s *regState) drills(op string) []Event { return s.byDrill[op] }

// until is when a drill was undone (the end of the run if never).
func (s *regState) until(d Event) int64 {
	if d.Until > 0 {
		return d.Until
	}
	return s.end
}

// blacklisted reports whether dataID was blacklisted at or before t.
func (s *regState) blacklisted(dataID string, t int64) bool {
	for _, d := range s.drills(DrillBlacklistData) {
		if d.DataID == dataID && d.T <= t {
			return true
		}
	}
	return false
}

// switchedOff reports whether a drill switched the client off at some
// time in [from, to] (a zone's drill counts wherever the client was; the
// client-open takes DrillLag to reach the session servers).
func (s *regState) switchedOff(client int, from, to int64) bool {
	for _, op := range []string{DrillClientOff, DrillClientOffZone} {
		for _, d := range s.drills(op) {
			if slices.Contains(d.Clients, client) && d.T <= to && s.until(d)+DrillLag >= from {
				return true
			}
		}
	}
	return false
}

// afterStops moves a deadline past the end (plus DrillLag + bound) of
// every push stop it falls in or before, for a client not gray-listed.
func (s *regState) afterStops(client int, from, deadline, bound int64) int64 {
	for moved := true; moved; {
		moved = false
		for _, d := range s.drills(DrillStopPush) {
			if end := s.until(d) + DrillLag + bound; d.T <= deadline && s.until(d) >= from && end > deadline && !slices.Contains(d.Clients, client) {
				deadline, moved = end, true
			}
		}
	}
	return deadline
}

// sessionAt is the session server the client was connected to at t, and
// since when ("" if none).
func (s *regState) sessionAt(client int, t int64) (string, int64) {
	node, since := "", int64(0)
	for _, ev := range s.evs {
		if ev.T > t {
			break
		}
		if ev.Client != client {
			continue
		}
		switch ev.Kind {
		case Connect:
			node, since = ev.Node, ev.T
		case Disconnect:
			node, since = "", ev.T
		}
	}
	return node, since
}

// DrillLag bounds how long a switch takes to reach every session server:
// a poll of the provide data (1s) that may go to a meta server that is
// down, and the next one.
const DrillLag = int64(3e9)

// drillDisturbances: a stopped push and a data or meta server leaving
// disturb the time-bounded checkers like a fault, until DrillLag after
// they end (a meta quit-election until a new leader has settled); a
// stopped push is on the ops console ("ops"), a quit on its server; a
// force refresh moves every slot, so it disturbs like a table change.
func (s *regState) drillDisturbances() []disturbance {
	var out []disturbance
	for _, op := range []string{DrillStopPush, DrillDataQuit, DrillMetaQuit, DrillForceRefresh} {
		for _, d := range s.drills(op) {
			node, end := d.Node, s.until(d)+DrillLag
			switch op {
			case DrillStopPush:
				node = "ops"
			case DrillMetaQuit: // a leader change, over once a new leader has settled
				node, end = "meta", d.T+2*DrillLag
			case DrillForceRefresh: // every slot moves at once, like a table change after a fault
				node, end = "ops", d.T+2*DrillLag
			}
			out = append(out, disturbance{node: node, start: d.T, end: end})
		}
	}
	return out
}

// PeriodDrill is the timeline kind of an ops drill.
const PeriodDrill sim.PeriodKind = "drill"

// TimelinePeriods are the drills for the run report's timeline, on the
// ops console's lane ("ops"), from when they were issued to when they were
// undone (or the end of the run).
func (h *History) TimelinePeriods() []sim.Period {
	s := loadEvents(h.Events)
	var out []sim.Period
	for _, ev := range h.Events {
		if ev.Kind != Drill {
			continue
		}
		out = append(out, sim.Period{Scope: sim.Scope{Node: "ops"}, Kind: PeriodDrill, Start: time.Duration(ev.T), End: time.Duration(min(s.until(ev), s.end)),
			Label: ev.Op, Detail: drillText(ev)})
	}
	return out
}
