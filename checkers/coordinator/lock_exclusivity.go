package coordinator

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// LockExclusivity: from the log of grants and releases, no row's global
// lock is held by two unfinished global transactions at once.
type LockExclusivity struct{}

func (LockExclusivity) Name() string { return "lock-exclusivity" }

func (c LockExclusivity) Check(h *History, _ checkers.Options) checkers.Result {
	holder := map[string]uint64{}
	grantedAt := map[string]int{}
	var bad []string
	var ops []int
	grants := 0
	for i, ev := range h.Events {
		switch ev.Kind {
		case LockGrant:
			for _, k := range ev.Keys {
				grants++
				if x, ok := holder[k]; ok && x != ev.XID {
					bad = append(bad, fmt.Sprintf("%s granted to xid %d at %s while xid %d held it", k, ev.XID, vt(ev.T), x))
					ops = append(ops, grantedAt[k], i)
				}
				holder[k], grantedAt[k] = ev.XID, i
			}
		case LockRelease:
			for _, k := range ev.Keys {
				if holder[k] == ev.XID {
					delete(holder, k)
				}
			}
		}
	}
	return verdict(c.Name(), bad, ops, fmt.Sprintf("%d global lock grants, never two holders of a row", grants))
}
