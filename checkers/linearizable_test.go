package checkers

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func strp(s string) *string { return &s }

// hist builds a history from ops written without ids.
func hist(model string, init *string, ops ...Op) History {
	for i := range ops {
		ops[i].ID = i
	}
	return History{Model: model, Init: init, Ops: ops}
}

func put(client int, key, v string, call, ret int64) Op {
	return Op{Client: client, Key: key, Input: Input{Kind: KindPut, Value: v}, Call: call, Return: ret}
}

func get(client int, key, v string, found bool, call, ret int64) Op {
	return Op{Client: client, Key: key, Input: Input{Kind: KindGet}, Output: Output{Value: v, Found: found}, Call: call, Return: ret}
}

func unknown(op Op) Op { op.Unknown = true; op.Return = 0; return op }

// appended is an append that reports the value it made (raftkv's append).
func appended(client int, key, suffix, made string, call, ret int64) Op {
	return Op{Client: client, Key: key, Input: Input{Kind: KindAppend, Value: suffix},
		Output: Output{Value: made, Found: true}, Call: call, Return: ret}
}

// A hot key with many concurrent appends and few reads (raftkv-chaos seed
// 524: 144 appends and 44 gets on k0) has more append orders than any
// search can try; the values the appends report pin the order, so the
// check decides it at once. Without them, the same history runs out of
// time.
func TestLinearizableHotAppendsAreDecided(t *testing.T) {
	// Each op takes effect at a point drawn inside its interval, so the
	// order differs from the call order; outputs follow that order.
	rnd := rand.New(rand.NewPCG(524, 0))
	ops := make([]Op, 160)
	points := make([]int64, len(ops))
	for i := range ops {
		call := int64(i) * 10
		ret := call + 400 // about 40 ops in flight at any time
		ops[i] = Op{Client: i, Key: "k0", Input: Input{Kind: KindAppend, Value: fmt.Sprintf("a%d;", i)}, Call: call, Return: ret}
		if i%4 == 0 {
			ops[i].Input = Input{Kind: KindGet}
		}
		points[i] = call + rnd.Int64N(ret-call)
	}
	order := make([]int, len(ops))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(points[a], points[b]) })
	cur := ""
	for _, i := range order {
		if ops[i].Input.Kind == KindAppend {
			cur += ops[i].Input.Value
		}
		ops[i].Output = Output{Value: cur, Found: cur != ""}
	}
	h := hist("kv", nil, ops...)
	start := time.Now()
	res := Linearizable{}.Check(h, Options{TimeLimit: time.Minute})
	require.Equal(t, Pass, res.Verdict, res.Explanation)
	assert.Less(t, time.Since(start), 5*time.Second)

	blind := h
	blind.Ops = slices.Clone(h.Ops)
	for i := range blind.Ops {
		if blind.Ops[i].Input.Kind == KindAppend {
			blind.Ops[i].Output = Output{}
		}
	}
	res = Linearizable{}.Check(blind, Options{TimeLimit: 200 * time.Millisecond})
	assert.Equal(t, Unknown, res.Verdict, "without the reported values the search should not finish: %s", res.Explanation)
}

