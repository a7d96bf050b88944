package elle

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func ap(k, v string) Mop            { return Mop{Kind: Append, Key: k, Value: v} }
func rl(k string, vs ...string) Mop { return Mop{Kind: Read, Key: k, List: append([]string{}, vs...)} }
func wr(k, v string) Mop            { return Mop{Kind: Write, Key: k, Value: v} }
func rr(k, v string) Mop {
	if v == "nil" {
		return Mop{Kind: Read, Key: k, Nil: true}
	}
	return Mop{Kind: Read, Key: k, Value: v}
}

// seq builds committed transactions that run one after another (in real
// time), except those given as concurrent, which all overlap.
func seq(mops ...[]Mop) []Txn {
	txns := make([]Txn, len(mops))
	for i, m := range mops {
		txns[i] = Txn{ID: i, Process: i, Status: OK, Call: int64(2*i + 1), Return: int64(2*i + 2), Mops: m}
	}
	return txns
}

// overlapping builds committed transactions that all overlap in time.
func overlapping(mops ...[]Mop) []Txn {
	txns := make([]Txn, len(mops))
	for i, m := range mops {
		txns[i] = Txn{ID: i, Process: i, Status: OK, Call: int64(i + 1), Return: int64(len(mops) + i + 1), Mops: m}
	}
	return txns
}

type planted struct {
	name   string
	model  Model
	txns   []Txn
	want   string   // the anomaly type that must be named
	words  []string // in its explanation
	allows []string // the models it does not rule out
	wfr    bool
}

func plantedAnomalies() []planted {
	failed := overlapping([]Mop{ap("x", "1")}, []Mop{rl("x", "1")})
	failed[0].Status = Fail
	failedReg := overlapping([]Mop{wr("x", "1")}, []Mop{rr("x", "1")})
	failedReg[0].Status = Fail
	return []planted{
		{"G0", ListAppend, overlapping(
			[]Mop{ap("x", "1"), ap("y", "1")}, []Mop{ap("x", "2"), ap("y", "2")},
			[]Mop{rl("x", "1", "2")}, []Mop{rl("y", "2", "1")}), G0, []string{"appended 1 to x", "appended 2 after it"}, nil, false},
		{"G1a", ListAppend, failed, G1a, []string{"failed"}, []string{"read-uncommitted"}, false},
		{"G1a register", RWRegister, failedReg, G1a, []string{"failed"}, []string{"read-uncommitted"}, false},
		{"G1b", ListAppend, overlapping([]Mop{ap("x", "1"), ap("x", "2")}, []Mop{rl("x", "1")}), G1b, []string{"intermediate"}, []string{"read-uncommitted"}, false},
		{"G1b register", RWRegister, overlapping([]Mop{wr("x", "1"), wr("x", "2")}, []Mop{rr("x", "1")}), G1b, []string{"intermediate"}, []string{"read-uncommitted"}, false},
		{"G1c", ListAppend, overlapping([]Mop{ap("x", "1"), rl("y", "1")}, []Mop{ap("y", "1"), rl("x", "1")}), G1c, []string{"read x = [1], which ends with it"}, []string{"read-uncommitted"}, false},
		{"G-single", ListAppend, overlapping([]Mop{ap("x", "1"), ap("y", "1")}, []Mop{rl("x"), rl("y", "1")}), GSingle, []string{"T1 read x = [], without 1, which T0 appended next"}, []string{"read-uncommitted", "read-committed"}, false},
		{"G-single register", RWRegister, overlapping([]Mop{wr("x", "1"), wr("y", "1")}, []Mop{rr("x", "nil"), rr("y", "1")}), GSingle, []string{"T1 read x = nil and T0 wrote the next version, x = 1"}, []string{"read-uncommitted", "read-committed"}, false},
		{"G2-item", ListAppend, overlapping([]Mop{rl("x"), ap("y", "1")}, []Mop{rl("y"), ap("x", "1")}, []Mop{rl("x", "1"), rl("y", "1")}), G2Item, []string{"G2-item"}, []string{"read-uncommitted", "read-committed", "snapshot-isolation"}, false},
		{"lost update", ListAppend, overlapping([]Mop{rl("x"), ap("x", "1")}, []Mop{rl("x"), ap("x", "2")}, []Mop{rl("x", "1", "2")}), LostUpdate, []string{"T0 and T1 both read x = []"}, []string{"read-uncommitted", "read-committed"}, false},
		{"lost update register", RWRegister, overlapping([]Mop{rr("x", "nil"), wr("x", "1")}, []Mop{rr("x", "nil"), wr("x", "2")}), LostUpdate, []string{"both read x = nil"}, []string{"read-uncommitted", "read-committed"}, false},
		{"internal", ListAppend, overlapping([]Mop{ap("x", "1"), rl("x")}), Internal, []string{"does not end with its own appends"}, []string{"read-uncommitted", "read-committed", "repeatable-read"}, false},
		{"internal register", RWRegister, overlapping([]Mop{wr("x", "1"), rr("x", "2")}, []Mop{wr("x", "2")}), Internal, []string{"its own earlier reads and writes say x = 1"}, []string{"read-uncommitted", "read-committed", "repeatable-read"}, false},
		{"duplicate elements", ListAppend, overlapping([]Mop{ap("x", "1")}, []Mop{rl("x", "1", "1")}), DuplicateElement, []string{"more than once"}, nil, false},
		{"incompatible order", ListAppend, overlapping([]Mop{ap("x", "1")}, []Mop{ap("x", "2")}, []Mop{rl("x", "1", "2")}, []Mop{rl("x", "2", "1")}), IncompatibleOrder, []string{"neither is a prefix"}, []string{"read-uncommitted"}, false},
		{"cyclic versions", RWRegister, overlapping([]Mop{rr("x", "2"), wr("x", "1")}, []Mop{rr("x", "1"), wr("x", "2")}), CyclicVersions, []string{"cycle"}, nil, true},
		{"G-single-realtime", ListAppend, seq([]Mop{ap("x", "1")}, []Mop{rl("x")}, []Mop{rl("x", "1")}), GSingleRealtime, []string{"T0 completed before T1 began"}, []string{"read-uncommitted", "read-committed", "repeatable-read", "snapshot-isolation", "serializable"}, false},
		{"garbage", ListAppend, overlapping([]Mop{rl("x", "9")}), GarbageRead, []string{"no transaction appended 9"}, nil, false},
	}
}

