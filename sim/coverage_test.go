package sim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

// ticker marks a state on every tick; with mark off it does the same run
// without marking.
type ticker struct {
	sim.BaseNode
	env  *sim.Env
	mark bool
}

func (n *ticker) Start(env *sim.Env) {
	n.env = env
	env.SetTimer(10*time.Millisecond, "tick")
}

func (n *ticker) Timer(sim.TimerID, any) {
	if n.mark {
		n.env.Reached("test/ticked")
		if n.env.Incarnation() > 1 {
			n.env.Reached("test/ticked-after-restart")
		}
	}
	n.env.SetTimer(10*time.Millisecond, "tick")
}

func runTicker(t *testing.T, mark bool) *sim.World {
	w := sim.NewWorld(sim.Config{Seed: 7})
	w.AddNode("a", func() sim.Node { return &ticker{mark: mark} })
	require.NoError(t, w.Schedule([]sim.Fault{
		{At: sim.Duration(55 * time.Millisecond), Op: sim.Crash{Nodes: []sim.NodeID{"a"}}},
		{At: sim.Duration(100 * time.Millisecond), Op: sim.Restart{Nodes: []sim.NodeID{"a"}}},
	}))
	w.Run(sim.Limits{Until: 125 * time.Millisecond})
	return w
}

// Coverage marks count what was reached, ignore crashed incarnations, and
// never change the run: the fingerprint is the same with and without them.
func TestReachedCountsAndStaysOutOfTheFingerprint(t *testing.T) {
	marked, plain := runTicker(t, true), runTicker(t, false)
	require.Equal(t, plain.Fingerprint(), marked.Fingerprint())
	require.Equal(t, map[string]uint64{"test/ticked": 7, "test/ticked-after-restart": 2}, marked.Reached())
	require.Equal(t, []string{"test/ticked", "test/ticked-after-restart"}, marked.ReachedNames())
	require.Empty(t, plain.Reached())
	again := runTicker(t, true)
	require.Equal(t, marked.Reached(), again.Reached())
}
