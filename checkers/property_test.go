package checkers

import (
	"bytes"
	"slices"
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// refStore is a reference model written apart from step: each key maps to
// its value, and a missing key is absent.
type refStore map[string]string

// apply runs in on key and returns what a correct store answers.
func (s refStore) apply(key string, in Input) Output {
	cur, present := s[key]
	switch in.Kind {
	case KindGet, KindRead:
		return Output{Value: cur, Found: present}
	case KindPut, KindWrite:
		s[key] = in.Value
	case KindAppend:
		s[key] = cur + in.Value
		return Output{Value: s[key], Found: true}
	case KindDelete:
		delete(s, key)
	case KindCAS:
		if (in.ExpectAbsent && !present) || (!in.ExpectAbsent && present && cur == in.Expected) {
			s[key] = in.Value
			return Output{OK: true}
		}
		return Output{OK: false}
	}
	return Output{}
}

type genOpts struct {
	concurrent bool // overlapping intervals, unknown outcomes and definite errors
}

// genAppendReports draws whether the history's appends report the value
// they made (raftkv) or nothing (Jepsen's :append).
func genAppendReports(t *rapid.T, h History) History {
	if rapid.Bool().Draw(t, "appendReports") {
		return h
	}
	for i := range h.Ops {
		if h.Ops[i].Input.Kind == KindAppend && h.Ops[i].Output.Err == "" {
			h.Ops[i].Output = Output{}
		}
	}
	return h
}

// genHistory draws a history that is linearizable by construction: ops
// take effect in the order drawn, each at a point inside its interval,
// and outputs come from the reference model.
func genHistory(t *rapid.T, o genOpts) History {
	model := rapid.SampledFrom([]string{"kv", "cas-register"}).Draw(t, "model")
	m, _ := ModelByName(model)
	keys := []string{"a", "b", "c"}[:rapid.IntRange(1, 3).Draw(t, "keys")]
	values := []string{"1", "2", "3"}
	var init *string
	store := refStore{}
	if rapid.Bool().Draw(t, "init") {
		v := rapid.SampledFrom(append(values, "")).Draw(t, "initValue")
		init = &v
		for _, k := range keys {
			store[k] = v
		}
	}
	n := rapid.IntRange(0, 30).Draw(t, "ops")
	var ops []Op
	for i := range n {
		key := rapid.SampledFrom(keys).Draw(t, "key")
		in := Input{Kind: rapid.SampledFrom(m.Kinds).Draw(t, "kind")}
		switch in.Kind {
		case KindPut, KindWrite, KindAppend:
			in.Value = rapid.SampledFrom(values).Draw(t, "value")
		case KindCAS:
			in.Value = rapid.SampledFrom(values).Draw(t, "value")
			if rapid.IntRange(0, 3).Draw(t, "absent") == 0 {
				in.ExpectAbsent = true
			} else {
				in.Expected = rapid.SampledFrom(values).Draw(t, "expected")
			}
		}
		point := int64(i) * 100
		op := Op{Client: rapid.IntRange(0, 4).Draw(t, "client"), Key: key, Input: in, Call: point, Return: point + 50}
		if o.concurrent {
			op.Call = max(0, point-rapid.Int64Range(0, 300).Draw(t, "before"))
			op.Return = point + rapid.Int64Range(0, 300).Draw(t, "after")
			switch rapid.IntRange(0, 9).Draw(t, "outcome") {
			case 0: // unknown outcome; it may or may not take effect
				op.Unknown = true
				op.Return = 0
				if rapid.Bool().Draw(t, "happened") {
					store.apply(key, in)
				}
				ops = append(ops, op)
				continue
			case 1: // definite failure: no effect
				op.Output.Err = "unavailable"
				ops = append(ops, op)
				continue
			}
		}
		op.Output = store.apply(key, in)
		ops = append(ops, op)
	}
	slices.SortStableFunc(ops, func(a, b Op) int { return int(a.Call - b.Call) })
	for i := range ops {
		ops[i].ID = i
	}
	return genAppendReports(t, History{Model: model, Init: init, Ops: ops})
}

// The ops the checker leaves out change no verdict: on small histories,
// right or corrupted, it agrees with porcupine searching every op that did
// not fail definitely, reads that never returned included.
func TestPropertyDroppedOpsChangeNoVerdict(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := genHistory(t, genOpts{concurrent: true})
		for i := range h.Ops {
			op := &h.Ops[i]
			if (op.Input.Kind == KindGet || op.Input.Kind == KindRead) && rapid.IntRange(0, 3).Draw(t, "openRead") == 0 {
				op.Unknown, op.Return = true, 0
				op.Output = Output{Value: rapid.SampledFrom([]string{"", "1", "x"}).Draw(t, "openValue"), Found: rapid.Bool().Draw(t, "openFound")}
			}
		}
		if len(h.Ops) > 0 && rapid.Bool().Draw(t, "corrupt") {
			op := &h.Ops[rapid.IntRange(0, len(h.Ops)-1).Draw(t, "corrupted")]
			op.Output.Value = rapid.SampledFrom([]string{"", "1", "12", "x"}).Draw(t, "corruptValue")
			op.Output.Found = rapid.Bool().Draw(t, "corruptFound")
			op.Output.OK = rapid.Bool().Draw(t, "corruptOK")
		}
		var all []porcupine.Operation
		end := h.end()
		for i := range h.Ops {
			op := &h.Ops[i]
			if !op.Unknown && op.Output.Err != "" {
				continue
			}
			ret := op.Return
			if op.Unknown {
				ret = end
			}
			all = append(all, porcupine.Operation{ClientId: op.Client, Input: op, Call: op.Call, Return: ret})
		}
		want := porcupine.CheckOperations(porcupineModel(h.Init), all)
		got := Linearizable{}.Check(h, Options{}).Verdict
		require.Equal(t, map[bool]Verdict{true: Pass, false: Fail}[want], got)
	})
}

