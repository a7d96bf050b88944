package raftkv

import (
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

// handleRunFor lets virtual time pass: run-for 1s.
func (e *interactionEnv) handleRunFor(t *testing.T, d *datadriven.TestData) error {
	if len(d.CmdArgs) != 1 {
		d.Fatalf(t, "run-for <duration>")
	}
	dur, err := time.ParseDuration(d.CmdArgs[0].Key)
	if err != nil {
		return err
	}
	e.runUntil(e.w.Now() + dur)
	return nil
}

// handleStabilize runs in steps of 10ms until the cluster settled (see
// unsettled), at most max (default 30s), and says when.
func (e *interactionEnv) handleStabilize(t *testing.T, d *datadriven.TestData) error {
	limit := 30 * time.Second
	if a, ok := d.Arg("max"); ok {
		v, err := time.ParseDuration(a.SingleVal(t))
		if err != nil {
			return err
		}
		limit = v
	}
	start := e.w.Now()
	for {
		why := e.unsettled()
		if why == "" {
			fmt.Fprintf(&e.out, "stable after %v\n", (e.w.Now() - start).Round(time.Millisecond))
			return nil
		}
		if e.w.Now()-start >= limit {
			return fmt.Errorf("not stable after %v: %s", limit, why)
		}
		e.runUntil(e.w.Now() + 10*time.Millisecond)
	}
}

// unsettled says why the cluster has not settled, or "" when it has: the
// client has nothing outstanding, one leader, and every running member of
// its configuration follows it and has applied everything it committed.
func (e *interactionEnv) unsettled() string {
	if e.w.Up("client") && e.client.c.Busy() {
		return "the client waits for an answer"
	}
	l := e.leader()
	if l == nil {
		return "no leader"
	}
	ls := l.Status()
	for _, id := range ls.Members {
		s := e.server(id)
		if s == nil {
			continue
		}
		st := s.Status()
		if st.Lead != ls.ID || st.Term != ls.Term {
			return fmt.Sprintf("%s follows %q in term %d", id, st.Lead, st.Term)
		}
		if st.Applied < ls.Commit {
			return fmt.Sprintf("%s applied %d of %d", id, st.Applied, ls.Commit)
		}
	}
	return ""
}
