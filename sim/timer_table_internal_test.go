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
	require.Equal(t, 3, w.liveTimers.n, "each node's first fired, b's second is cancelled")
	require.NoError(t, w.Schedule([]Fault{{At: Duration(16 * time.Millisecond), Op: Crash{Nodes: []NodeID{"a"}}}}))
	w.Run(Limits{Until: 17 * time.Millisecond})
	require.Equal(t, 1, w.liveTimers.n, "a's timers died with it")
	w.Run(Limits{})
	require.Equal(t, []any{0}, aFired)
	require.Equal(t, []any{0, 2}, bFired)
	require.Zero(t, w.liveTimers.n)
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
// halves below an eighth full, and the timer queue shrinks.
func TestDueHeapShrinks(t *testing.T) {
	var fps []uint64
	for range 2 {
		w := NewWorld(Config{Seed: 1})
		n := &burstNode{}
		w.AddNode("a", func() Node { return n })
		w.Run(Limits{Until: 2700 * time.Millisecond})
		require.LessOrEqual(t, cap(w.nodes[0].due), 2048, "8,000 cancelled timers took no room")
		require.Equal(t, 150, w.liveTimers.n)
		require.Less(t, len(w.liveTimers.tab), 400, "the table shrank (it held 1,500)")
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

// The timer table holds exactly the timers put and not deleted, with
// their node and tag, whatever the order of deletions (each shifts the
// entries behind it back), and stays between half and 4/5 full as it
// grows and shrinks.
func TestTimerTableHoldsLiveTimers(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var tab timerTable
		model := map[TimerID]liveTimer{}
		var ids []TimerID
		next := TimerID(0)
		for range rapid.IntRange(0, 40).Draw(rt, "steps") {
			if rapid.Bool().Draw(rt, "put") {
				for range rapid.IntRange(1, 1<<rapid.IntRange(0, 10).Draw(rt, "log")).Draw(rt, "n") {
					next += TimerID(rapid.IntRange(1, 3).Draw(rt, "gap"))
					lt := liveTimer{tag: int(next) % 7, node: int32(next) % 5}
					tab.put(next, lt.node, lt.tag)
					model[next] = lt
					ids = append(ids, next)
				}
			} else if len(ids) > 0 {
				for range rapid.IntRange(1, len(ids)).Draw(rt, "n") {
					i := rapid.IntRange(0, len(ids)-1).Draw(rt, "i")
					tab.del(ids[i]) // perhaps again
					delete(model, ids[i])
				}
			}
			require.Equal(rt, len(model), tab.n)
			for _, id := range ids {
				got, ok := tab.get(id)
				want, live := model[id]
				require.Equal(rt, live, ok, "timer %d", id)
				require.Equal(rt, want, got)
				require.Equal(rt, live, tab.live(id))
			}
			require.False(rt, tab.live(next+1))
			require.LessOrEqual(rt, 5*tab.n, 4*len(tab.tab))
			require.True(rt, len(tab.tab) <= timerTableMin || 2*tab.n >= len(tab.tab), "%d in %d", tab.n, len(tab.tab))
		}
	})
}

// churnNode fills its due heap with live timers to the brim, then keeps
// their number: each step cancels the oldest and sets one more.
type churnNode struct {
	BaseNode
	env   *Env
	ids   []TimerID
	walks int // steps whose SetTimer pruned the heap
	fired int
}

func (n *churnNode) Start(env *Env) {
	n.env = env
	due := &env.n.due
	for len(*due) < 200 || len(*due) < cap(*due) {
		n.ids = append(n.ids, env.SetTimer(time.Hour+time.Duration(len(n.ids)), len(n.ids)))
	}
	for i := range 2000 {
		env.CancelTimer(n.ids[0])
		n.ids = n.ids[1:]
		before := len(*due)
		n.ids = append(n.ids, env.SetTimer(time.Hour+time.Duration(len(n.ids)+i), i))
		if len(*due) <= before {
			n.walks++
		}
	}
}

func (n *churnNode) Timer(TimerID, any) { n.fired++ }

// A node whose due heap is full of live timers, cancelling one and setting
// one per step, walks the heap once every quarter of it, not on every
// SetTimer; its timers all fire.
func TestPruneDueLeavesRoom(t *testing.T) {
	var fps []uint64
	for range 2 {
		w := NewWorld(Config{Seed: 1})
		n := &churnNode{}
		w.AddNode("a", func() Node { return n })
		w.Run(Limits{})
		live := len(n.ids)
		require.LessOrEqual(t, n.walks, 2000/(live/4)+1, "walks of a heap of %d live timers", live)
		require.Equal(t, live, n.fired)
		fps = append(fps, w.Fingerprint())
	}
	require.Equal(t, fps[0], fps[1])
}
