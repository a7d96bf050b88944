package checkers

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

const sec = int64(1e9)

func TestLiveness(t *testing.T) {
	before := put(0, "k", "1", 1*sec, 2*sec)        // ended before heal: not judged
	gaveUp := unknown(put(1, "k", "2", 3*sec, 0))   // client gave up before heal
	gaveUp.Return = 5 * sec                         //
	spanning := put(2, "k", "3", 8*sec, 12*sec)     // pending at heal (10s), done by 15s
	after := get(3, "k", "3", true, 11*sec, 14*sec) // invoked after heal, due 16s
	late := get(4, "k", "3", true, 11*sec, 17*sec)  // due 16s, returned 17s
	stuck := unknown(put(5, "k", "4", 9*sec, 0))    // pending at heal, never completed
	errored := Op{Client: 6, Key: "k", Input: Input{Kind: KindGet}, Output: Output{Err: "unavailable"}, Call: 12 * sec, Return: 13 * sec}
	l := Liveness{HealedAt: 10 * sec, Bound: 5 * sec}

	res := l.Check(hist("kv", nil, before, gaveUp, spanning, after, errored), Options{})
	assert.Equal(t, Pass, res.Verdict, res.Explanation)
	assert.Equal(t, "all 3 ops due after faults healed at 10s finished within 5s", res.Explanation)
	assert.Equal(t, "liveness", res.Checker)

	res = l.Check(hist("kv", nil, before, spanning, late, stuck), Options{})
	assert.Equal(t, Fail, res.Verdict)
	assert.Equal(t, []int{2, 3}, res.Ops)
	assert.Equal(t, `2 of 3 ops due after faults healed at 10s did not finish within 5s: `+
		`op 2 (client 4) get("k") -> "3" invoked at 11s returned at 17s, 1s after its deadline 16s; `+
		`op 3 (client 5) put("k", "4") -> ? invoked at 9s never completed (deadline 15s)`, res.Explanation)

	gaveUpLate := unknown(put(7, "k", "5", 11*sec, 0))
	gaveUpLate.Return = 13 * sec
	res = l.Check(hist("kv", nil, gaveUpLate), Options{})
	assert.Equal(t, Fail, res.Verdict)
	assert.Contains(t, res.Explanation, "its client gave up at 13s without an answer (deadline 16s)")

	// The run stopped before the op's deadline: too early to tell.
	res = Liveness{HealedAt: 10 * sec, Bound: 5 * sec, End: 12 * sec}.Check(hist("kv", nil, stuck), Options{})
	assert.Equal(t, Unknown, res.Verdict)
	assert.Contains(t, res.Explanation, "recording stopped at 12s, before the deadlines of 1 of 1 ops")

	res = l.Check(hist("kv", nil, before), Options{})
	assert.Equal(t, Pass, res.Verdict)
	assert.Equal(t, "no op was pending at or invoked after faults healed at 10s", res.Explanation)

	res = Liveness{HealedAt: 10 * sec}.Check(hist("kv", nil, before), Options{})
	assert.Equal(t, Unknown, res.Verdict)
	assert.Contains(t, res.Explanation, "bound must be positive")

	res = l.Check(History{Ops: []Op{{ID: 1, Input: Input{Kind: KindGet}}}}, Options{})
	assert.Equal(t, Unknown, res.Verdict)
	assert.Contains(t, res.Explanation, "invalid history")
}
