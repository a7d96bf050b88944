package coordinator

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	coordnode "github.com/sofasim/sofasim/nodes/coordinator"
	"github.com/sofasim/sofasim/sim"
)

// A commit-timeout episode holds TC→RM traffic (phase two) and jumps the
// serving TC's clock past the transaction timeout while the hold lasts,
// so sessions decided during the hold are timed out while committing.
func TestCommitTimeoutJumpsInsideHold(t *testing.T) {
	tp := topo{cfg: coordnode.Config{TCs: []sim.NodeID{"tc-1", "tc-2", "tc-3"}, RMs: []sim.NodeID{"rm-1", "rm-2", "rm-3"}}}
	rapid.Check(t, func(rt *rapid.T) {
		at := time.Duration(rapid.Int64Range(0, 10_000).Draw(rt, "at")) * time.Millisecond
		timeout := time.Duration(rapid.Int64Range(100, 3000).Draw(rt, "timeout")) * time.Millisecond
		steps := drawCommitTimeout(rt, tp, at, timeout)
		require.Len(rt, steps, 2)
		clog, ok := steps[0].Op.(sim.Clog)
		require.True(rt, ok, "first step %T, want a clog", steps[0].Op)
		require.Equal(rt, sim.Duration(at), steps[0].At)
		require.Len(rt, clog.Cuts, 1)
		require.Equal(rt, tp.cfg.TCs, clog.Cuts[0].From, "phase two flows from the TCs")
		require.NotEmpty(rt, clog.Cuts[0].To)
		require.Subset(rt, tp.cfg.RMs, clog.Cuts[0].To)
		jump, ok := steps[1].Op.(sim.ClockJump)
		require.True(rt, ok, "second step %T, want a clock jump", steps[1].Op)
		require.Equal(rt, "leader", steps[1].Target)
		require.Greater(rt, steps[1].At, steps[0].At)
		require.LessOrEqual(rt, steps[1].At, steps[0].At+clog.For, "the jump lands while phase two is held")
		require.GreaterOrEqual(rt, jump.Jump, sim.Duration(timeout), "the jump passes the timeout")
	})
}
