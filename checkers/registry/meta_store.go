package registry

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers"
)

// MetaStore checks that the meta store's operations (MetaOp: the
// meta leaders' table proposals, compare-and-set on the table epoch, and
// linearizable reads of the epoch by a probe client) are linearizable, with
// porcupine and the cas-register model; the epoch starts at 0.
type MetaStore struct{}

func (MetaStore) Name() string { return "meta-store" }

func (c MetaStore) Check(h *History, opts checkers.Options) checkers.Result {
	s, res := load(c.Name(), h)
	init := "0"
	sub := checkers.History{Model: "cas-register", Init: &init}
	var back []int // sub-history op -> registry event
	for i, ev := range s.evs {
		if ev.Kind != MetaOp {
			continue
		}
		op := checkers.Op{ID: len(sub.Ops), Client: ev.Client, Key: "meta/epoch", Call: ev.Call, Return: ev.T, Unknown: ev.Unknown}
		switch ev.Op {
		case "cas":
			op.Input = checkers.Input{Kind: checkers.KindCAS, Expected: fmt.Sprint(ev.Expected), Value: fmt.Sprint(ev.Expected + 1)}
			op.Output = checkers.Output{OK: ev.OK}
		case "read":
			op.Input = checkers.Input{Kind: checkers.KindRead}
			op.Output = checkers.Output{Value: fmt.Sprint(ev.Epoch), Found: true}
		default:
			continue
		}
		sub.Ops = append(sub.Ops, op)
		back = append(back, i)
	}
	if len(sub.Ops) == 0 {
		return pass(res, "no meta store operation recorded")
	}
	r := checkers.Linearizable{}.Check(sub, opts)
	r.Checker = c.Name()
	for i, id := range r.Ops {
		if id >= 0 && id < len(back) {
			r.Ops[i] = back[id]
		}
	}
	if r.Verdict == checkers.Pass {
		r.Explanation = fmt.Sprintf("%d meta store operations (table compare-and-sets and epoch reads) are linearizable", len(sub.Ops))
	} else {
		r.Explanation = "meta store: " + r.Explanation
	}
	return r
}