func TestLinearizableVerdicts(t *testing.T) {
	cases := []struct {
		name string
		h    History
		want Verdict
	}{
		{"read own write", hist("kv", nil, put(0, "k", "1", 0, 10), get(1, "k", "1", true, 20, 30)), Pass},
		{"keys start absent", hist("kv", nil, put(0, "k", "1", 0, 10), get(1, "j", "", true, 20, 30)), Fail},
		{"keys start as init", hist("kv", strp(""), put(0, "k", "1", 0, 10), get(1, "j", "", true, 20, 30)), Pass},
		{"absent read", hist("kv", nil, get(1, "k", "", false, 0, 5), put(0, "k", "1", 10, 20)), Pass},
		{"concurrent write seen either way", hist("kv", nil,
			put(0, "k", "1", 0, 100), get(1, "k", "", false, 10, 20), get(2, "k", "1", true, 30, 40)), Pass},
		{"read goes back in time", hist("kv", nil,
			put(0, "k", "1", 0, 100), get(2, "k", "1", true, 30, 40), get(1, "k", "", false, 50, 60)), Fail},
		{"stale read", hist("kv", nil,
			put(0, "k", "1", 0, 10), put(0, "k", "2", 20, 30), get(1, "k", "1", true, 40, 50)), Fail},
		{"closed intervals touch", hist("kv", nil,
			put(0, "k", "1", 0, 10), get(1, "k", "", false, 10, 20)), Pass},
		{"unknown write may have happened", hist("kv", nil,
			unknown(put(0, "k", "1", 0, 0)), get(1, "k", "1", true, 50, 60)), Pass},
		{"unknown write may not have happened", hist("kv", nil,
			unknown(put(0, "k", "1", 0, 0)), get(1, "k", "", false, 50, 60)), Pass},
		{"unknown write happens at most once", hist("kv", nil,
			unknown(put(0, "k", "1", 0, 0)), get(1, "k", "1", true, 50, 60), get(1, "k", "", false, 70, 80)), Fail},
		{"unknown write stays open to the end", hist("kv", nil,
			get(1, "k", "", false, 50, 60), unknown(put(0, "k", "1", 0, 0)), get(1, "k", "1", true, 70, 80)), Pass},
		{"an unknown cas sees the unknown write it expected", hist("kv", nil,
			unknown(put(0, "k", "1", 0, 0)),
			unknown(Op{Client: 1, Key: "k", Input: Input{Kind: KindCAS, Expected: "1", Value: "2"}, Call: 100}),
			get(2, "k", "2", true, 400, 400)), Pass},
		{"definite failure is skipped", hist("kv", nil,
			Op{Key: "k", Input: Input{Kind: KindPut, Value: "1"}, Output: Output{Err: "not leader"}, Call: 0, Return: 10},
			get(1, "k", "", false, 20, 30)), Pass},
		{"append", hist("kv", nil,
			Op{Key: "k", Input: Input{Kind: KindAppend, Value: "a"}, Call: 0, Return: 10},
			Op{Key: "k", Input: Input{Kind: KindAppend, Value: "b"}, Call: 20, Return: 30},
			get(1, "k", "ab", true, 40, 50)), Pass},
		{"append order", hist("kv", nil,
			Op{Key: "k", Input: Input{Kind: KindAppend, Value: "a"}, Call: 0, Return: 10},
			Op{Key: "k", Input: Input{Kind: KindAppend, Value: "b"}, Call: 20, Return: 30},
			get(1, "k", "ba", true, 40, 50)), Fail},
		{"delete", hist("kv", nil,
			put(0, "k", "1", 0, 10), Op{Key: "k", Input: Input{Kind: KindDelete}, Call: 20, Return: 30},
			get(1, "k", "", false, 40, 50)), Pass},
		{"cas", hist("cas-register", nil,
			Op{Input: Input{Kind: KindCAS, ExpectAbsent: true, Value: "1"}, Output: Output{OK: true}, Call: 0, Return: 10},
			Op{Input: Input{Kind: KindCAS, Expected: "1", Value: "2"}, Output: Output{OK: true}, Call: 20, Return: 30},
			Op{Input: Input{Kind: KindCAS, Expected: "1", Value: "3"}, Output: Output{OK: false}, Call: 40, Return: 50},
			Op{Input: Input{Kind: KindRead}, Output: Output{Value: "2", Found: true}, Call: 60, Return: 70}), Pass},
		{"cas that cannot succeed", hist("cas-register", nil,
			Op{Input: Input{Kind: KindWrite, Value: "1"}, Call: 0, Return: 10},
			Op{Input: Input{Kind: KindCAS, Expected: "3", Value: "4"}, Output: Output{OK: true}, Call: 20, Return: 30}), Fail},
		{"failed cas that should have succeeded", hist("cas-register", nil,
			Op{Input: Input{Kind: KindWrite, Value: "1"}, Call: 0, Return: 10},
			Op{Input: Input{Kind: KindCAS, Expected: "1", Value: "4"}, Output: Output{OK: false}, Call: 20, Return: 30}), Fail},
		{"append reports the value it made", hist("kv", nil,
			appended(0, "k", "a", "a", 0, 100), appended(1, "k", "b", "ab", 0, 100)), Pass},
		{"append reports a value no order makes", hist("kv", nil,
			appended(0, "k", "a", "a", 0, 100), appended(1, "k", "b", "b", 0, 100)), Fail},
		{"append result pins the order reads see", hist("kv", nil,
			appended(0, "k", "a", "ba", 0, 100), appended(1, "k", "b", "b", 0, 100), get(2, "k", "ab", true, 110, 120)), Fail},
		{"unknown append's reported value means nothing", hist("kv", nil,
			unknown(appended(0, "k", "a", "zzz", 0, 0)), get(1, "k", "a", true, 50, 60)), Pass},
		{"unknown write nothing observed is skipped", hist("kv", nil,
			put(0, "k", "1", 0, 10), unknown(put(1, "k", "2", 5, 0)), get(2, "k", "1", true, 20, 30)), Pass},
		{"a failed cas may have seen an unobserved unknown write", hist("kv", nil,
			put(0, "k", "1", 0, 10), unknown(put(1, "k", "2", 15, 0)),
			Op{Client: 2, Key: "k", Input: Input{Kind: KindCAS, Expected: "1", Value: "3"}, Output: Output{OK: false}, Call: 20, Return: 30}), Pass},
		{"read that never returned is skipped", hist("kv", nil,
			unknown(get(1, "k", "never", true, 0, 0)), put(0, "k", "1", 10, 20), get(1, "k", "1", true, 30, 40)), Pass},
		{"one bad key fails the history", hist("kv", nil,
			put(0, "a", "1", 0, 10), get(1, "a", "1", true, 20, 30),
			put(0, "b", "1", 0, 10), get(1, "b", "2", true, 20, 30)), Fail},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := Linearizable{}.Check(c.h, Options{})
			assert.Equal(t, c.want, res.Verdict, res.Explanation)
			assert.Equal(t, "linearizable", res.Checker)
			if c.want == Fail {
				assert.NotEmpty(t, res.Ops)
			}
		})
	}
}

