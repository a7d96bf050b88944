package checkers

import (
	"fmt"

	"github.com/sofasim/sofasim/checkers/elle"
)

// txnBuilder turns :txn events into transactions with the same semantics
// as [builder]: :ok committed, :fail did not happen, :info and pending at
// the end unknown. A completion with no invocation (Elle's examples often
// list only completions) is a transaction with no known start, so it gets
// no real-time predecessors.
type txnBuilder struct {
	list    []elle.Txn
	knossos bool // micro-ops spelt :read and :write, as Knossos's multi-register
	lines   []int
	pending map[int]int // process -> index of its open transaction
}

func (b *txnBuilder) add(e event) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("line %d: %s", e.line, fmt.Sprintf(format, args...))
	}
	if b.pending == nil {
		b.pending = map[int]int{}
	}
	var mops []elle.Mop
	if e.value.kind != ednNil {
		var err error
		var knossos bool
		if mops, knossos, err = microOps(e.value); err != nil {
			return fail("%v", err)
		}
		b.knossos = b.knossos || knossos
	}
	idx, busy := b.pending[e.process]
	if e.typ == "invoke" {
		if busy {
			return fail("process %d invokes a :txn while its :txn from line %d is still pending", e.process, b.lines[idx])
		}
		b.pending[e.process] = len(b.list)
		b.list = append(b.list, elle.Txn{Process: e.process, Status: elle.Info, Call: e.at, Mops: mops})
		b.lines = append(b.lines, e.line)
		return nil
	}
	if !busy {
		if e.typ == "fail" {
			return nil // did not happen
		}
		t := elle.Txn{Process: e.process, Status: elle.Info, Mops: mops}
		if e.typ == "ok" {
			t.Status, t.Return = elle.OK, e.at
		}
		b.list = append(b.list, t)
		b.lines = append(b.lines, e.line)
		return nil
	}
	delete(b.pending, e.process)
	t := &b.list[idx]
	switch e.typ {
	case "ok":
		t.Status, t.Return = elle.OK, e.at
		if e.value.kind != ednNil {
			if len(mops) != len(t.Mops) {
				return fail("the :ok :txn has %d micro-ops but its invocation at line %d has %d", len(mops), b.lines[idx], len(t.Mops))
			}
			t.Mops = mops
		}
	case "fail":
		t.Status = elle.Fail
	}
	return nil
}

func (b *txnBuilder) txns() []elle.Txn {
	out := b.list
	if out == nil {
		out = []elle.Txn{}
	}
	for i := range out {
		out[i].ID = i
	}
	return out
}

// microOps reads a transaction's value: [[:append k v] [:r k [v ...]]
// [:w k v] [:r k v]], with :read and :write as Knossos spells them.
func microOps(v ednValue) (mops []elle.Mop, knossos bool, err error) {
	if v.kind != ednVector && v.kind != ednList {
		return nil, false, fmt.Errorf(":txn value must be a vector of micro-ops like [:r :x 1], not %s", clip(v.String()))
	}
	mops = make([]elle.Mop, 0, len(v.items))
	for _, it := range v.items {
		if (it.kind != ednVector && it.kind != ednList) || len(it.items) != 3 || it.items[0].kind != ednKeyword {
			return nil, false, fmt.Errorf("a micro-op must be [f key value] with f :append, :r or :w, not %s", clip(it.String()))
		}
		key, err := scalar(it.items[1])
		if err != nil {
			return nil, false, fmt.Errorf("micro-op %s: key: %v", clip(it.String()), err)
		}
		m := elle.Mop{Key: key}
		val := it.items[2]
		switch it.items[0].text {
		case "append":
			m.Kind = elle.Append
		case "w", "write":
			m.Kind = elle.Write
			knossos = knossos || it.items[0].text == "write"
		case "r", "read":
			m.Kind = elle.Read
			knossos = knossos || it.items[0].text == "read"
		default:
			return nil, false, fmt.Errorf("micro-op %s: unknown function :%s (want :append, :r or :w)", clip(it.String()), it.items[0].text)
		}
		switch {
		case val.kind == ednNil && m.Kind == elle.Read:
			m.Nil = true
		case m.Kind == elle.Read && (val.kind == ednVector || val.kind == ednList):
			m.List = make([]string, len(val.items))
			for i, x := range val.items {
				if m.List[i], err = scalar(x); err != nil {
					return nil, false, fmt.Errorf("micro-op %s: %v", clip(it.String()), err)
				}
			}
		default:
			if m.Value, err = scalar(val); err != nil {
				return nil, false, fmt.Errorf("micro-op %s: value: %v", clip(it.String()), err)
			}
		}
		mops = append(mops, m)
	}
	return mops, knossos, nil
}
