package coordinator

import "github.com/sofasim/sofasim/sim"

// Planted bugs: failpoints evaluated with sim.Env.Failpoint in the real
// code path, off unless armed. Each reproduces a Seata incident; doc.go
// says how each shows and which invariant catches it.
const (
	// BugRegisterAfterRollback: the TC accepts a branch registration for a
	// session whose rollback has begun; the rollback already walked its
	// branch list, so the late branch's data and lock stay (seata#4969, #3220).
	BugRegisterAfterRollback = "bug/coordinator/register-after-rollback"
	// BugTimeoutCommitRace: the timeout check rolls back a timed-out session
	// without checking it is still Begin, racing a TM commit (seata#5404).
	BugTimeoutCommitRace = "bug/coordinator/timeout-commit-race"
	// BugUndoNotDurable: AT phase one commits the business rows, then writes
	// the undo log without syncing before reporting done (seata#152).
	BugUndoNotDurable = "bug/coordinator/undo-not-durable"
	// BugNoReloadRollbacking: a restarted (or newly elected) TC does not
	// reload sessions that were rolling back (seata#1180).
	BugNoReloadRollbacking = "bug/coordinator/no-reload-rollbacking"
	// BugDeadlockSwallowed: a local deadlock or lock timeout after branch
	// registration is swallowed: the RM reports success with nothing
	// written and never reports the branch failed (seata#2976).
	BugDeadlockSwallowed = "bug/coordinator/deadlock-swallowed"
	// BugTCCNoSuspend: a TCC cancel that finds no fence row (the try has not
	// run) records nothing, so a late try reserves for good (seata#5256, #6374).
	BugTCCNoSuspend = "bug/coordinator/tcc-no-suspend"
	// BugRollbackRegistrationOrder: phase-two rollback walks branches in
	// registration order instead of the reverse (seata#5666).
	BugRollbackRegistrationOrder = "bug/coordinator/rollback-registration-order"
	// BugOrphanBranch: an RM asked to roll back a branch it has no undo log
	// for (an orphan left by a timed-out register RPC) answers
	// RollbackFailed_Unretryable: the session fails and keeps its locks
	// (seata#2841).
	BugOrphanBranch = "bug/coordinator/orphan-branch"
)

// Bugs lists the planted bugs of the coordinator.
var Bugs = []sim.Bug{
	{Name: BugRegisterAfterRollback, Description: "a branch registers after timeout rollback began; its update and global lock are left behind (seata#4969, #3220)"},
	{Name: BugTimeoutCommitRace, Description: "timeout rollback races a TM commit: the TM is told committed while the TC rolls back (seata#5404)"},
	{Name: BugUndoNotDurable, Description: "AT phase one reports done before its undo log is synced: after an RM crash a rollback leaves the update (seata#152)"},
	{Name: BugNoReloadRollbacking, Description: "a restarted or newly elected TC does not reload Rollbacking sessions: their locks and updates stay (seata#1180)"},
	{Name: BugDeadlockSwallowed, Description: "a local deadlock/lock timeout in phase one is swallowed: the app is told the update succeeded (seata#2976)"},
	{Name: BugTCCNoSuspend, Description: "a TCC cancel without a fence row records no suspended row: a late try hangs the reservation (seata#5256, #6374)"},
	{Name: BugRollbackRegistrationOrder, Description: "phase-two rollback runs in registration order: a row updated by two branches fails its after-image check (seata#5666)"},
	{Name: BugOrphanBranch, Description: "rolling back an orphan branch (register RPC timed out) fails unretryably: the session keeps its global locks (seata#2841)"},
}
