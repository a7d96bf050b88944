package registry

import (
	"fmt"
	"slices"

	"github.com/sofasim/sofasim/checkers"
)

// StopPush: while push is stopped (from DrillLag after the switch until it
// is lifted) no subscriber receives a push but a gray-listed client's; and
// after push resumes, every live subscriber whose dataInfoId changed (or
// which subscribed) once the stop had reached the session servers (but a
// gray client, pushed all along; but a blacklisted dataInfoId's) receives a push within
// DrillLag + Bound, when no fault acted from Settle before the stop to
// that deadline.
type StopPush struct{ Bound, Settle int64 }

func (StopPush) Name() string { return "stop-push" }

func (c StopPush) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	ds := s.disturbances()
	var bad []string
	var ops []int
	stops, resumed := 0, 0
	for _, d := range s.drills(DrillStopPush) {
		stops++
		until := s.until(d)
		for i, ev := range s.evs {
			if ev.Kind == Push && ev.T >= d.T+DrillLag && ev.T < until && !slices.Contains(d.Clients, ev.Client) {
				bad = append(bad, fmt.Sprintf("subscriber %s of client %d was pushed version %d of %s at %v (op %d) while push was stopped (%v to %v)",
					ev.RegID, ev.Client, ev.Version, ev.DataID, vt(ev.T), i, vt(d.T), vt(until)))
				ops = append(ops, i)
			}
		}
		deadline := until + DrillLag + c.Bound
		if d.Until == 0 || deadline > s.end || !quiet(ds, d.T-c.Settle, deadline, c.Settle, func(n string) bool { return n != "ops" }) {
			continue
		}
		changed := map[string]bool{}
		for _, ev := range s.evs {
			if (ev.Kind == Publish || ev.Kind == Unpublish) && ev.T >= d.T+DrillLag && ev.T < until && !s.blacklisted(ev.DataID, ev.T) {
				changed[ev.DataID] = true
			}
		}
		for _, cl := range sortedInts(s.subs) {
			if t, dead := s.dead[cl]; (dead && t <= deadline) || slices.Contains(d.Clients, cl) || s.switchedOff(cl, d.T, deadline) || s.moved(cl, d.T, deadline) {
				continue
			}
			for _, reg := range sortedStr(s.subs[cl]) {
				sub := s.subs[cl][reg]
				owed := changed[sub.DataID] || (sub.T >= d.T+DrillLag && sub.T < until)
				if !owed || sub.T >= until || s.blacklisted(sub.DataID, until) { // a blacklisted id is owed nothing
					continue
				}
				resumed++
				if !s.pushedIn(cl, reg, until, deadline) {
					bad = append(bad, fmt.Sprintf("subscriber %s of client %d, owed a push of %s when push resumed at %v, received none by %v",
						reg, cl, sub.DataID, vt(until), vt(deadline)))
				}
			}
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("%d stops: no push while stopped; %d owed subscribers pushed within %v of the resume", stops, resumed, vt(DrillLag+c.Bound)))
}

// pushedIn reports whether subscriber reg of client cl received a push in [from, to].
func (s *regState) pushedIn(cl int, reg string, from, to int64) bool {
	for _, ev := range s.evs {
		if ev.Kind == Push && ev.Client == cl && ev.RegID == reg && ev.T >= from && ev.T <= to {
			return true
		}
	}
	return false
}

// moved reports whether the client connected or disconnected in [from, to].
func (s *regState) moved(cl int, from, to int64) bool {
	for _, ev := range s.evs {
		if (ev.Kind == Connect || ev.Kind == Disconnect) && ev.Client == cl && ev.T >= from && ev.T <= to {
			return true
		}
	}
	return false
}
