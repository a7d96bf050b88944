package mesh_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	meshnode "github.com/sofasim/sofasim/nodes/mesh"
	"github.com/sofasim/sofasim/reports"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/scenarios/scenariotest"
)

// TestReportTellsAFailingRequest: the HTML report of a failing mesh run
// shows each failing request's attempts, their hosts, the retries and the
// configuration versions every sidecar involved held.
func TestReportTellsAFailingRequest(t *testing.T) {
	pin := meshBugSeeds[meshnode.BugRetryRewritesRequest]
	plan, err := scenarios.PlanForSeed(pin.Scenario, pin.Seed, nil, []string{meshnode.BugRetryRewritesRequest})
	require.NoError(t, err)
	res := scenariotest.RunTwice(t, plan)
	require.False(t, res.Passed())
	var page bytes.Buffer
	require.NoError(t, reports.WriteHTML(&page, reports.Run{Result: res, History: res.History}))
	html := page.String()
	require.Contains(t, html, "Why <code>retry-limits</code> failed")
	for _, want := range []string{
		"routed by route api to outbound|svc-", // the route and cluster
		"#1 outbound|svc-",                     // the first attempt ...
		" → svc-",                              // ... and its host
		"retry #2 admitted",                    // the retry and the budget
		"#2 outbound|svc-",                     // the second attempt
		" held CDS=",                           // versions each sidecar held
		"EDS=", "LDS=", "RDS=",
		"answered ",
	} {
		require.Contains(t, html, want)
	}
}
