package raftkv_test

import (
	"flag"
	"os"
	"testing"

	"github.com/sofasim/sofasim/scenarios/scenariotest"
)

func TestMain(m *testing.M) {
	flag.Parse()
	scenariotest.RapidDefaults(8)
	os.Exit(m.Run())
}

// Small keeps the rapid runs of go test quick; sweeps use the defaults.
var Small = map[string]string{"members": "3", "clients": "4", "ops": "60", "duration": "20s", "liveness": "20s"}

func TestRaftkvBasic(t *testing.T)      { scenariotest.Check(t, "raftkv-basic", Small) }
func TestRaftkvPartitions(t *testing.T) { scenariotest.Check(t, "raftkv-partitions", Small) }
func TestRaftkvCrashes(t *testing.T)    { scenariotest.Check(t, "raftkv-crashes", Small) }
func TestRaftkvChaos(t *testing.T)      { scenariotest.Check(t, "raftkv-chaos", Small) }
