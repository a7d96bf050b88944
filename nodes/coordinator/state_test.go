package coordinator

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestStateLocksAndStatuses(t *testing.T) {
	st := newState()
	x1 := st.apply(&command{Op: opBegin, Timeout: 1}).XID
	x2 := st.apply(&command{Op: opBegin, Timeout: 1}).XID
	require.Greater(t, x2, x1)
	r := st.apply(&command{Op: opRegister, XID: x1, Keys: []string{"account:a"}})
	require.Equal(t, CodeOK, r.Code)
	b1 := r.Branch
	r = st.apply(&command{Op: opRegister, XID: x2, Keys: []string{"account:b", "account:a"}})
	require.Equal(t, CodeLockConflict, r.Code)
	require.Equal(t, x1, r.Holder)
	require.NotContains(t, st.locks, "account:b", "a conflicting registration takes no key")
	require.Equal(t, CodeOK, st.apply(&command{Op: opRegister, XID: x1, Keys: []string{"account:a"}}).Code, "a transaction re-locks its own row")

	// A failed phase one releases only the keys no other branch holds.
	require.Equal(t, CodeOK, st.apply(&command{Op: opBranch, XID: x1, Branch: b1, BStatus: BranchPhaseOneFailed}).Code)
	require.Equal(t, x1, st.locks["account:a"])

	// The decision is a compare-and-set from Begin.
	require.Equal(t, CodeOK, st.apply(&command{Op: opStatus, XID: x1, From: StatusBegin, To: StatusRollbacking}).Code)
	r = st.apply(&command{Op: opStatus, XID: x1, From: StatusBegin, To: StatusAsyncCommitting})
	require.Equal(t, CodeBadStatus, r.Code)
	require.Equal(t, StatusRollbacking, r.Status)
	require.Equal(t, CodeNotActive, st.apply(&command{Op: opRegister, XID: x1, Keys: []string{"account:c"}}).Code, "no registration after the decision")
	require.Equal(t, x1, st.locks["account:a"], "a rollback keeps its locks until it finishes")
	require.Equal(t, CodeOK, st.apply(&command{Op: opEnd, XID: x1, To: StatusRollbacked}).Code)
	require.Empty(t, st.locks)
	require.Equal(t, StatusRollbacked, st.Finished[x1])
	require.Equal(t, CodeNotActive, st.apply(&command{Op: opStatus, XID: x1, From: StatusBegin, To: StatusCommitting}).Code)

	// A commit decision releases at once; a failed rollback keeps them.
	require.Equal(t, CodeOK, st.apply(&command{Op: opRegister, XID: x2, Keys: []string{"account:a"}}).Code)
	require.Equal(t, CodeOK, st.apply(&command{Op: opStatus, XID: x2, From: StatusBegin, To: StatusAsyncCommitting}).Code)
	require.Empty(t, st.locks)
	x3 := st.apply(&command{Op: opBegin}).XID
	require.Equal(t, CodeOK, st.apply(&command{Op: opRegister, XID: x3, Keys: []string{"account:a"}}).Code)
	st.apply(&command{Op: opStatus, XID: x3, From: StatusBegin, To: StatusTimeoutRollbacking})
	require.Equal(t, CodeOK, st.apply(&command{Op: opEnd, XID: x3, To: StatusTimeoutRollbackFailed}).Code)
	require.Equal(t, x3, st.locks["account:a"])
	require.Contains(t, st.Sessions, x3)

	// Encoding keeps everything, the lock table included.
	st2 := newState()
	require.NoError(t, st2.decode(st.encode()))
	require.Equal(t, st.locks, st2.locks)
	require.Equal(t, st.Next, st2.Next)
	require.Equal(t, st.Finished, st2.Finished)
}

// Any sequence of commands keeps the lock table equal to the one derived
// from the sessions, never changes status illegally, and round-trips.
func TestStateProperties(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		st := newState()
		var evs []TCEvent
		st.emit = func(e TCEvent) { evs = append(evs, e) }
		statuses := []GlobalStatus{StatusBegin, StatusCommitting, StatusAsyncCommitting, StatusRollbacking, StatusTimeoutRollbacking,
			StatusRollbackRetrying, StatusCommitted, StatusRollbacked, StatusRollbackFailed, StatusTimeoutRollbacked}
		for i := rapid.IntRange(1, 60).Draw(rt, "n"); i > 0; i-- {
			x := XID(rapid.Uint64Range(1, st.Next+1).Draw(rt, "xid"))
			switch rapid.IntRange(0, 4).Draw(rt, "op") {
			case 0:
				st.apply(&command{Op: opBegin})
			case 1:
				var keys []string
				for j := rapid.IntRange(0, 3).Draw(rt, "keys"); j > 0; j-- {
					keys = append(keys, fmt.Sprintf("t:%d", rapid.IntRange(0, 4).Draw(rt, "key")))
				}
				st.apply(&command{Op: opRegister, XID: x, Keys: keys})
			case 2:
				from := rapid.SampledFrom(statuses).Draw(rt, "from")
				st.apply(&command{Op: opStatus, XID: x, From: from, To: rapid.SampledFrom(statuses).Draw(rt, "to")})
			case 3:
				st.apply(&command{Op: opEnd, XID: x, To: rapid.SampledFrom(statuses).Draw(rt, "end")})
			case 4:
				st.apply(&command{Op: opBranch, XID: x, Branch: BranchID(rapid.Uint64Range(1, st.Next+1).Draw(rt, "b")), BStatus: BranchPhaseOneFailed})
			}
			derived := newState()
			require.NoError(rt, derived.decode(st.encode()))
			require.Equal(rt, derived.locks, st.locks)
		}
		for _, e := range evs {
			if e.Kind == EvTransition {
				require.True(rt, LegalTransition(e.From, e.To), "%v -> %v", e.From, e.To)
			}
			if e.Kind == EvRegister {
				require.Equal(rt, StatusBegin, e.To)
			}
		}
	})
}