func types(res Result) []string { return res.Types }

// Each planted anomaly is found, named and explained, rules out exactly
// the models stronger than the strongest that allows it, and stays found
// when the history around it is a random valid one.
func TestPlantedAnomalies(t *testing.T) {
	for _, p := range plantedAnomalies() {
		t.Run(p.name, func(t *testing.T) {
			res, err := Check(p.txns, Options{Model: p.model, WFRKeys: p.wfr})
			require.NoError(t, err)
			require.Contains(t, res.Types, p.want, res.Explanation)
			assert.False(t, res.Valid)
			var found *Anomaly
			for i := range res.Anomalies {
				if res.Anomalies[i].Type == p.want {
					found = &res.Anomalies[i]
					break
				}
			}
			require.NotNil(t, found)
			for _, w := range p.words {
				assert.Contains(t, found.Explanation, w)
			}
			for _, m := range consistencyModels {
				r, err := Check(p.txns, Options{Model: p.model, Consistency: m, WFRKeys: p.wfr})
				require.NoError(t, err)
				allowed := slices.Contains(p.allows, m)
				assert.Equal(t, allowed, r.Valid, "%s under %s: %v", p.name, m, r.Types)
				assert.Equal(t, !allowed, slices.Contains(r.RuledOut, m), "%s under %s: %v", p.name, m, r.RuledOut)
			}
		})
	}
	rapid.Check(t, func(rt *rapid.T) {
		p := rapid.SampledFrom(plantedAnomalies()).Draw(rt, "anomaly")
		bg := concurrentHistory(rapidDraw(rt), p.model, rapid.IntRange(0, 30).Draw(rt, "n"), 3, 3)
		txns := embed(bg, p.txns)
		res, err := Check(txns, Options{Model: p.model, WFRKeys: p.wfr})
		require.NoError(rt, err)
		require.Contains(rt, res.Types, p.want, "%s in %v", p.name, res.Types)
	})
}

