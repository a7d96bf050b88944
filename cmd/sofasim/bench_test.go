package main

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim/simbench"
)

func TestBenchJSONHasRatioAndScalingTable(t *testing.T) {
	args := []string{"bench", "--events", "20000", "--rounds", "3", "--duration", "1s", "--leaves", "5",
		"--nodes", "10,200", "--timers", "0,300", "--json"}
	code, stdout, stderr := cli(t, args...)
	require.Equal(t, 0, code, stderr)
	var res benchResult
	require.NoError(t, json.Unmarshal([]byte(stdout), &res))
	require.Positive(t, res.ReferenceRatio)
	require.Equal(t, res.PingPong.Ratio, res.ReferenceRatio)
	require.Equal(t, "ping-pong", res.PingPong.Workload)
	var rows []string
	for _, c := range res.Scaling {
		require.Positive(t, c.KernelNs, "%s %d", c.Workload, c.Size)
		require.Positive(t, c.ReferenceNs, "%s %d", c.Workload, c.Size)
		rows = append(rows, fmt.Sprintf("%s/%d", c.Workload, c.Size))
	}
	require.Equal(t, []string{"ring/10", "ring/200", "idle-timers/0", "idle-timers/300"}, rows)
	require.Equal(t, 1.0, res.PingPong.Growth)
	require.Equal(t, 1.0, res.Scaling[0].Growth)
	require.Positive(t, res.Scaling[1].Growth)
	require.Equal(t, uint64(20000/3), res.Scaling[0].Events)
	require.Equal(t, simbench.RingWorkload(200).Warm, res.Scaling[1].Warm)
	require.Equal(t, 1.0, res.Scaling[2].Growth)
	require.Equal(t, uint64(20000), res.Events)
	require.Positive(t, res.FanOut.Events)

	// Fingerprints depend on the seed only.
	_, again, _ := cli(t, args...)
	var res2 benchResult
	require.NoError(t, json.Unmarshal([]byte(again), &res2))
	require.Equal(t, res.Fingerprint, res2.Fingerprint)
	require.Equal(t, res.FanOut.Fingerprint, res2.FanOut.Fingerprint)
}

func TestBenchRejectsBadSizes(t *testing.T) {
	code, _, stderr := cli(t, "bench", "--nodes", "1")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "--nodes")
	code, _, _ = cli(t, "bench", "--rounds", "0")
	require.Equal(t, 2, code)
}
