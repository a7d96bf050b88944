package checkers

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	"github.com/anishathalye/porcupine"
)

// Model is a sequential specification that [Linearizable] checks histories
// against, chosen by name (a CLI's --model NAME). Each key is an
// independent register, so histories are checked one key at a time.
type Model struct {
	Name  string
	Doc   string   // one line, for listings
	Kinds []string // the operation kinds it accepts
}

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
		return true, register{s.value + in.Value, true}
	case KindDelete:
		return true, register{}
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
			return partitionByKey(history, func(o porcupine.Operation) string { return o.Input.(Op).Key })
		},
		PartitionEvent: func(history []porcupine.Event) [][]porcupine.Event {
			keys := map[int]string{} // event id -> key, from the call
			for _, e := range history {
				if e.Kind == porcupine.CallEvent {
					keys[e.Id] = e.Value.(Op).Key
				}
			}
			return partitionByKey(history, func(e porcupine.Event) string { return keys[e.Id] })
		},
		Init: func() any { return start },
		Step: func(state, input, output any) (bool, any) {
			op := input.(Op)
			op.Output = output.(Output)
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
			op := input.(Op)
			return describeCall(op.Key, op.Input, output.(Output), op.Unknown)
		},
		DescribeState:             func(state any) string { return state.(register).String() },
		DescribeOperationMetadata: func(meta any) string { return fmt.Sprint(meta) },
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