func TestLinearizableExplanation(t *testing.T) {
	h := hist("kv", nil,
		put(0, "k", "1", 0, 10), put(0, "k", "2", 20, 30), get(1, "k", "1", true, 40, 50),
		put(0, "j", "1", 0, 10))
	res := Linearizable{}.Check(h, Options{})
	require.Equal(t, Fail, res.Verdict)
	assert.Equal(t, []int{1, 2}, res.Ops, "the read and the write it contradicts")
	assert.Equal(t, `not linearizable: 1 key of 2 keys has no legal order. Key "k": no order of its 3 ops is legal; `+
		`the longest legal prefix places 2 of them and leaves "2" (set by op 1 (client 0) put("k", "2")), `+
		`which none of the ops that must come next can follow: op 2 (client 1) get("k") -> "1".`, res.Explanation)

	for range 5 {
		again := Linearizable{}.Check(h, Options{TimeLimit: time.Minute})
		assert.Equal(t, res.Explanation, again.Explanation)
		assert.Equal(t, res.Ops, again.Ops)
	}
}

func TestLinearizableUnjudgeable(t *testing.T) {
	ok := hist("kv", nil, put(0, "k", "1", 0, 10))
	for name, c := range map[string]struct {
		checker Linearizable
		h       History
		want    string
	}{
		"no model":      {Linearizable{}, History{Ops: ok.Ops}, "no model"},
		"unknown model": {Linearizable{Model: "kvv"}, ok, `unknown model "kvv" (available: cas-register, kv, mutex)`},
		"wrong kind":    {Linearizable{Model: "cas-register"}, ok, `model cas-register has no operation "put"`},
		"bad id":        {Linearizable{}, History{Model: "kv", Ops: []Op{{ID: 3, Input: Input{Kind: KindGet}}}}, "ids must be indexes"},
		"return first":  {Linearizable{}, hist("kv", nil, put(0, "k", "1", 10, 5)), "before its call"},
	} {
		t.Run(name, func(t *testing.T) {
			res := c.checker.Check(c.h, Options{})
			assert.Equal(t, Unknown, res.Verdict)
			assert.Contains(t, res.Explanation, c.want)
		})
	}
}

