package checkers

import (
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/anishathalye/porcupine"

	"github.com/sofasim/sofasim/checkers/elle"
)

// Model is a sequential specification that [Linearizable] checks histories
// against, chosen by name (a CLI's --model NAME). Each key is an
// independent register, so histories are checked one key at a time.
type Model struct {
	Name  string
	Doc   string   // one line, for listings
	Kinds []string // the operation kinds it accepts
}

// Kinds of the mutex model (Knossos's mutex): no key, no value.
const (
	KindAcquire = "acquire"
	KindRelease = "release"
)

var models = []Model{
	{
		Name:  "cas-register",
		Doc:   "registers with read, write and compare-and-set; absent until written unless the history sets init",
		Kinds: []string{KindRead, KindWrite, KindCAS},
	},
	{
		Name:  "kv",
		Doc:   "string key-value store with get, put, append, delete and compare-and-set; keys start absent unless the history sets init",
		Kinds: []string{KindGet, KindPut, KindAppend, KindDelete, KindCAS},
	},
	{
		Name:  "mutex",
		Doc:   "one lock with acquire and release: acquiring a held lock or releasing a free one is illegal (Knossos's mutex)",
		Kinds: []string{KindAcquire, KindRelease},
	},
}

// Models lists the available models, sorted by name.
func Models() []Model {
	out := make([]Model, len(models))
	for i, m := range models {
		out[i] = m
		out[i].Kinds = slices.Clone(m.Kinds)
	}
	return out
}

// ModelByName finds a model; the error lists the names that exist.
func ModelByName(name string) (Model, error) {
	for _, m := range Models() {
		if m.Name == name {
			return m, nil
		}
	}
	names := make([]string, len(models))
	for i, m := range models {
		names[i] = m.Name
	}
	return Model{}, fmt.Errorf("unknown model %q (available: %s)", name, strings.Join(names, ", "))
}

func (m Model) validate(h History) error {
	for _, op := range h.Ops {
		if err := m.validateOp(op); err != nil {
			return err
		}
	}
	return nil
}

func (m Model) validateOp(op Op) error {
	if !slices.Contains(m.Kinds, op.Input.Kind) {
		return fmt.Errorf("op %d: model %s has no operation %q (it has %s)",
			op.ID, m.Name, op.Input.Kind, strings.Join(m.Kinds, ", "))
	}
	return nil
}

// register is the state of one key. It is comparable, so porcupine's
// default == equality applies.
type register struct {
	value   string
	present bool
}

func (r register) String() string {
	if !r.present {
		return "nil"
	}
	return strconv.Quote(r.value)
}

// step applies op to one key's state. An op with an unknown outcome
// accepts any output: the checker closes it at the end of the history, so
// it may be placed late enough to have no visible effect.
func step(s register, op Op) (bool, register) {
	in, out := op.Input, op.Output
	switch in.Kind {
	case KindGet, KindRead:
		if op.Unknown {
			return true, s
		}
		return out.Found == s.present && (!s.present || out.Value == s.value), s
	case KindPut, KindWrite:
		return true, register{in.Value, true}
	case KindAppend:
		next := register{s.value + in.Value, true}
		if out.Found && !op.Unknown {
			// The store answered with the value the append made (raftkv
			// does): it pins the order of concurrent appends.
			return out.Value == next.value, next
		}
		return true, next
	case KindDelete:
		return true, register{}
	case KindAcquire, KindRelease:
		// The lock is held while the register is present. An op whose
		// outcome is unknown is always legal, taking effect only if it
		// could: the checker may place it last, where it changes nothing.
		legal := s.present == (in.Kind == KindRelease)
		if legal {
			return true, register{present: in.Kind == KindAcquire}
		}
		return op.Unknown, s
	case KindCAS:
		match := casMatches(s, in)
		next := s
		if match {
			next = register{in.Value, true}
		}
		return op.Unknown || out.OK == match, next
	}
	return false, s
}

// casMatches reports whether a cas finds the value it expects.
func casMatches(s register, in Input) bool {
	if in.ExpectAbsent {
		return !s.present
	}
	return s.present && s.value == in.Expected
}

// porcupineModel builds the porcupine model: the state is one key's
// register, Input is the Op itself, Output its Output, and Metadata a
// label for the visualisation.
// Partitions are sorted by key so that every run lists them alike.
func porcupineModel(init *string) porcupine.Model {
	start := register{}
	if init != nil {
		start = register{*init, true}
	}
	return porcupine.Model{
		Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
			return partitionByKey(history, func(o porcupine.Operation) string { return o.Input.(*Op).Key })
		},
		PartitionEvent: func(history []porcupine.Event) [][]porcupine.Event {
			keys := map[int]string{} // event id -> key, from the call
			for _, e := range history {
				if e.Kind == porcupine.CallEvent {
					keys[e.Id] = e.Value.(*Op).Key
				}
			}
			return partitionByKey(history, func(e porcupine.Event) string { return keys[e.Id] })
		},
		Init: func() any { return start },
		Step: func(state, input, _ any) (bool, any) {
			op := *input.(*Op)
			return step(state.(register), op)
		},
		Hash: func(state any) uint64 {
			r := state.(register)
			h := fnv.New64a()
			if r.present {
				h.Write([]byte{1})
			}
			h.Write([]byte(r.value))
			return h.Sum64()
		},
		DescribeOperation: func(input, output any) string {
			op := *input.(*Op)
			return describeCall(op.Key, op.Input, op.Output, op.Unknown)
		},
		DescribeState: func(state any) string { return state.(register).String() },
		DescribeOperationMetadata: func(meta any) string {
			if op, ok := meta.(*Op); ok {
				return fmt.Sprintf("op %d, client %d", op.ID, op.Client)
			}
			return fmt.Sprint(meta)
		},
	}
}

