package coordinator

import (
	"fmt"
	"maps"
	"slices"

	"github.com/sofasim/sofasim/checkers"
)

// NoLeak: after the liveness phase no global lock, undo log or local row
// lock is left behind: every transaction has finished and cleaned up.
type NoLeak struct{}

func (NoLeak) Name() string { return "no-leak" }

func (c NoLeak) Check(h *History, _ checkers.Options) checkers.Result {
	st, fi := finalState(h)
	if st == nil {
		return noFinal(c.Name())
	}
	var bad []string
	if len(st.GlobalLocks) > 0 {
		for _, k := range slices.Sorted(maps.Keys(st.GlobalLocks)) {
			bad = append(bad, fmt.Sprintf("global lock %s still held by xid %d", k, st.GlobalLocks[k]))
		}
	}
	for _, rm := range slices.Sorted(maps.Keys(st.UndoLogs)) {
		bad = append(bad, fmt.Sprintf("%s keeps undo logs %v", rm, st.UndoLogs[rm]))
	}
	for _, rm := range slices.Sorted(maps.Keys(st.LocalLocks)) {
		bad = append(bad, fmt.Sprintf("%s keeps local row locks %v", rm, st.LocalLocks[rm]))
	}
	var ops []int
	if len(bad) > 0 {
		ops = []int{fi}
	}
	return verdict(c.Name(), bad, ops, "no global lock, undo log or local lock left after the liveness phase")
}