// embed appends the planted transactions after a background history, on
// keys of their own (prefixed) and later in time.
func embed(bg, planted []Txn) []Txn {
	out := append([]Txn{}, bg...)
	var end int64
	for _, t := range bg {
		end = max(end, t.Call, t.Return)
	}
	for _, t := range planted {
		t.ID = len(out)
		t.Process += 1000
		t.Call += end
		t.Return += end
		mops := make([]Mop, len(t.Mops))
		for i, m := range t.Mops {
			m.Key = "planted-" + m.Key
			mops[i] = m
		}
		t.Mops = mops
		out = append(out, t)
	}
	return out
}

// Histories from serial executions, and from concurrent ones whose
// transactions take effect atomically inside their intervals, have no
// anomalies at all: they are strictly serializable.
func TestValidHistoriesPass(t *testing.T) {
	for _, model := range []Model{ListAppend, RWRegister} {
		t.Run(string(model), func(t *testing.T) {
			rapid.Check(t, func(rt *rapid.T) {
				var txns []Txn
				if rapid.Bool().Draw(rt, "serial") {
					txns = serialHistory(rapidDraw(rt), model, rapid.IntRange(0, 40).Draw(rt, "n"), rapid.IntRange(1, 4).Draw(rt, "keys"))
				} else {
					txns = concurrentHistory(rapidDraw(rt), model, rapid.IntRange(0, 40).Draw(rt, "n"), rapid.IntRange(1, 4).Draw(rt, "keys"), rapid.IntRange(1, 5).Draw(rt, "procs"))
				}
				for _, wfr := range []bool{false, true} {
					res, err := Check(txns, Options{Model: model, WFRKeys: wfr, LinearizableKeys: wfr})
					require.NoError(rt, err)
					require.True(rt, res.Valid, "%s\n%v", res.Explanation, res.Anomalies)
					require.Empty(rt, res.Types)
				}
			})
		})
	}
}

func TestCheckErrors(t *testing.T) {
	_, err := Check(nil, Options{Model: "bank"})
	assert.ErrorContains(t, err, `unknown transactional model "bank"`)
	_, err = Check(nil, Options{Model: ListAppend, Consistency: "linearizable"})
	assert.ErrorContains(t, err, `unknown consistency model "linearizable"`)
	_, err = Check(seq([]Mop{wr("x", "1")}), Options{Model: ListAppend})
	assert.ErrorContains(t, err, "check it with --model rw-register")
	_, err = Check(seq([]Mop{ap("x", "1")}, []Mop{ap("x", "1")}), Options{Model: ListAppend})
	assert.ErrorContains(t, err, "unique values")
	_, err = Check([]Txn{{ID: 3}}, Options{Model: ListAppend})
	assert.ErrorContains(t, err, "ids must be indexes")
}

// The cycle explanation walks the cycle in words, as in Elle's reports.
func TestCycleExplanation(t *testing.T) {
	res, err := Check(overlapping([]Mop{ap("x", "3"), ap("y", "1")}, []Mop{rl("x"), rl("y", "1")}), Options{Model: ListAppend, Consistency: "serializable"})
	require.NoError(t, err)
	require.Len(t, res.Anomalies, 1)
	a := res.Anomalies[0]
	assert.Equal(t, GSingle, a.Type)
	assert.Equal(t, []int{0, 1}, a.Txns)
	require.Len(t, a.Cycle, 2)
	assert.True(t, strings.Contains(a.Explanation, "T0 appended 1 to y and T1 read y = [1], which ends with it, so T0 precedes T1 (wr)") &&
		strings.Contains(a.Explanation, "T1 read x = [], without 3, which T0 appended next, so T1 precedes T0 (rw)"), a.Explanation)
	assert.Contains(t, a.Explanation, "exactly one read-write anti-dependency (G-single")
	assert.Equal(t, []string{"repeatable-read", "snapshot-isolation", "serializable", "strict-serializable"}, res.RuledOut)
}

