package transcript

import (
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

// handleRunFor lets virtual time pass: run-for 2s.
func (e *Env) handleRunFor(t *testing.T, d *datadriven.TestData) error {
	if len(d.CmdArgs) != 1 {
		d.Fatalf(t, "run-for <duration>")
	}
	dur, err := time.ParseDuration(d.CmdArgs[0].Key)
	if err != nil {
		return err
	}
	e.RunUntil(e.World.Now() + dur)
	return nil
}

// handleStabilize runs in steps of Step until the system settled (see
// Env.Unsettled), at most max (default MaxWait), and says when; with why,
// it also says what it waited for last. A bug that keeps the system from
// settling shows as the reason in the expected output.
func (e *Env) handleStabilize(t *testing.T, d *datadriven.TestData) error {
	if e.Unsettled == nil || e.Step <= 0 {
		d.Fatalf(t, "stabilize: the system has no settled check or no step")
	}
	limit := e.MaxWait
	if a, ok := d.Arg("max"); ok {
		v, err := time.ParseDuration(a.SingleVal(t))
		if err != nil {
			return err
		}
		limit = v
	}
	start, waited := e.World.Now(), ""
	for {
		why := e.Unsettled()
		if why == "" {
			e.Printf("stable after %v\n", (e.World.Now() - start).Round(time.Millisecond))
			if d.HasArg("why") && waited != "" {
				e.Printf("last waited for: %s\n", waited)
			}
			return nil
		}
		waited = why
		if e.World.Now()-start >= limit {
			return fmt.Errorf("not stable after %v: %s", limit, why)
		}
		e.RunUntil(e.World.Now() + e.Step)
	}
}
