package coordinator

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBasicFileStore(t *testing.T) {
	v, d := twice(t, 1, opts{wl: Workload{TCCPPM: 200_000, AuditPPM: 100_000, SplitPPM: 300_000}}, nil, 5*time.Second, 5*time.Second)
	require.Empty(t, v, summary(d))
	t.Log(summary(d))
}
