package checkers

import "fmt"

// Recorder builds a History while simulated clients run. Clients pass the
// virtual time themselves, so recording never reads a clock and a replay
// records the same history. The zero value is ready to use; set Model and
// Init to carry them into History. A Recorder is not safe for concurrent
// use (the simulator runs on one goroutine).
//
// Misuse (completing an unknown id twice, returning before the call) is a
// bug in the client code and panics.
type Recorder struct {
	Model string
	Init  *string
	ops   []Op
	done  []bool
}

// Invoke records a call and returns the op's id for Complete or Unknown.
func (r *Recorder) Invoke(at int64, client int, key string, in Input) int {
	id := len(r.ops)
	r.ops = append(r.ops, Op{ID: id, Client: client, Key: key, Input: in, Call: at})
	r.done = append(r.done, false)
	return id
}

// Complete records that op id returned out at virtual time at.
func (r *Recorder) Complete(at int64, id int, out Output) {
	op := r.open(id)
	if at < op.Call {
		panic(fmt.Sprintf("checkers: op %d completed at %d before its call at %d", id, at, op.Call))
	}
	op.Output, op.Return = out, at
	r.done[id] = true
}

// Unknown records that the client stopped waiting for op id at virtual
// time at (a timeout): its outcome is unknown and it stays open to the end.
func (r *Recorder) Unknown(at int64, id int) {
	op := r.open(id)
	op.Unknown, op.Return = true, at
	r.done[id] = true
}

func (r *Recorder) open(id int) *Op {
	if id < 0 || id >= len(r.ops) {
		panic(fmt.Sprintf("checkers: no op %d recorded", id))
	}
	if r.done[id] {
		panic(fmt.Sprintf("checkers: op %d already finished", id))
	}
	return &r.ops[id]
}

// History returns a copy of what was recorded so far. Ops still pending
// are marked Unknown (with Return 0): the run ended before they did.
func (r *Recorder) History() History {
	var ops []Op
	if len(r.ops) > 0 {
		ops = make([]Op, len(r.ops))
		copy(ops, r.ops)
	}
	for i := range ops {
		if !r.done[i] {
			ops[i].Unknown = true
		}
	}
	var init *string
	if r.Init != nil {
		v := *r.Init
		init = &v
	}
	return History{Model: r.Model, Init: init, Ops: ops}
}
