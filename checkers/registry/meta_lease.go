package registry

import (
	"fmt"
	"maps"
	"slices"

	"github.com/sofasim/sofasim/checkers"
)

// MetaLease judges what the lock of election=db promises: at no sampled
// time do two meta servers act as leader, provided every meta's clock is
// within ClockBound (ms; the lock duration / 2) of the lock database's. A
// leader trusts the lock until its last renewal + duration/2 on its own
// clock, and a follower takes it over only after a full duration of
// silence on the database's clock, so the promise holds exactly while no
// leader's clock runs more than duration/2 behind the database's. Two
// leaders with a clock outside the bound are reported, not failed.
type MetaLease struct{ ClockBound int64 }

func (MetaLease) Name() string { return "meta-lease" }

func (c MetaLease) Check(h *History, _ checkers.Options) checkers.Result {
	res := checkers.Result{Checker: c.Name(), Verdict: checkers.Unknown}
	last := map[string]int{} // meta node -> its latest Meta event
	var bad []string
	var ops []int
	samples, excused := 0, 0
	for i, ev := range h.Events {
		if ev.Kind != Meta {
			continue
		}
		last[ev.Node] = i
		if !ev.Leader {
			continue
		}
		samples++
		var both []int
		skewed := false
		for _, n := range slices.Sorted(maps.Keys(last)) {
			j := last[n]
			if h.Events[j].Leader {
				both = append(both, j)
				skewed = skewed || h.Events[j].Skew < -c.ClockBound
			}
		}
		if len(both) < 2 {
			continue
		}
		if skewed {
			excused++
			continue
		}
		var names []string
		for _, j := range both {
			names = append(names, fmt.Sprintf("%s (term %d, op %d)", h.Events[j].Node, h.Events[j].Term, j))
		}
		bad = append(bad, fmt.Sprintf("%d meta leaders at once at %.3fs with every clock within %dms of the lock database's: %v", len(both), float64(ev.T)/1e9, c.ClockBound, names))
		ops = append(ops, both...)
	}
	if len(bad) > 0 {
		slices.Sort(ops)
		return fail(res, bad, slices.Compact(ops))
	}
	msg := fmt.Sprintf("one meta leader at a time across %d leader samples (clocks within %dms of the lock database's)", samples, c.ClockBound)
	if excused > 0 {
		msg += fmt.Sprintf("; %d samples had two leaders with a clock more than %dms behind: outside the lock's promise", excused, c.ClockBound)
	}
	return pass(res, msg)
}
