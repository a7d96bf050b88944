package coordinator

import (
	"time"

	"github.com/sofasim/sofasim/sim"
)

// TM is the transaction manager client library: begin, commit and roll
// back global transactions through the TC, with RPC timeouts, retries and
// TC failover. It reports every outcome it hands its caller to the
// observer, exactly as told.
type TM struct {
	env *sim.Env
	tc  *tcClient
	obs Observer
}

func newTM(env *sim.Env, tc *tcClient, obs Observer) *TM { return &TM{env: env, tc: tc, obs: obs} }

func (t *TM) tell(ev TMEvent) {
	ev.Node = t.env.ID()
	t.env.Trace("tm/"+ev.Op, uint64(ev.XID), string(ev.Outcome), ev.Sum, ev.Complete)
	t.obs.TM(ev)
}

// Begin starts a global transaction. Retries may leave an orphan session
// behind, which times out.
func (t *TM) Begin(timeout time.Duration, done func(XID, error)) {
	t.tc.do(TCRequest{Kind: ReqBegin, Timeout: timeout}, true, func(r *TCResponse, err error) {
		if err == nil && r.Code != CodeOK {
			err = ErrTimeout
		}
		if err != nil {
			t.tell(TMEvent{Op: "begin", Outcome: OutcomeFailed})
			done(0, err)
			return
		}
		t.tell(TMEvent{Op: "begin", XID: r.XID, Outcome: OutcomeCommitted, Status: StatusBegin})
		done(r.XID, nil)
	})
}

// Commit asks the TC to commit. The outcome is what the TC said: the
// decision (committed, or rolled back when the transaction had timed out
// or been rolled back), or unknown when no TC answered in time.
func (t *TM) Commit(x XID, done func(Outcome)) { t.end(x, ReqCommit, done) }

// Rollback asks the TC to roll back.
func (t *TM) Rollback(x XID, done func(Outcome)) { t.end(x, ReqRollback, done) }

func (t *TM) end(x XID, kind ReqKind, done func(Outcome)) {
	t.tc.do(TCRequest{Kind: kind, XID: x}, true, func(r *TCResponse, err error) {
		out, st := OutcomeUnknown, StatusUnknown
		if err == nil {
			st = r.Status
			switch {
			case (r.Code == CodeOK || r.Code == CodeNotActive) && st.Commit():
				out = OutcomeCommitted
			case (r.Code == CodeOK || r.Code == CodeNotActive) && st.Rollback():
				out = OutcomeRolledBack
			}
		}
		t.tell(TMEvent{Op: kind.String(), XID: x, Outcome: out, Status: st})
		done(out)
	})
}