func TestPropertySequentialIsLinearizable(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := genHistory(t, genOpts{})
		res := Linearizable{}.Check(h, Options{})
		require.Equal(t, Pass, res.Verdict, res.Explanation)
	})
}

func TestPropertyConcurrentIsLinearizable(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := genHistory(t, genOpts{concurrent: true})
		res := Linearizable{}.Check(h, Options{})
		require.Equal(t, Pass, res.Verdict, res.Explanation)
	})
}

// Changing one read to a value nobody wrote makes a history fail; in a
// sequential history the failure names that read. Checking again says the
// same.
func TestPropertyImpossibleReadFails(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		concurrent := rapid.Bool().Draw(t, "concurrent")
		h := genHistory(t, genOpts{concurrent: concurrent})
		var reads []int
		for _, op := range h.Ops {
			if (op.Input.Kind == KindGet || op.Input.Kind == KindRead) && !op.Unknown && op.Output.Err == "" {
				reads = append(reads, op.ID)
			}
		}
		if len(reads) == 0 {
			t.Skip("no read to change")
		}
		id := rapid.SampledFrom(reads).Draw(t, "read")
		h.Ops[id].Output = Output{Value: "never written", Found: true}
		res := Linearizable{}.Check(h, Options{})
		require.Equal(t, Fail, res.Verdict, res.Explanation)
		if !concurrent {
			require.Contains(t, res.Ops, id, res.Explanation)
		}
		again := Linearizable{}.Check(h, Options{})
		require.Equal(t, res.Explanation, again.Explanation)
		require.Equal(t, res.Ops, again.Ops)
	})
}

// genAnyHistory draws a structurally valid history with arbitrary strings
// and stamps, for format round trips.
func genAnyHistory(t *rapid.T) History {
	h := History{Model: rapid.SampledFrom([]string{"", "kv"}).Draw(t, "model")}
	if rapid.Bool().Draw(t, "init") {
		v := rapid.String().Draw(t, "initValue")
		h.Init = &v
	}
	kinds := []string{KindGet, KindPut, KindAppend, KindDelete, KindCAS}
	if h.Model == "" {
		kinds = append(kinds, KindRead, KindWrite, "custom-kind")
	}
	n := rapid.IntRange(0, 12).Draw(t, "ops")
	for i := range n {
		call := rapid.Int64Range(-1<<40, 1<<40).Draw(t, "call")
		op := Op{
			ID:     i,
			Client: rapid.Int().Draw(t, "client"),
			Key:    rapid.String().Draw(t, "key"),
			Input: Input{
				Kind:         rapid.SampledFrom(kinds).Draw(t, "kind"),
				Value:        rapid.String().Draw(t, "value"),
				Expected:     rapid.String().Draw(t, "expected"),
				ExpectAbsent: rapid.Bool().Draw(t, "expectAbsent"),
			},
			Output: Output{
				Value: rapid.String().Draw(t, "outValue"),
				Found: rapid.Bool().Draw(t, "found"),
				OK:    rapid.Bool().Draw(t, "ok"),
				Err:   rapid.String().Draw(t, "err"),
			},
			Call:    call,
			Return:  call + rapid.Int64Range(0, 1<<40).Draw(t, "duration"),
			Unknown: rapid.Bool().Draw(t, "unknown"),
		}
		if op.Unknown && rapid.Bool().Draw(t, "neverReturned") {
			op.Return = 0
		}
		h.Ops = append(h.Ops, op)
	}
	return h
}

func TestPropertyJSONRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := genAnyHistory(t)
		var buf bytes.Buffer
		require.NoError(t, WriteJSON(&buf, h))
		first := buf.String()
		back, err := ParseJSON(&buf)
		require.NoError(t, err, first)
		require.Equal(t, h, back)
		buf.Reset()
		require.NoError(t, WriteJSON(&buf, back))
		require.Equal(t, first, buf.String())
	})
}