// BenchmarkListAppend100k checks 100,000 concurrent list-append
// transactions (a strictly serializable history) for strict
// serializability.
func BenchmarkListAppend100k(b *testing.B) {
	txns := concurrentHistory(randDraw(1), ListAppend, 100_000, 1000, 20)
	for b.Loop() {
		res, err := Check(txns, Options{Model: ListAppend})
		if err != nil || !res.Valid {
			b.Fatal(err, res.Explanation)
		}
	}
}

func BenchmarkRWRegister100k(b *testing.B) {
	txns := concurrentHistory(randDraw(1), RWRegister, 100_000, 1000, 20)
	for b.Loop() {
		res, err := Check(txns, Options{Model: RWRegister, WFRKeys: true})
		if err != nil || !res.Valid {
			b.Fatal(err, res.Explanation)
		}
	}
}

// Appends no read has seen come after the longest read: here y's longest
// read [2] misses the committed append of 1, so T4 (which read y = [2])
// precedes T0, and T1 (which appended 2) precedes T0 on y while T0
// precedes T1 on x: G0 and G-single.
func TestUnreadAppendsFollowTheLongestRead(t *testing.T) {
	txns := overlapping(
		[]Mop{ap("x", "1"), ap("y", "1")},
		[]Mop{ap("x", "2"), ap("y", "2")},
		[]Mop{ap("x", "3"), ap("y", "3")},
		[]Mop{rl("x", "1", "2")},
		[]Mop{rl("y", "2")},
	)
	res, err := Check(txns, Options{Model: ListAppend, Consistency: "serializable"})
	require.NoError(t, err)
	assert.Equal(t, []string{G0, GSingle}, res.Types)
	assert.Equal(t, []string{"read-uncommitted", "read-committed", "repeatable-read", "snapshot-isolation", "serializable", "strict-serializable"}, res.RuledOut)
	for _, a := range res.Anomalies {
		if a.Type == G0 {
			assert.Equal(t, []int{0, 1}, a.Txns)
		}
		if a.Type == GSingle {
			assert.Equal(t, []int{0, 1, 4}, a.Txns)
		}
	}
}

// With linearizable keys, real time orders a register's versions: T1
// wrote x = 2 after T0's x = 1 completed, so T2's read of x = 1 precedes
// T1, while it saw T1's y = 2: G-single. Without the assumption the
// order of 1 and 2 is unknown and nothing is found; a read of the
// initial state after a write completed is a cyclic version order.
func TestLinearizableKeys(t *testing.T) {
	txns := []Txn{
		{ID: 0, Process: 0, Status: OK, Call: 1, Return: 2, Mops: []Mop{wr("x", "1")}},
		{ID: 1, Process: 1, Status: OK, Call: 3, Return: 4, Mops: []Mop{wr("x", "2"), wr("y", "2")}},
		{ID: 2, Process: 2, Status: OK, Mops: []Mop{rr("x", "1"), rr("y", "2")}, Return: 5},
	}
	res, err := Check(txns, Options{Model: RWRegister, Consistency: "serializable"})
	require.NoError(t, err)
	assert.True(t, res.Valid, res.Explanation)
	res, err = Check(txns, Options{Model: RWRegister, Consistency: "serializable", LinearizableKeys: true})
	require.NoError(t, err)
	assert.Equal(t, []string{GSingle}, res.Types)

	stale := []Txn{
		{ID: 0, Process: 0, Status: OK, Call: 1, Return: 2, Mops: []Mop{wr("x", "1")}},
		{ID: 1, Process: 1, Status: OK, Call: 3, Return: 4, Mops: []Mop{rr("x", "nil")}},
	}
	res, err = Check(stale, Options{Model: RWRegister, LinearizableKeys: true})
	require.NoError(t, err)
	assert.Equal(t, []string{CyclicVersions}, res.Types)
}
