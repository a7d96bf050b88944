package coordinator

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// UniqueIDs: xids and branch ids come from one durable (or replicated)
// counter, so across restarts and TC failovers no xid begins twice, no
// branch id is registered twice, and no number names both.
type UniqueIDs struct{}

func (UniqueIDs) Name() string { return "unique-ids" }

func (c UniqueIDs) Check(h *History, _ checkers.Options) checkers.Result {
	first := map[uint64]int{}
	var bad []string
	var ops []int
	use := func(id uint64, what string, i int) {
		if j, ok := first[id]; ok {
			bad = append(bad, fmt.Sprintf("id %d handed out twice: %s at %s, %s earlier", id, what, vt(h.Events[i].T), describe(h.Events[j])))
			ops = append(ops, j, i)
			return
		}
		first[id] = i
	}
	for i, ev := range h.Events {
		switch ev.Kind {
		case Begin:
			use(ev.XID, fmt.Sprintf("xid %d began", ev.XID), i)
		case Register:
			use(ev.Branch, fmt.Sprintf("branch %d of xid %d registered", ev.Branch, ev.XID), i)
		}
	}
	return verdict(c.Name(), bad, ops, fmt.Sprintf("%d xids and branch ids, each handed out once", len(first)))
}

func describe(ev Event) string {
	if ev.Kind == Begin {
		return fmt.Sprintf("xid %d began", ev.XID)
	}
	return fmt.Sprintf("branch %d of xid %d registered", ev.Branch, ev.XID)
}