func partitionByKey[T any](history []T, key func(T) string) [][]T {
	byKey := map[string][]T{}
	for _, e := range history {
		k := key(e)
		byKey[k] = append(byKey[k], e)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([][]T, len(keys))
	for i, k := range keys {
		out[i] = byKey[k]
	}
	return out
}

// MultiRegister checks a history of :txn transactions over registers for
// linearizability (Knossos's multi-register model): each transaction
// reads and writes several registers atomically, at one point between its
// call and return. Init, when set, is every register's initial value (nil:
// absent). A read of nil (Mop.Nil) is a read of an unknown value and legal
// in every state; an Info transaction's reads are unknown, its writes may
// have happened at any time after its call; Fail transactions did not
// happen. Transactions touch any keys, so the history is searched whole.
type MultiRegister struct {
	Init *string
}

// Name is "linearizable".
func (MultiRegister) Name() string { return "linearizable" }

// Check returns Pass, Fail naming the transactions left when the longest
// legal order stops, or Unknown when the time limit ran out.
func (m MultiRegister) Check(txns []elle.Txn, opts Options) Result {
	res := Result{Checker: m.Name(), Verdict: Unknown}
	var end int64
	for _, t := range txns {
		end = max(end, t.Call, t.Return)
		for _, mop := range t.Mops {
			if mop.Kind == elle.Append || (mop.Kind == elle.Read && mop.List != nil) {
				res.Explanation = fmt.Sprintf("transaction %d: the multi-register model has no %s: check it with --model list-append", t.ID, mop)
				return res
			}
		}
	}
	var ops []porcupine.Operation
	for _, t := range txns {
		if t.Status == elle.Fail {
			continue
		}
		ret := t.Return
		if t.Status == elle.Info {
			ret = end + 1
		}
		ops = append(ops, porcupine.Operation{ClientId: max(t.Process, 0), Input: t, Call: t.Call, Return: ret})
	}
	if len(ops) == 0 {
		res.Verdict, res.Explanation = Pass, "nothing to check: no transaction committed or may have"
		return res
	}
	model := m.model()
	out, info := porcupine.CheckOperationsVerbose(model, ops, opts.TimeLimit)
	switch out {
	case porcupine.Ok:
		res.Verdict = Pass
		res.Explanation = fmt.Sprintf("linearizable: %d transactions over registers", len(ops))
	case porcupine.Illegal:
		res.Verdict = Fail
		var best []porcupine.Operation
		for _, p := range info.PartialLinearizationsOperations() {
			for _, seq := range p {
				if len(seq) > len(best) {
					best = seq
				}
			}
		}
		placed := map[int]bool{}
		for _, o := range best {
			placed[o.Input.(elle.Txn).ID] = true
		}
		var next []string
		for _, o := range ops {
			t := o.Input.(elle.Txn)
			if !placed[t.ID] && len(next) < 5 {
				next = append(next, fmt.Sprintf("txn %d (process %d) %s", t.ID, t.Process, t))
				res.Ops = append(res.Ops, t.ID)
			}
		}
		res.Explanation = fmt.Sprintf("not linearizable: of %d transactions the longest legal order places %d; none of the rest can follow it, e.g. %s",
			len(ops), len(best), strings.Join(next, "; "))
	default:
		res.Cause = CauseTimeLimit
		res.Explanation = fmt.Sprintf("time limit %v ran out before a verdict", opts.TimeLimit)
	}
	return res
}

// model is porcupine's multi-register model. The state is every written
// register as a sorted key\x00value\x00 string: comparable and hashable.
func (m MultiRegister) model() porcupine.Model {
	return porcupine.Model{
		Init: func() any { return "" },
		Step: func(state, input, _ any) (bool, any) {
			t := input.(elle.Txn)
			regs := decodeRegisters(state.(string))
			changed := false
			for _, mop := range t.Mops {
				switch mop.Kind {
				case elle.Write:
					regs[mop.Key] = mop.Value
					changed = true
				case elle.Read:
					if mop.Nil || t.Status != elle.OK {
						continue // unknown value: legal in every state
					}
					v, ok := regs[mop.Key]
					if !ok && m.Init != nil {
						v, ok = *m.Init, true
					}
					if !ok || v != mop.Value {
						return false, state
					}
				}
			}
			if !changed {
				return true, state
			}
			return true, encodeRegisters(regs)
		},
		DescribeOperation: func(input, _ any) string { return input.(elle.Txn).String() },
		DescribeState:     func(state any) string { return strconv.Quote(state.(string)) },
	}
}

func decodeRegisters(s string) map[string]string {
	regs := map[string]string{}
	parts := strings.Split(s, "\x00")
	for i := 0; i+1 < len(parts); i += 2 {
		regs[parts[i]] = parts[i+1]
	}
	return regs
}

func encodeRegisters(regs map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(regs)) {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(regs[k])
		b.WriteByte(0)
	}
	return b.String()
}
