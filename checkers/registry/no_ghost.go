package registry

import (
	"fmt"
	"strings"
	"time"

	"github.com/sofasim/sofasim/checkers"
)

// NoGhost: a dead client's publishers disappear from every push
// received more than Bound after it died, or SessionGone when a session
// server was disturbed within Bound of the death: the data servers learn of
// a client's death only from its session, and keep the publishers of a
// session process that went silent for their session lease (SOFARegistry:
// 30s, checked every 5s), as production does; the table renews that lease
// until the meta leader evicts the session (Bound covers that), so a
// session that dies right after its client keeps the client's publishers
// for Bound + DataSessionLease. A span with no warmed-up
// meta leader that begins before that deadline moves it to the span's end
// plus ElectionSettle: no table drops a dead session meanwhile.
type NoGhost struct{ Bound, SessionGone int64 }

// DataSessionLease is how long data servers keep the publishers of a
// session process after it left the meta table and went silent:
// SOFARegistry's 30s lease and its 5s check.
const DataSessionLease = int64(35 * time.Second)

// ElectionSettle: after a new meta leader's warm-up, its first table, the
// data side's 5 s lease check and the push to subscribers.
const ElectionSettle = int64(10 * time.Second)

// deadline is when the publishers of a client dead at td must be gone.
func (c NoGhost) deadline(ds, elections []disturbance, td int64) int64 {
	d := td + c.bound(ds, td)
	for _, e := range elections {
		if e.start < d && e.end > td {
			d = max(d, e.end+ElectionSettle)
		}
	}
	return d
}

// bound is how long the publishers of a client dead at td may linger.
func (c NoGhost) bound(ds []disturbance, td int64) int64 {
	if c.SessionGone > c.Bound && !quiet(ds, td-c.Bound, td+c.Bound, 0, func(n string) bool { return strings.HasPrefix(n, "session-") }) {
		return c.SessionGone
	}
	return c.Bound
}

func (NoGhost) Name() string { return "no-ghost" }

func (c NoGhost) Check(h *History, _ checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	owner := s.owners()
	var bad []string
	var ops []int
	reported := map[string]bool{}
	ds, elections := s.disturbances(), s.elections()
	for i, ev := range s.evs {
		if ev.Kind != Push {
			continue
		}
		for _, p := range ev.Pubs {
			reg, _, _ := strings.Cut(p, "=")
			o, known := owner[reg]
			td, dead := s.dead[o]
			if !known || !dead || reported[reg] {
				continue
			}
			deadline := c.deadline(ds, elections, td)
			if ev.T <= deadline {
				continue
			}
			reported[reg] = true
			bad = append(bad, fmt.Sprintf("publisher %s of client %d, dead since %v, was still pushed to subscriber %s of client %d at %v (op %d), more than %v later",
				reg, o, vt(td), ev.RegID, ev.Client, vt(ev.T), i, vt(deadline-td)))
			ops = append(ops, i)
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("%d dead clients' publishers were gone from pushes within %v (%v when a session server was disturbed)", len(s.dead), vt(c.Bound), vt(max(c.Bound, c.SessionGone))))
}
