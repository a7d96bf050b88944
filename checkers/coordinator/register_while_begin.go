package coordinator

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// RegisterWhileBegin: a branch registers only while its global
// transaction is Begin. A branch that joins after the rollback walked the
// branch list keeps its update and lock for good (seata#4969).
type RegisterWhileBegin struct{}

func (RegisterWhileBegin) Name() string { return "register-while-begin" }

func (c RegisterWhileBegin) Check(h *History, _ checkers.Options) checkers.Result {
	var bad []string
	var ops []int
	n := 0
	for i, ev := range h.Events {
		if ev.Kind != Register {
			continue
		}
		n++
		if ev.To != "Begin" {
			bad = append(bad, fmt.Sprintf("branch %d of xid %d registered on %s at %s while the transaction was %s", ev.Branch, ev.XID, ev.RM, vt(ev.T), ev.To))
			ops = append(ops, i)
		}
	}
	return verdict(c.Name(), bad, ops, fmt.Sprintf("%d branches registered, each while Begin", n))
}
