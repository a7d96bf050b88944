package elle

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"

	"pgregory.net/rapid"
)

// db is the state a generated history runs against: lists for
// list-append, registers for rw-register.
type db struct {
	lists map[string][]string
	regs  map[string]string
	next  int // values are unique across the history, so they show who wrote them
}

func newDB() *db { return &db{lists: map[string][]string{}, regs: map[string]string{}} }

// planTxn draws a transaction's micro-ops before it runs: reads carry no
// value, appends and writes a fresh one.
func (d *db) planTxn(draw func(n int) int, model Model, keys int) []Mop {
	n := 1 + draw(4)
	mops := make([]Mop, n)
	for i := range mops {
		k := "k" + strconv.Itoa(draw(keys))
		switch {
		case draw(2) == 0:
			mops[i] = Mop{Kind: Read, Key: k}
		case model == ListAppend:
			d.next++
			mops[i] = Mop{Kind: Append, Key: k, Value: strconv.Itoa(d.next)}
		default:
			d.next++
			mops[i] = Mop{Kind: Write, Key: k, Value: strconv.Itoa(d.next)}
		}
	}
	return mops
}

// apply runs a planned transaction atomically, filling in values read and
// written.
func (d *db) apply(mops []Mop) []Mop {
	out := make([]Mop, len(mops))
	for i, m := range mops {
		switch m.Kind {
		case Append:
			d.lists[m.Key] = append(d.lists[m.Key], m.Value)
		case Write:
			d.regs[m.Key] = m.Value
		case Read:
			if l, ok := d.lists[m.Key]; ok {
				m.List = slices.Clone(l)
			} else if v, ok := d.regs[m.Key]; ok {
				m.Value = v
			} else {
				m.Nil = true
			}
		}
		out[i] = m
	}
	return out
}

// unknownReads is what an invocation or an unknown outcome records.
func unknownReads(mops []Mop) []Mop {
	out := slices.Clone(mops)
	for i := range out {
		if out[i].Kind == Read {
			out[i] = Mop{Kind: Read, Key: out[i].Key, Nil: true}
		}
	}
	return out
}

// serialHistory runs n transactions one after another.
func serialHistory(draw func(int) int, model Model, n, keys int) []Txn {
	d := newDB()
	txns := make([]Txn, n)
	for i := range txns {
		txns[i] = Txn{ID: i, Process: i % 3, Status: OK, Call: int64(2*i + 1), Return: int64(2*i + 2),
			Mops: d.apply(d.planTxn(draw, model, keys))}
	}
	return txns
}

// concurrentHistory runs n transactions on procs processes with
// overlapping intervals; each takes effect atomically at one moment
// between its call and return (so the history is strictly serializable).
// Some abort (:fail, no effect) and some end :info, with or without
// effect.
func concurrentHistory(draw func(int) int, model Model, n, keys, procs int) []Txn {
	d := newDB()
	type inflight struct {
		idx     int
		applied bool
		plan    []Mop
	}
	var txns []Txn
	busy := map[int]*inflight{}
	proc := make([]int, procs) // process number per client; a new one after :info
	for i := range proc {
		proc[i] = i
	}
	nextProc := procs
	var at int64
	for started := 0; started < n || len(busy) > 0; {
		at++
		c := draw(procs)
		f := busy[c]
		switch {
		case f == nil && started < n:
			plan := d.planTxn(draw, model, keys)
			busy[c] = &inflight{idx: len(txns), plan: plan}
			txns = append(txns, Txn{ID: len(txns), Process: proc[c], Status: Info, Call: at, Mops: unknownReads(plan)})
			started++
		case f == nil:
		case !f.applied && draw(3) > 0:
			f.applied = true
			txns[f.idx].Mops = d.apply(f.plan)
		default:
			t := &txns[f.idx]
			delete(busy, c)
			switch r := draw(20); {
			case r == 0 && !f.applied:
				t.Status, t.Mops = Fail, unknownReads(f.plan)
			case r == 1:
				t.Status, t.Mops = Info, unknownReads(t.Mops) // outcome lost
				proc[c], nextProc = nextProc, nextProc+1
			case !f.applied:
				t.Mops = d.apply(f.plan)
				t.Status, t.Return = OK, at
			default:
				t.Status, t.Return = OK, at
			}
		}
	}
	return txns
}

func rapidDraw(t *rapid.T) func(int) int {
	i := 0
	return func(n int) int {
		i++
		return rapid.IntRange(0, n-1).Draw(t, fmt.Sprint("d", i))
	}
}

func randDraw(seed uint64) func(int) int {
	r := rand.New(rand.NewPCG(seed, 2))
	return func(n int) int { return r.IntN(n) }
}
