package sim

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
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

// burstNode sets 3,000 timers at start and cancels every other one; the
// rest fire in deadline order.
type burstNode struct {
	BaseNode
	env   *Env
	fired []any
}

func (n *burstNode) Start(env *Env) {
	n.env = env
	for i := range 3000 {
		id := env.SetTimer(time.Duration(3000-i)*time.Millisecond, i)
		if i%2 == 1 {
			env.CancelTimer(id)
		}
	}
}

func (n *burstNode) Timer(_ TimerID, tag any) {
	n.fired = append(n.fired, tag)
	if len(n.fired) == 1 { // keep setting and cancelling: the heap does not grow for it
		for range 5000 {
			n.env.CancelTimer(n.env.SetTimer(time.Hour, -1))
		}
	}
}

// A node's due heap drops cancelled timers before it grows and gives back
// what a burst of live ones took once they fired; the world's timer table
// is made again when its live timers fall below half their peak, and the
// timer queue shrinks.
func TestDueHeapShrinks(t *testing.T) {
	var fps []uint64
	for range 2 {
		w := NewWorld(Config{Seed: 1})
		n := &burstNode{}
		w.AddNode("a", func() Node { return n })
		w.Run(Limits{Until: 2700 * time.Millisecond})
		require.LessOrEqual(t, cap(w.nodes[0].due), 2048, "8,000 cancelled timers took no room")
		require.Len(t, w.liveTimers, 150)
		require.Less(t, w.timersPeak, 1500, "the table was made again")
		w.Run(Limits{})
		want := []any{}
		for i := 2998; i >= 0; i -= 2 {
			want = append(want, i)
		}
		require.Equal(t, want, n.fired)
		require.LessOrEqual(t, cap(w.nodes[0].due), 64, "the burst's room is given back")
		require.LessOrEqual(t, cap(w.timers.h), 1024, "and the timer queue's")
		fps = append(fps, w.Fingerprint())
	}
	require.Equal(t, fps[0], fps[1])
}

// A due heap pops in (deadline, id) order and, past 80 entries, keeps no
// more room than 8/5 of its keys: it grows by a quarter, not double, and
// is made again when a burst is past.
func TestDueHeapRoom(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var h timerHeap
		var model []timerKey
		id := TimerID(0)
		for range rapid.IntRange(0, 100).Draw(rt, "steps") {
			if rapid.Bool().Draw(rt, "push") {
				for range rapid.IntRange(1, 200).Draw(rt, "n") {
					id++
					k := timerKey{deadline: rapid.Int64Range(0, 50).Draw(rt, "deadline"), id: id}
					h.push(k)
					model = append(model, k)
				}
			} else {
				for range min(len(h), rapid.IntRange(1, 200).Draw(rt, "n")) {
					slices.SortFunc(model, func(a, b timerKey) int {
						return cmp.Or(cmp.Compare(a.deadline, b.deadline), cmp.Compare(a.id, b.id))
					})
					require.Equal(rt, model[0], h[0])
					model = model[1:]
					h.pop()
				}
			}
			require.Len(rt, h, len(model))
			require.True(rt, cap(h) <= 80 || 5*cap(h) <= 8*len(h), "cap %d for %d", cap(h), len(h))
		}
	})
}