func TestLinearizableEmpty(t *testing.T) {
	res := Linearizable{Model: "kv"}.Check(History{}, Options{})
	assert.Equal(t, Pass, res.Verdict)
	assert.Contains(t, res.Explanation, "nothing to check")
}

// A time limit that has run out before the search gives unknown, never pass.
func TestLinearizableTimeLimit(t *testing.T) {
	h := hist("kv", nil, put(0, "k", "1", 0, 10), get(1, "k", "1", true, 20, 30))
	res := Linearizable{}.Check(h, Options{TimeLimit: time.Nanosecond})
	assert.Equal(t, Unknown, res.Verdict)
	assert.Contains(t, res.Explanation, `time limit 1ns ran out with 1 of 1 keys undecided (key "k")`)
}

// The step budget rounds must still reach a verdict on a key whose search
// is longer than the first budget.
func TestLinearizableBudgetRounds(t *testing.T) {
	var ops []Op
	// 12 concurrent writes, then an impossible read: many orders to try.
	for i := range 12 {
		ops = append(ops, put(i, "k", string(rune('a'+i)), 0, 100))
	}
	ops = append(ops, get(20, "k", "z", true, 200, 210))
	h := hist("kv", nil, ops...)
	_, byKey, _ := porcupineOps(h)
	assert.Equal(t, porcupine.Unknown, checkKey(nil, byKey["k"], firstBudget, 0), "needs more than one round")
	assert.Equal(t, porcupine.Illegal, checkKey(nil, byKey["k"], 1<<40, 0))
	res := Linearizable{}.Check(h, Options{})
	assert.Equal(t, Fail, res.Verdict, res.Explanation)
	assert.Contains(t, res.Explanation, `op 12 (client 20) get("k") -> "z"`)
}

func TestLinearizationVisualize(t *testing.T) {
	for _, h := range []History{
		hist("kv", nil, put(0, "k", "1", 0, 10), get(1, "k", "1", true, 20, 30)),
		hist("kv", nil, put(0, "k", "1", 0, 10), get(1, "k", "2", true, 20, 30), unknown(put(7, "k", "3", 25, 0))),
	} {
		res := Linearizable{}.Check(h, Options{})
		require.NotNil(t, res.Linearization)
		var buf bytes.Buffer
		err := res.Linearization.Visualize(&buf, porcupine.Annotation{Tag: "nemesis", Start: 5, End: 15, Description: "partition"})
		require.NoError(t, err)
		assert.Contains(t, buf.String(), "<html")
		assert.Contains(t, buf.String(), "partition")
		info := res.Linearization.Info()
		assert.NotEmpty(t, info.PartialLinearizations())
		assert.NotNil(t, res.Linearization.Model().Partition)
	}
}

func TestModelByName(t *testing.T) {
	m, err := ModelByName("kv")
	require.NoError(t, err)
	assert.Equal(t, []string{"get", "put", "append", "delete", "cas"}, m.Kinds)
	_, err = ModelByName("cas-register")
	require.NoError(t, err)
	_, err = ModelByName("etcd")
	assert.EqualError(t, err, `unknown model "etcd" (available: cas-register, kv, mutex)`)
	models := Models()
	models[0].Kinds[0] = "mutated"
	assert.Equal(t, KindRead, Models()[0].Kinds[0], "Models returns copies")
}

