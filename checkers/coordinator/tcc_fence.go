package coordinator

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// TCCFence: each TCC branch's fence row moves only "" → tried → committed
// or rollbacked, or "" → suspended (an empty rollback): a try runs at most
// once, confirm or cancel at most once and never both, and a try after a
// cancel changes nothing (anti-hanging): no row becomes tried once the RM
// has answered that branch's rollback.
type TCCFence struct{}

func (TCCFence) Name() string { return "tcc-fence" }

var fenceLegal = map[[2]string]bool{
	{"", "tried"}: true, {"", "suspended"}: true,
	{"tried", "committed"}: true, {"tried", "rollbacked"}: true,
}

func (c TCCFence) Check(h *History, _ checkers.Options) checkers.Result {
	type branch struct {
		node   string
		xid, b uint64
	}
	cur := map[branch]string{}
	last := map[branch]int{}
	cancelled := map[branch]int{} // the RM answered the branch's rollback
	var bad []string
	var ops []int
	for i, ev := range h.Events {
		if ev.Kind == PhaseTwo && !ev.Commit && ev.BranchStatus == "PhaseTwo_Rollbacked" {
			if _, ok := cancelled[branch{ev.Node, ev.XID, ev.Branch}]; !ok {
				cancelled[branch{ev.Node, ev.XID, ev.Branch}] = i
			}
		}
		if ev.Kind != Fence {
			continue
		}
		k := branch{ev.Node, ev.XID, ev.Branch}
		prev, seen := cur[k]
		j, wasCancelled := cancelled[k]
		switch {
		case ev.To == "tried" && wasCancelled:
			bad = append(bad, fmt.Sprintf("the try of TCC branch %d:%d on %s reserved at %s after its cancel was answered at %s (hanging)", ev.XID, ev.Branch, ev.Node, vt(ev.T), vt(h.Events[j].T)))
			ops = append(ops, j, i)
		case !fenceLegal[[2]string{ev.From, ev.To}]:
			bad = append(bad, fmt.Sprintf("fence %d:%d on %s moved %q → %q at %s", ev.XID, ev.Branch, ev.Node, ev.From, ev.To, vt(ev.T)))
			ops = append(ops, i)
		case seen && prev != ev.From:
			bad = append(bad, fmt.Sprintf("fence %d:%d on %s was %q, then moved %q → %q at %s", ev.XID, ev.Branch, ev.Node, prev, ev.From, ev.To, vt(ev.T)))
			ops = append(ops, last[k], i)
		case !seen && ev.From != "":
			bad = append(bad, fmt.Sprintf("fence %d:%d on %s moved %q → %q at %s with no row written before", ev.XID, ev.Branch, ev.Node, ev.From, ev.To, vt(ev.T)))
			ops = append(ops, i)
		}
		cur[k], last[k] = ev.To, i
	}
	return verdict(c.Name(), bad, ops, fmt.Sprintf("%d TCC fence rows moved only along tried → committed/rollbacked or suspended", len(cur)))
}
