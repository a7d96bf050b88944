package raftkv

import (
	"fmt"
	"sort"
	"time"

	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

// Op is one key-value workload operation, in the plan as written. Kind is
// one of the checkers' key-value kinds, the one vocabulary shared by the
// workload, the history and the porcupine model.
type Op struct {
	scenarios.OpTiming
	Kind     string `json:"kind"`
	Key      string `json:"key"`
	Value    string `json:"value,omitempty"`
	Expected string `json:"expected,omitempty"`
	Absent   bool   `json:"absent,omitempty"` // cas: expect the key absent
}

// OpKinds lists the key-value operation kinds.
var OpKinds = []string{checkers.KindGet, checkers.KindPut, checkers.KindDelete, checkers.KindCAS, checkers.KindAppend}

// Spec shapes a key-value workload.
type Spec struct {
	Clients  int
	Keys     int
	MaxOps   int
	Duration time.Duration // operations start in the first 90% of it
}

// DrawOps draws a key-value workload. Written values are unique, which
// makes linearizability checks sharp; a CAS expects a value written before
// it or an absent key; appends, not being idempotent, expose operations
// applied twice.
func DrawOps(t *rapid.T, spec Spec) []Op {
	n := rapid.IntRange(max(1, spec.MaxOps/3), spec.MaxOps).Draw(t, "ops")
	window := int64(spec.Duration) * 9 / 10 / int64(time.Millisecond)
	ops := make([]Op, 0, n)
	var written []string
	for i := 0; i < n; i++ {
		op := Op{
			OpTiming: scenarios.OpTiming{
				Client: rapid.IntRange(0, spec.Clients-1).Draw(t, "client"),
				At:     sim.Duration(time.Duration(rapid.Int64Range(0, window).Draw(t, "at")) * time.Millisecond),
			},
			Kind: rapid.SampledFrom([]string{checkers.KindGet, checkers.KindGet, checkers.KindPut, checkers.KindAppend, checkers.KindCAS, checkers.KindDelete}).Draw(t, "kind"),
			Key:  fmt.Sprintf("k%d", rapid.IntRange(0, spec.Keys-1).Draw(t, "key")),
		}
		switch op.Kind {
		case checkers.KindPut:
			op.Value = fmt.Sprintf("v%d", i)
			written = append(written, op.Value)
		case checkers.KindAppend:
			op.Value = fmt.Sprintf("a%d;", i)
		case checkers.KindCAS:
			op.Value = fmt.Sprintf("v%d", i)
			if len(written) == 0 || rapid.IntRange(0, 3).Draw(t, "cas-absent") == 0 {
				op.Absent = true
			} else {
				op.Expected = rapid.SampledFrom(written).Draw(t, "expected")
			}
			written = append(written, op.Value)
		}
		ops = append(ops, op)
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].At < ops[j].At })
	return ops
}

// input is the operation as the history records it.
func (op Op) input() checkers.Input {
	return checkers.Input{Kind: op.Kind, Value: op.Value, Expected: op.Expected, ExpectAbsent: op.Absent}
}
