package reports

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/sim"
)

type drilledHistory struct {
	checkers.Recorded
	ps []sim.Period
}

func (d drilledHistory) TimelinePeriods() []sim.Period { return d.ps }

// TestWithDrills: a Drilled history's spans join the periods on their
// nodes' lanes, clipped to the run, overlapping ones on separate rows.
func TestWithDrills(t *testing.T) {
	base := []Period{{Lane: "n1", Kind: "down", Start: time.Second, End: 2 * time.Second}}
	require.Equal(t, base, WithDrills(base, nil, 10*time.Second), "a history without drills adds nothing")
	h := drilledHistory{ps: []sim.Period{
		{Scope: sim.Scope{Node: "ops"}, Kind: "drill", Start: time.Second, End: 4 * time.Second, Label: "stop-push"},
		{Scope: sim.Scope{Node: "ops"}, Kind: "drill", Start: 2 * time.Second, End: 20 * time.Second, Label: "blacklist-data"},
	}}
	got := WithDrills(base, h, 10*time.Second)
	require.Len(t, got, 3)
	require.Equal(t, "ops", got[1].Lane)
	require.Equal(t, PeriodDrill, got[1].Kind)
	require.Equal(t, 10*time.Second, got[2].End, "clipped to the run")
	require.NotEqual(t, got[1].Row, got[2].Row, "overlapping drills on separate rows")
}
