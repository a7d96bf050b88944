package coordinator

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// NoAbortedRead: a SELECT FOR UPDATE (read committed through the global
// lock) never returns a row version written by a global transaction that
// rolled back, other than its own (a transaction reads its own writes).
// Versions are unique per RM, so (RM, row, version) names one write.
type NoAbortedRead struct{}

func (NoAbortedRead) Name() string { return "no-aborted-read" }

func (c NoAbortedRead) Check(h *History, _ checkers.Options) checkers.Result {
	dec := decisions(h)
	type write struct {
		node, key string
		version   uint64
	}
	aborted := map[write]int{}
	for i, ev := range h.Events {
		if ev.Kind == PhaseOne && ev.OK && ev.Key != "" && rollsBack(dec[ev.XID]) {
			aborted[write{ev.Node, ev.Key, ev.Version}] = i
		}
	}
	var bad []string
	var ops []int
	reads := 0
	for i, ev := range h.Events {
		if ev.Kind != Read || !ev.ForUpdate {
			continue
		}
		reads++
		if j, ok := aborted[write{ev.Node, ev.Key, ev.Version}]; ok && h.Events[j].XID != ev.XID {
			w := h.Events[j]
			bad = append(bad, fmt.Sprintf("xid %d read %s/%s=%d (version %d) at %s, written by xid %d which rolled back (%s)", ev.XID, ev.Node, ev.Key, ev.Value, ev.Version, vt(ev.T), w.XID, dec[w.XID]))
			ops = append(ops, j, i)
		}
	}
	return verdict(c.Name(), bad, ops, fmt.Sprintf("%d SELECT FOR UPDATE reads, none of a rolled-back write", reads))
}
