package rehearsal

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The search finds the boundary: the count it returns passes, one fewer
// fails, and no configuration runs twice.
func TestCapacitySearchFindsTheBoundary(t *testing.T) {
	f := small(t)
	f.Drills = nil
	f.Services[1].Workers = 1 // order holds its worker across the transaction
	f.Services[1].Queue = 4
	s := &Search{File: f, Max: 16}
	caps, err := s.Find([]string{"order"})
	require.NoError(t, err)
	require.Len(t, caps, 1)
	c := caps[0]
	t.Logf("order: %d instances needed, tried %v", c.Needed, c.Tried)
	require.Greater(t, c.Needed, 2, "two one-worker instances are not enough")
	require.True(t, c.Tried[c.Needed])
	require.False(t, c.Tried[c.Needed-1])
	require.Equal(t, len(c.Tried), s.Runs, "each count ran once")

	_, err = s.Find([]string{"nope"})
	require.ErrorContains(t, err, `"nope" is not a service`)
}
