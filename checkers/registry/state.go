package registry

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sofasim/sofasim/checkers"
)

// regState is what the checkers derive from the events.
type regState struct {
	evs     []Event
	ids     []int // op id of each event
	dead    map[int]int64
	healAt  int64
	end     int64
	current map[int]map[string]Event // client -> regId -> last publish (absent: unpublished)
	subs    map[int]map[string]Event // client -> subscriber regId -> subscribe event
	// watchers are the subscribers of "config/..." (watch.go), apart: no
	// subscriber checker judges them
	watchers map[int]map[string]Event
	// byDrill is the Drill events per Op, in history order: drills() is
	// asked once per publisher and push, so a rescan would make the
	// checkers quadratic in the history.
	byDrill map[string][]Event
}

// load derives the state every checker starts from.
func load(name string, h *History) (*regState, checkers.Result) {
	return loadEvents(h.Events), checkers.Result{Checker: name, Verdict: checkers.Unknown}
}

// alive reports whether client cl had not died by until.
func (s *regState) alive(cl int, until int64) bool {
	t, dead := s.dead[cl]
	return !dead || t > until
}

func loadEvents(evs []Event) *regState {
	s := &regState{evs: evs, dead: map[int]int64{}, current: map[int]map[string]Event{}, subs: map[int]map[string]Event{}, watchers: map[int]map[string]Event{}, byDrill: map[string][]Event{}, healAt: -1}
	for i, ev := range evs {
		s.ids = append(s.ids, i)
		if ev.T > s.end {
			s.end = ev.T
		}
		switch ev.Kind {
		case ClientDead:
			s.dead[ev.Client] = ev.T
		case Drill:
			s.byDrill[ev.Op] = append(s.byDrill[ev.Op], ev)
		case Heal:
			s.healAt = ev.T
		case Publish:
			if s.current[ev.Client] == nil {
				s.current[ev.Client] = map[string]Event{}
			}
			s.current[ev.Client][ev.RegID] = ev
		case Unpublish:
			delete(s.current[ev.Client], ev.RegID)
		case Subscribe:
			to := s.subs
			if strings.HasPrefix(ev.DataID, "config/") {
				to = s.watchers
			}
			if to[ev.Client] == nil {
				to[ev.Client] = map[string]Event{}
			}
			to[ev.Client][ev.RegID] = ev
		}
	}
	return s
}

// expected is, per dataInfoId, the publishers of live clients.
func (s *regState) expected() map[string]map[string]Event {
	out := map[string]map[string]Event{}
	for _, c := range sortedInts(s.current) {
		if _, d := s.dead[c]; d {
			continue
		}
		for _, reg := range sortedStr(s.current[c]) {
			ev := s.current[c][reg]
			if s.blacklisted(ev.DataID, s.end) {
				continue
			}
			if out[ev.DataID] == nil {
				out[ev.DataID] = map[string]Event{}
			}
			out[ev.DataID][reg] = ev
		}
	}
	s.addInterfaces(out)
	return out
}

func sortedInts[V any](m map[int]V) []int { return slices.Sorted(maps.Keys(m)) }

func sortedStr[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// vt renders virtual nanoseconds.
func vt(ns int64) string { return time.Duration(ns).String() }

func fail(res checkers.Result, what []string, ops []int) checkers.Result {
	res.Verdict = checkers.Fail
	res.Explanation = checkers.ListSome(what, 4)
	sort.Ints(ops)
	res.Ops = ops
	return res
}

func pass(res checkers.Result, msg string) checkers.Result {
	res.Verdict = checkers.Pass
	res.Explanation = msg
	return res
}

// Checkers are the registry checkers the scenarios run; lossGap and
// lossAlone are NoLoss's Gap and Alone (a push pipeline's delay widens them).
func Checkers(ghostBound, pushBound, lossGap, lossAlone int64) []checkers.CheckerOf[*History] {
	return []checkers.CheckerOf[*History]{Convergence{}, MonotonicPush{}, LastWriterWins{}, NoGhost{Bound: ghostBound, SessionGone: ghostBound + DataSessionLease},
		NoLoss{Grace: int64(2 * time.Second), Settle: int64(3 * time.Second), Gap: lossGap, Alone: lossAlone, DuringDataFaults: true}, SlotLeaders{}, MetaLeader{}, MetaStore{}, PushLiveness{Bound: pushBound}}
}

// owners maps each publisher's registerId to the client that published it.
func (s *regState) owners() map[string]int {
	owner := map[string]int{}
	for _, ev := range s.evs {
		if ev.Kind == Publish {
			owner[ev.RegID] = ev.Client
		}
	}
	return owner
}