func TestVerdictJSON(t *testing.T) {
	b, err := json.Marshal(Result{Checker: "x", Verdict: Fail, Explanation: "why", Ops: []int{1}})
	require.NoError(t, err)
	assert.Equal(t, `{"checker":"x","verdict":"fail","explanation":"why","ops":[1]}`, string(b))
	var r Result
	require.NoError(t, json.Unmarshal(b, &r))
	assert.Equal(t, Fail, r.Verdict)
	err = json.Unmarshal([]byte(`{"verdict":"passed"}`), &r)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "want pass, fail or unknown")
}

func TestHistoryValidate(t *testing.T) {
	assert.NoError(t, hist("kv", nil, put(0, "k", "1", 0, 10)).Validate())
	assert.NoError(t, hist("", nil, put(0, "k", "1", 0, 10)).Validate())
	err := hist("cas-register", nil, put(0, "k", "1", 0, 10)).Validate()
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "op 0: model cas-register has no operation"), err.Error())
	assert.Error(t, hist("nope", nil).Validate())
	assert.Error(t, hist("kv", nil, Op{}).Validate())
}

// Porcupine draws a row per client id from 0, so huge ids are renumbered.
func TestPorcupineClientRows(t *testing.T) {
	ids := func(h History) []int {
		keys, byKey, _ := porcupineOps(h)
		var out []int
		for _, o := range collect(byKey, keys) {
			out = append(out, o.ClientId)
		}
		return out
	}
	assert.Equal(t, []int{3, 7}, ids(hist("kv", nil, put(3, "k", "1", 0, 1), put(7, "k", "1", 0, 1))))
	assert.Equal(t, []int{1, 0, 1}, ids(hist("kv", nil, put(5000, "k", "1", 0, 1), put(7, "k", "1", 0, 1), put(5000, "k", "1", 0, 1))))
}

// An unknown verdict says why in its typed cause.
func TestLinearizableUnknownCause(t *testing.T) {
	bad := hist("kv", nil, Op{Key: "k", Input: Input{Kind: KindRead}, Call: 0, Return: 1})
	res := Linearizable{}.Check(bad, Options{})
	require.Equal(t, Unknown, res.Verdict, res.Explanation)
	assert.Equal(t, CauseUnjudgeable, res.Cause)

	h := hist("kv", nil, put(0, "k", "1", 0, 10), get(1, "k", "1", true, 20, 30))
	res = Linearizable{}.Check(h, Options{TimeLimit: time.Nanosecond})
	require.Equal(t, Unknown, res.Verdict, res.Explanation)
	assert.Equal(t, CauseTimeLimit, res.Cause)

	res = Linearizable{}.Check(h, Options{})
	require.Equal(t, Pass, res.Verdict)
	assert.Empty(t, res.Cause)
}

// unseen drops an unknown write unless its value was observed: exactly on
// a register key, inside a list on a key with appends.
func TestUnseenWrites(t *testing.T) {
	h := hist("kv", nil,
		unknown(put(0, "r", "1", 0, 0)), get(1, "r", "12", true, 10, 20), // "1" never read alone
		unknown(put(0, "s", "7", 0, 0)), get(1, "s", "7", true, 10, 20), // read exactly
		Op{Client: 2, Key: "l", Input: Input{Kind: KindAppend, Value: "a"}, Call: 0, Return: 10},
		unknown(Op{Client: 3, Key: "l", Input: Input{Kind: KindAppend, Value: "b"}}), get(1, "l", "ab", true, 30, 40),
		unknown(Op{Client: 4, Key: "l", Input: Input{Kind: KindAppend, Value: "z"}}))
	for i := range h.Ops {
		h.Ops[i].ID = i
	}
	assert.Equal(t, map[int]bool{0: true, 7: true}, unseen(h))
}
