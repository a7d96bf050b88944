package testifyuse

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type suite struct {
	*require.Assertions
}

func TestPolling(t *testing.T) {
	ok := func() bool { return true }
	collect := func(*assert.CollectT) {}
	assert.Eventually(t, ok, time.Second, time.Millisecond)           // want `^assert.Eventually polls a condition in real time on a goroutine; advance the simulation and assert directly, or add //detlint:allow <why>$`
	assert.Eventuallyf(t, ok, time.Second, time.Millisecond, "x")     // want `assert.Eventuallyf polls`
	assert.EventuallyWithT(t, collect, time.Second, time.Millisecond) // want `assert.EventuallyWithT polls`
	assert.EventuallyWithTf(t, collect, time.Second, 1, "x")          // want `assert.EventuallyWithTf polls`
	assert.Never(t, ok, time.Second, time.Millisecond)                // want `assert.Never polls`
	assert.Neverf(t, ok, time.Second, time.Millisecond, "x")          // want `assert.Neverf polls`
	require.Eventually(t, ok, time.Second, time.Millisecond)          // want `require.Eventually polls`
	require.EventuallyWithT(t, collect, time.Second, 1)               // want `require.EventuallyWithT polls`
	require.Neverf(t, ok, time.Second, time.Millisecond, "x")         // want `require.Neverf polls`

	a := assert.New(t)
	a.Eventually(ok, time.Second, time.Millisecond) // want `assert.Eventually polls`
	a.Never(ok, time.Second, time.Millisecond)      // want `assert.Never polls`
	s := suite{require.New(t)}
	s.EventuallyWithT(collect, time.Second, 1) // want `require.EventuallyWithT polls`
	never := assert.Never                      // want `assert.Never polls`
	_ = never

	// Allowed: everything else.
	assert.Equal(t, 1, 1)
	require.Equal(t, 1, 1)
	a.Equal(1, 1)
	s.Equal(1, 1)
}
