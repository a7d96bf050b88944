package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// timerNode sets three timers at start and hands their ids to its script.
type timerNode struct {
	BaseNode
	start func(env *Env, ids []TimerID)
	fired *[]any
}

func (n *timerNode) Start(env *Env) {
	var ids []TimerID
	for i, d := range []time.Duration{10, 20, 30} {
		ids = append(ids, env.SetTimer(d*time.Millisecond, i))
	}
	if n.start != nil {
		n.start(env, ids)
	}
}

func (n *timerNode) Timer(_ TimerID, tag any) { *n.fired = append(*n.fired, tag) }

// The world keeps every node's timers in one table: a node cancels only
// its own, and a crash drops the dead process's from the table.
func TestTimerTable(t *testing.T) {
	require.Equal(t, timerTableRun(t), timerTableRun(t), "fingerprints of one seed")
}

func timerTableRun(t *testing.T) uint64 {
	w := NewWorld(Config{Seed: 1})
	var aIDs []TimerID
	var aFired, bFired []any
	w.AddNode("a", func() Node {
		return &timerNode{fired: &aFired, start: func(env *Env, ids []TimerID) { aIDs = ids }}
	})
	w.AddNode("b", func() Node {
		return &timerNode{fired: &bFired, start: func(env *Env, ids []TimerID) {
			env.CancelTimer(aIDs[0]) // a's: no effect
			env.CancelTimer(ids[1])
		}}
	})
	w.Run(Limits{Until: 15 * time.Millisecond})
	require.Len(t, w.liveTimers, 3, "each node's first fired, b's second is cancelled")
	require.NoError(t, w.Schedule([]Fault{{At: Duration(16 * time.Millisecond), Op: Crash{Nodes: []NodeID{"a"}}}}))
	w.Run(Limits{Until: 17 * time.Millisecond})
	require.Len(t, w.liveTimers, 1, "a's timers died with it")
	w.Run(Limits{})
	require.Equal(t, []any{0}, aFired)
	require.Equal(t, []any{0, 2}, bFired)
	require.Empty(t, w.liveTimers)
	return w.Fingerprint()
}
