package coordinator_test

import (
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	coordcheck "github.com/sofasim/sofasim/checkers/coordinator"
	"github.com/sofasim/sofasim/scenarios"
	_ "github.com/sofasim/sofasim/scenarios/coordinator"
	"github.com/sofasim/sofasim/scenarios/scenariotest"
)

func TestMain(m *testing.M) {
	flag.Parse()
	scenariotest.RapidDefaults(6)
	os.Exit(m.Run())
}

// small keeps the default tests fast: fewer apps and transactions, a
// shorter run.
var small = map[string]string{"apps": "4", "ops": "60", "duration": "8s", "liveness": "20s"}

func TestTxnBasic(t *testing.T)      { scenariotest.Check(t, "txn-basic", small) }
func TestTxnTCFailover(t *testing.T) { scenariotest.Check(t, "txn-tc-failover", small) }
func TestTxnRMFailover(t *testing.T) { scenariotest.Check(t, "txn-rm-failover", small) }
func TestTxnTimeouts(t *testing.T)   { scenariotest.Check(t, "txn-timeouts", small) }
func TestTxnChaos(t *testing.T)      { scenariotest.Check(t, "txn-chaos", small) }

// The file store (one TC) runs the same scenarios.
func TestTxnChaosFileStore(t *testing.T) {
	p := map[string]string{"tcs": "1"}
	for k, v := range small {
		p[k] = v
	}
	scenariotest.Check(t, "txn-chaos", p)
}

// At the defaults a run does real work: transactions commit and roll
// back, audits and reads run, and every checker has something to judge.
func TestTxnDefaultsDoWork(t *testing.T) {
	plan, err := scenarios.PlanForSeed("txn-chaos", 1, nil, nil)
	require.NoError(t, err)
	res, err := scenarios.Run(plan, scenarios.Options{})
	require.NoError(t, err)
	require.Truef(t, res.Passed(), "%s", res.Explain())
	h := res.History.(*coordcheck.History)
	kinds := map[coordcheck.Kind]int{}
	outcomes := map[string]int{}
	for _, ev := range h.Events {
		kinds[ev.Kind]++
		if ev.Kind == coordcheck.TMCommit || ev.Kind == coordcheck.TMRollback {
			outcomes[ev.Outcome]++
		}
	}
	for _, k := range []coordcheck.Kind{coordcheck.Begin, coordcheck.Register, coordcheck.LockGrant, coordcheck.PhaseOne,
		coordcheck.PhaseTwo, coordcheck.Fence, coordcheck.TMAudit, coordcheck.Read, coordcheck.Heal, coordcheck.Final} {
		require.Positivef(t, kinds[k], "no %s event in %v", k, kinds)
	}
	require.Greater(t, outcomes[coordcheck.OutcomeCommitted], 50, outcomes)
	require.Greater(t, outcomes[coordcheck.OutcomeRolledBack], 5, outcomes)
	t.Logf("%d events, %v, virtual %v, wall %.3fs", res.Events, outcomes, res.Virtual, res.SimWallSeconds)
}

// Parameters are checked in one place, with one clear line.
func TestTxnParams(t *testing.T) {
	_, err := scenarios.PlanForSeed("txn-basic", 1, map[string]string{"tcs": "2"}, nil)
	require.EqualError(t, err, `parameter tcs="2": want one of 1, 3, 5`)
	_, err = scenarios.PlanForSeed("txn-basic", 1, map[string]string{"store": "raft"}, nil)
	require.ErrorContains(t, err, `has no parameter "store"`)
	_, err = scenarios.PlanForSeed("txn-basic", 1, nil, []string{"bug/coordinator/nope"})
	require.ErrorContains(t, err, "has no planted bug")
}

// A hand-edited plan naming an RM the topology lacks is refused when it
// is built, not run wrongly.
func TestTxnPlanOpOutOfRange(t *testing.T) {
	plan, err := scenarios.PlanForSeed("txn-basic", 1, small, nil)
	require.NoError(t, err)
	plan.Ops = append(plan.Ops, json.RawMessage(`{"client":0,"at":"0s","kind":"transfer","from_rm":7,"amount":1}`))
	require.NoError(t, plan.Validate())
	_, err = scenarios.Run(plan, scenarios.Options{})
	require.ErrorContains(t, err, "rm 7 out of 0..2")
}
