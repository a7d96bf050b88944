package scenarios

import (
	"fmt"
	"sort"
	"time"

	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/sim"
)

// KVSpec shapes a key-value workload.
type KVSpec struct {
	Clients  int
	Keys     int
	MaxOps   int
	Duration time.Duration // operations start in the first 90% of it
}

// KV operation kinds.
const (
	OpGet    = "get"
	OpPut    = "put"
	OpDelete = "delete"
	OpCAS    = "cas"
	OpAppend = "append"
)

// KVOpKinds lists the key-value operation kinds.
var KVOpKinds = []string{OpGet, OpPut, OpDelete, OpCAS, OpAppend}

// DrawKVOps draws a key-value workload. Written values are unique, which
// makes linearizability checks sharp; a CAS expects a value written before
// it or an absent key; appends, not being idempotent, expose operations
// applied twice.
func DrawKVOps(t *rapid.T, spec KVSpec) []Op {
	n := rapid.IntRange(max(1, spec.MaxOps/3), spec.MaxOps).Draw(t, "ops")
	window := int64(spec.Duration) * 9 / 10 / int64(time.Millisecond)
	ops := make([]Op, 0, n)
	var written []string
	for i := 0; i < n; i++ {
		op := Op{
			Client: rapid.IntRange(0, spec.Clients-1).Draw(t, "client"),
			At:     sim.Duration(time.Duration(rapid.Int64Range(0, window).Draw(t, "at")) * time.Millisecond),
			Kind:   rapid.SampledFrom([]string{OpGet, OpGet, OpPut, OpAppend, OpCAS, OpDelete}).Draw(t, "kind"),
			Key:    fmt.Sprintf("k%d", rapid.IntRange(0, spec.Keys-1).Draw(t, "key")),
		}
		switch op.Kind {
		case OpPut:
			op.Value = fmt.Sprintf("v%d", i)
			written = append(written, op.Value)
		case OpAppend:
			op.Value = fmt.Sprintf("a%d;", i)
		case OpCAS:
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

// Driver runs one client's operations in order, each at its time or when
// the previous one finished, and records the history. It is harness code
// that a client node embeds: it stamps history with true virtual time.
type Driver struct {
	Client int
	Ops    []Op
	Rec    *checkers.Recorder
	// Now reads the world's virtual time.
	Now func() time.Duration
	// Exec starts an operation; the system adapter calls done once with the
	// output, or with unknown set when the client gave up (outcome unknown).
	Exec func(op Op, done func(out checkers.Output, unknown bool))

	next    int
	running bool
}

// driverTick is the tag of the driver's wake-up timer.
type driverTick struct{}

// IsDriverTick reports whether a timer tag is the driver's.
func IsDriverTick(tag any) bool { _, ok := tag.(driverTick); return ok }

// Pump starts the next operation if it is due, or sets a timer for it.
func (d *Driver) Pump(env *sim.Env) {
	if d.running || d.next >= len(d.Ops) {
		return
	}
	op := d.Ops[d.next]
	if wait := time.Duration(op.At) - d.Now(); wait > 0 {
		env.SetTimer(wait, driverTick{})
		return
	}
	d.next++
	d.running = true
	id := d.Rec.Invoke(int64(d.Now()), d.Client, op.Key, kvInput(op))
	d.Exec(op, func(out checkers.Output, unknown bool) {
		if unknown {
			d.Rec.Unknown(int64(d.Now()), id)
		} else {
			d.Rec.Complete(int64(d.Now()), id, out)
		}
		d.running = false
		d.Pump(env)
	})
}

// Done reports whether every operation has finished.
func (d *Driver) Done() bool { return d.next >= len(d.Ops) && !d.running }

func kvInput(op Op) checkers.Input {
	return checkers.Input{Kind: op.Kind, Value: op.Value, Expected: op.Expected, ExpectAbsent: op.Absent}
}

// SplitOps gives each client its operations, in plan order.
func SplitOps(ops []Op, clients int) [][]Op {
	out := make([][]Op, clients)
	for _, op := range ops {
		out[op.Client] = append(out[op.Client], op)
	}
	return out
}
