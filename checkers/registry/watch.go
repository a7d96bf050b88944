package registry

// Watchers: a watcher of dataInfoId X subscribes to "config/X"; the ops
// console sets X's config (DrillSetConfig). What a watcher is promised
// depends on the session's watchConfigEnable, so watchers are judged here
// and by no subscriber checker.

import (
	"fmt"
	"strings"

	"github.com/sofasim/sofasim/checkers"
)

// Watchers judges the watchers' pushes by the sessions' mode.
//
// Off (watchConfigEnable false, SOFARegistry's default): every push to a
// watcher holds null content (no publisher), and a live watcher is pushed
// within Bound of subscribing and by the end of the run.
//
// On: every push to a watcher holds a config set before it (the one
// publisher "config" with its value); a config set at T reaches every
// live watcher by max(T, subscribed) + Bound (the drill's lag, the fetch
// interval, two watcher scans and a push timeout); and at the end every
// live watcher holds the last config set.
//
// The bounds are judged only when no fault or drill acted from Settle
// before to the deadline, and the watcher's client neither moved nor was
// switched off meanwhile.
type Watchers struct {
	Enabled       bool
	Bound, Settle int64
}

func (Watchers) Name() string { return "watchers" }

func (c Watchers) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	ds := s.disturbances()
	var bad []string
	var ops []int
	judged := 0
	// set[key] is its config drills: when each value was set
	set := map[string][]Event{}
	for _, d := range s.drills(DrillSetConfig) {
		key := "config/" + d.DataID
		set[key] = append(set[key], d)
	}
	for i, ev := range s.evs {
		if ev.Kind != Push || !strings.HasPrefix(ev.DataID, "config/") {
			continue
		}
		if why := c.badContent(ev, set[ev.DataID]); why != "" {
			bad = append(bad, fmt.Sprintf("watcher %s of client %d was pushed %v at %v (op %d): %s", ev.RegID, ev.Client, ev.Pubs, vt(ev.T), i, why))
			ops = append(ops, i)
		}
	}
	calm := func(cl int, from, to int64) bool {
		return to <= s.end && quiet(ds, from-c.Settle, to, c.Settle, watcherPath) &&
			!s.moved(cl, from, to) && !s.switchedOff(cl, from, to)
	}
	for _, cl := range sortedInts(s.watchers) {
		if _, dead := s.dead[cl]; dead {
			continue
		}
		for _, reg := range sortedStr(s.watchers[cl]) {
			w := s.watchers[cl][reg]
			owed := []Event{{T: w.T}} // off: a push after subscribing
			if c.Enabled {
				owed = set[w.DataID]
			}
			for _, d := range owed {
				from := max(d.T, w.T)
				deadline := from + c.Bound
				if !calm(cl, from, deadline) {
					continue
				}
				judged++
				if got, ok := s.lastPushBy(cl, reg, deadline); !ok || (c.Enabled && !s.holdsSince(got, set[w.DataID], d.T)) {
					bad = append(bad, fmt.Sprintf("watcher %s of client %d on %s, owed %s since %v, had not received it by %v",
						reg, cl, w.DataID, c.owedText(d), vt(from), vt(deadline)))
				}
			}
			if why, ok := c.endState(s, cl, reg, w, set[w.DataID]); ok {
				judged++
				if why != "" {
					bad = append(bad, why)
				}
			}
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	mode := "off: null content only"
	if c.Enabled {
		mode = "on: the configs set"
	}
	return pass(res, fmt.Sprintf("watchers (%s) were pushed what they were owed within %v in %d judged cases", mode, vt(c.Bound), judged))
}

// badContent says what is wrong with a push to a watcher ("" if nothing).
func (c Watchers) badContent(ev Event, sets []Event) string {
	if !c.Enabled {
		if len(ev.Pubs) > 0 {
			return "watchConfigEnable is off: a watcher is pushed null content only"
		}
		return ""
	}
	for _, d := range sets {
		if d.T <= ev.T && len(ev.Pubs) == 1 && ev.Pubs[0] == "config="+d.Data {
			return ""
		}
	}
	return "not a config set before the push"
}

func (c Watchers) owedText(d Event) string {
	if !c.Enabled {
		return "a push"
	}
	return fmt.Sprintf("config %q (set at %v) or a later one", d.Data, vt(d.T))
}

// endState: at the end a live watcher holds what it is owed, once the
// run lasted Bound past the owing; judged reports whether it was judged.
func (c Watchers) endState(s *regState, cl int, reg string, w Event, sets []Event) (why string, judged bool) {
	from := w.T
	if c.Enabled {
		if len(sets) == 0 {
			return "", false
		}
		from = max(from, sets[len(sets)-1].T)
	}
	if from+c.Bound > s.end {
		return "", false
	}
	got, ok := s.lastPushBy(cl, reg, s.end)
	if ok && (!c.Enabled || s.holdsSince(got, sets, sets[len(sets)-1].T)) {
		return "", true
	}
	return fmt.Sprintf("watcher %s of client %d on %s did not hold what it was owed at the end of the run (%v)", reg, cl, w.DataID, vt(s.end)), true
}

// watcherPath: the disturbances that can delay a watcher: the network,
// a failpoint, a drill of the ops console, a session or meta server
// (the provide data it is fetched from). Meta elections, slot moves and
// data servers cannot: provide data needs no meta leader.
func watcherPath(node string) bool {
	return node == "" || node == "ops" || strings.HasPrefix(node, "session-") ||
		strings.HasPrefix(node, "meta-") && node != "meta-election"
}

// lastPushBy is the last push to subscriber reg of client cl at or before t.
func (s *regState) lastPushBy(cl int, reg string, t int64) (Event, bool) {
	for i := len(s.evs) - 1; i >= 0; i-- {
		if ev := s.evs[i]; ev.Kind == Push && ev.Client == cl && ev.RegID == reg && ev.T <= t {
			return ev, true
		}
	}
	return Event{}, false
}

// holdsSince: push ev holds a config set at or after t.
func (s *regState) holdsSince(ev Event, sets []Event, t int64) bool {
	for _, d := range sets {
		if d.T >= t && d.T <= ev.T && len(ev.Pubs) == 1 && ev.Pubs[0] == "config="+d.Data {
			return true
		}
	}
	return false
}
