package checkers

import (
	"fmt"
	"math"
	"strconv"
)

// Operation kinds. A model accepts a subset (see [ModelByName]): kv takes
// get, put, append, delete and cas; cas-register takes read, write and cas.
const (
	KindGet    = "get"
	KindPut    = "put"
	KindAppend = "append"
	KindDelete = "delete"
	KindCAS    = "cas"
	KindRead   = "read"
	KindWrite  = "write"
)

// Input is what a client asked for. It is one flat value for every model so
// that histories stay plain, comparable and JSON-serialisable.
type Input struct {
	Kind string `json:"kind"`
	// Value is the value written by put, append and write, and the new
	// value of a cas.
	Value string `json:"value,omitempty"`
	// Expected is the value a cas compares against. A cas that succeeds
	// only while the key is absent sets ExpectAbsent instead.
	Expected     string `json:"expected,omitempty"`
	ExpectAbsent bool   `json:"expect_absent,omitempty"`
}

// Output is what the client was told. Value and Found answer a get or
// read (Found false: the key is absent, Jepsen's nil); OK tells whether a
// cas swapped. An append with Found set reports in Value the key's value it
// made (a store whose append returns the new value, as raftkv's does);
// without Found it says nothing about the value (Jepsen's :append). A non-empty Err is a definite failure: the operation did not
// take effect, so the linearizability checker skips it (like Jepsen's :fail).
type Output struct {
	Value string `json:"value,omitempty"`
	Found bool   `json:"found,omitempty"`
	OK    bool   `json:"ok,omitempty"`
	Err   string `json:"err,omitempty"`
}

// Op is one client operation. Call and Return are virtual-time
// nanoseconds (for imported logs without time, line numbers).
//
// When Unknown is set the client never learnt the outcome: the operation
// may have taken effect at any moment after Call, or never, so checkers
// treat it as open to the end of the history and ignore Output. Return
// then records only when the client stopped waiting (0 if it never did).
type Op struct {
	ID      int    `json:"id"` // index in History.Ops
	Client  int    `json:"client"`
	Key     string `json:"key"`
	Input   Input  `json:"input"`
	Output  Output `json:"output"`
	Call    int64  `json:"call"`
	Return  int64  `json:"return"`
	Unknown bool   `json:"unknown,omitempty"`
}

// History is a recorded run: operations in invocation order plus what is
// needed to judge them. Model names the sequential model (see
// [ModelByName]); Init, when set, is the value every key starts with, and
// nil means every key starts absent.
type History struct {
	Model string  `json:"model,omitempty"`
	Init  *string `json:"init,omitempty"`
	Ops   []Op    `json:"ops"`
}

// Validate reports the first structural fault: an ID that is not the op's
// index, a return before its call, an empty kind, or, when Model names a
// model, a kind that model does not know. Checkers give unknown on an
// invalid history; a CLI can call Validate first to reject bad input.
func (h History) Validate() error {
	if err := h.validateStructure(); err != nil {
		return err
	}
	if h.Model == "" {
		return nil
	}
	m, err := ModelByName(h.Model)
	if err != nil {
		return err
	}
	return m.validate(h)
}

func (h History) validateStructure() error {
	for i, op := range h.Ops {
		if err := validateOp(i, op); err != nil {
			return err
		}
	}
	return nil
}

func validateOp(i int, op Op) error {
	switch {
	case op.ID != i:
		return fmt.Errorf("op at index %d has id %d (ids must be indexes)", i, op.ID)
	case op.Input.Kind == "":
		return fmt.Errorf("op %d has no kind", i)
	case !op.Unknown && op.Return == 0 && op.Call > 0:
		return fmt.Errorf(`op %d has no "return": give the time it returned, or "unknown": true if its outcome is unknown`, i)
	case !op.Unknown && op.Return < op.Call:
		return fmt.Errorf("op %d returns at %d before its call at %d", i, op.Return, op.Call)
	}
	return nil
}

// end is a time after every stamp in the history: where open (unknown)
// operations are closed for porcupine, which is the same as +infinity
// because nothing happens after it.
func (h History) end() int64 {
	var end int64
	for i, op := range h.Ops {
		if i == 0 || op.Call > end {
			end = op.Call
		}
		if !op.Unknown && op.Return > end {
			end = op.Return
		}
	}
	if end == math.MaxInt64 {
		return end
	}
	return end + 1
}

// describe renders an op for explanations, e.g. `op 17 (client 2) get("x") -> "5"`.
func (op Op) describe() string {
	return fmt.Sprintf("op %d (client %d) %s", op.ID, op.Client, describeCall(op.Key, op.Input, op.Output, op.Unknown))
}

func describeCall(key string, in Input, out Output, unknown bool) string {
	var call string
	switch in.Kind {
	case KindGet, KindDelete:
		call = fmt.Sprintf("%s(%q)", in.Kind, key)
	case KindRead:
		call = "read()"
	case KindPut, KindAppend:
		call = fmt.Sprintf("%s(%q, %q)", in.Kind, key, in.Value)
	case KindWrite:
		call = fmt.Sprintf("write(%q)", in.Value)
	case KindCAS:
		exp := strconv.Quote(in.Expected)
		if in.ExpectAbsent {
			exp = "nil"
		}
		call = fmt.Sprintf("cas(%s -> %q)", exp, in.Value)
		if key != "" {
			call = fmt.Sprintf("cas(%q, %s -> %q)", key, exp, in.Value)
		}
	default:
		call = fmt.Sprintf("%s(%q)", in.Kind, key)
	}
	switch {
	case unknown:
		return call + " -> ?"
	case out.Err != "":
		return call + " -> error " + strconv.Quote(out.Err)
	case in.Kind == KindAppend && out.Found:
		return call + " -> " + strconv.Quote(out.Value)
	case in.Kind == KindGet || in.Kind == KindRead:
		if !out.Found {
			return call + " -> nil"
		}
		return call + " -> " + strconv.Quote(out.Value)
	case in.Kind == KindCAS:
		if out.OK {
			return call + " -> ok"
		}
		return call + " -> failed"
	}
	return call
}
