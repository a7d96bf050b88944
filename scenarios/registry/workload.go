package registry

import (
	"fmt"
	"sort"
	"time"

	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

// Op is one registry workload operation: a client publishes (or updates)
// its publisher Name under Service, unpublishes it, or subscribes its
// subscriber Name to Service.
type Op struct {
	scenarios.OpTiming
	Kind    string `json:"kind"`
	Service string `json:"service"`
	Name    string `json:"name"`
}

// Registry workload operation kinds.
const (
	OpPublish   = "publish"
	OpUnpublish = "unpublish"
	OpSubscribe = "subscribe"
)

// OpKinds lists the registry workload operation kinds.
var OpKinds = []string{OpPublish, OpUnpublish, OpSubscribe}

// drawOps: every client subscribes to one service and publishes one
// publisher early; then random publishes (new or updated), unpublishes and
// subscribes in the first 70% of the run, leaving a quiet period.
func drawOps(t *rapid.T, clients, services, maxOps int, d time.Duration) []Op {
	var ops []Op
	svc := func() string { return fmt.Sprintf("svc-%d", rapid.IntRange(0, services-1).Draw(t, "service")) }
	for c := 0; c < clients; c++ {
		at := sim.Duration(time.Duration(rapid.Int64Range(500, 3000).Draw(t, "first-ms")) * time.Millisecond)
		ops = append(ops, Op{OpTiming: scenarios.OpTiming{Client: c, At: at}, Kind: OpSubscribe, Service: svc(), Name: "s0"},
			Op{OpTiming: scenarios.OpTiming{Client: c, At: at}, Kind: OpPublish, Service: svc(), Name: "p0"})
	}
	n := 0
	if maxOps > 0 {
		n = rapid.IntRange(0, maxOps).Draw(t, "ops")
	}
	window := int64(d) * 7 / 10 / int64(time.Millisecond)
	for i := 0; i < n; i++ {
		op := Op{
			OpTiming: scenarios.OpTiming{
				Client: rapid.IntRange(0, clients-1).Draw(t, "client"),
				At:     sim.Duration(time.Duration(rapid.Int64Range(3000, max(3001, window)).Draw(t, "at")) * time.Millisecond),
			},
			Kind:    rapid.SampledFrom([]string{OpPublish, OpPublish, OpPublish, OpUnpublish, OpSubscribe}).Draw(t, "kind"),
			Service: svc(),
		}
		switch op.Kind {
		case OpSubscribe:
			op.Name = fmt.Sprintf("s%d", rapid.IntRange(1, 2).Draw(t, "sub"))
		default:
			op.Name = fmt.Sprintf("p%d", rapid.IntRange(0, 2).Draw(t, "pub"))
		}
		ops = append(ops, op)
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].At < ops[j].At })
	return ops
}
