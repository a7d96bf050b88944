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
	// Patience, on a read, is how long its client waits before giving up
	// (0: the default op timeout): an impatient caller moves on while the
	// servers may still answer, so late answers meet the next request.
	// Only reads: a read given up on constrains nothing, where many open
	// writes would make the linearizability search explode.
	Patience sim.Duration `json:"patience,omitempty"`
}

// OpKinds lists the key-value operation kinds.
var OpKinds = []string{checkers.KindGet, checkers.KindPut, checkers.KindDelete, checkers.KindCAS, checkers.KindAppend}

// KindTransferLeader is an operator's request to move leadership to the
// member named by Value: part of the nemesis (drawHandoffCrashes), run at
// its time on the client's admin session and kept out of the key-value
// history.
const KindTransferLeader = "transfer-leader"

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
	mix := DrawMix(t, spec)
	n := rapid.IntRange(max(1, spec.MaxOps/3), spec.MaxOps).Draw(t, "ops")
	window := int64(spec.Duration) * 9 / 10 / int64(time.Millisecond)
	ops := make([]Op, 0, n)
	var written []string
	for i := 0; i < n; i++ {
		at := rapid.Int64Range(0, window).Draw(t, "at")
		if len(mix.Bursts) > 0 {
			// most ops crowd into a few bursts of a second: many clients
			// in flight at once when a fault lands
			b := rapid.IntRange(0, len(mix.Bursts)).Draw(t, "burst")
			if b > 0 {
				at = min(window, mix.Bursts[b-1]+rapid.Int64Range(0, 1000).Draw(t, "in-burst"))
			}
		}
		key := rapid.IntRange(0, spec.Keys-1).Draw(t, "key")
		if rapid.IntRange(0, 99).Draw(t, "hot") < mix.HotPct {
			key = 0
		}
		op := Op{
			OpTiming: scenarios.OpTiming{
				Client: rapid.IntRange(0, spec.Clients-1).Draw(t, "client"),
				At:     sim.Duration(time.Duration(at) * time.Millisecond),
			},
			Kind: rapid.SampledFrom(mix.deck).Draw(t, "kind"),
			Key:  fmt.Sprintf("k%d", key),
		}
		if op.Kind == checkers.KindGet && rapid.IntRange(0, 99).Draw(t, "impatient") < mix.ImpatientPct {
			op.Patience = mix.Patience
			// a poll: more impatient reads of other keys right behind
			// it, each sent as soon as the one before ends or is given up
			for range scenarios.Spread(t, 1, int64(mix.PollRun), "poll-run") - 1 {
				poll := op
				poll.Key = fmt.Sprintf("k%d", rapid.IntRange(0, spec.Keys-1).Draw(t, "poll-key"))
				ops = append(ops, poll)
			}
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

// Mix is one seed's workload mix (swarm testing for the workload): the
// weight of each kind, the share of operations on one hot key, and bursts
// when most operations crowd together. One seed is all CAS on a hot key,
// another steady appends, another reads under write bursts.
type Mix struct {
	Weights map[string]int // kind -> weight (0: off)
	HotPct  int            // share of operations on k0
	Bursts  []int64        // burst start times (ms); none: spread evenly
	// ImpatientPct of the reads give up after Patience
	ImpatientPct int
	Patience     sim.Duration
	// PollRun: an impatient read is the first of up to this many
	// back-to-back reads of the same client (a caller polling keys), so
	// the answer to one it gave up on meets the next one
	PollRun int
	deck    []string
}

// defaultWeights is the plain mix the draw shrinks to.
var defaultWeights = map[string]int{checkers.KindGet: 2, checkers.KindPut: 1, checkers.KindAppend: 1, checkers.KindCAS: 1, checkers.KindDelete: 1}

// DrawMix draws a seed's workload mix; it shrinks to the plain mix.
func DrawMix(t *rapid.T, spec Spec) Mix {
	m := Mix{Weights: map[string]int{}}
	for _, k := range OpKinds {
		w := (defaultWeights[k] + rapid.IntRange(0, 3).Draw(t, "weight-"+k)) % 4
		m.Weights[k] = w
		for range w {
			m.deck = append(m.deck, k)
		}
	}
	// A workload without writes finds nothing; one without reads leaves
	// porcupine no way to prune the orders of many concurrent appends.
	for _, k := range []string{checkers.KindAppend, checkers.KindGet} {
		if k == checkers.KindGet || m.Weights[checkers.KindPut]+m.Weights[checkers.KindAppend]+m.Weights[checkers.KindCAS] == 0 {
			if m.Weights[k] == 0 {
				m.Weights[k] = 1
				m.deck = append(m.deck, k)
			}
		}
	}
	m.HotPct = rapid.SampledFrom([]int{0, 25, 50}).Draw(t, "hot-pct")
	m.ImpatientPct = rapid.SampledFrom([]int{0, 30, 100}).Draw(t, "impatient-pct")
	m.PollRun = rapid.SampledFrom([]int{1, 10}).Draw(t, "poll-run-max")
	// 30 ms: shorter than a short stall or a clog, longer than a read
	m.Patience = sim.Duration(rapid.SampledFrom([]time.Duration{300 * time.Millisecond, time.Second, 100 * time.Millisecond, 30 * time.Millisecond}).Draw(t, "patience"))
	window := int64(spec.Duration) * 9 / 10 / int64(time.Millisecond)
	for range rapid.SampledFrom([]int{0, 3, 8}).Draw(t, "bursts") {
		m.Bursts = append(m.Bursts, rapid.Int64Range(0, window).Draw(t, "burst-at"))
	}
	return m
}

// input is the operation as the history records it.
func (op Op) input() checkers.Input {
	return checkers.Input{Kind: op.Kind, Value: op.Value, Expected: op.Expected, ExpectAbsent: op.Absent}
}
