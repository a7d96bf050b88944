package coordinator

import "github.com/sofasim/sofasim/sim"

// Observer hears what checkers need, from inside the nodes. A harness sets
// Config.Observer; nodes never import checkers. Callbacks run inside node
// events: they must only record (the harness stamps virtual time).
type Observer interface {
	TC(TCEvent)
	RM(RMEvent)
	TM(TMEvent)
}

// TCEventKind says what a TCEvent reports.
type TCEventKind string

const (
	// EvBegin: a session began (To = Begin).
	EvBegin TCEventKind = "begin"
	// EvTransition: the global status moved From -> To. The first
	// transition out of Begin is the decision.
	EvTransition TCEventKind = "transition"
	// EvRegister: a branch registered; To is the global status at that
	// moment (Seata allows Begin only), Keys its lock keys.
	EvRegister TCEventKind = "register"
	// EvBranch: a branch's status changed to BranchStatus.
	EvBranch TCEventKind = "branch"
	// EvLockGrant / EvLockRelease: global locks on Keys taken or let go
	// by XID.
	EvLockGrant   TCEventKind = "lock-grant"
	EvLockRelease TCEventKind = "lock-release"
	// EvEnd: the session left the store with final status To.
	EvEnd TCEventKind = "end"
)

// TCEvent is one change of the TC's durable state. Index numbers the
// command that made it (the raft log index, or the file store's commit
// LSN): replicas applying the same command, and a restarted replica
// replaying it, report the same Index, so checkers keep the first event
// per (Index, position) and may compare the others against it.
type TCEvent struct {
	Node         sim.NodeID
	Index        uint64
	Kind         TCEventKind
	XID          XID
	Branch       BranchID
	RM           sim.NodeID
	Mode         Mode
	From, To     GlobalStatus
	BranchStatus BranchStatus
	Keys         []string
}

// RMEventKind says what an RMEvent reports.
type RMEventKind string

const (
	// EvPhaseOne: an AT phase one committed locally (OK) or failed.
	EvPhaseOne RMEventKind = "phase-one"
	// EvPhaseTwo: a phase-two request was answered with BranchStatus.
	EvPhaseTwo RMEventKind = "phase-two"
	// EvFence: a TCC fence row moved From -> To ("" = no row).
	EvFence RMEventKind = "fence"
	// EvAudit: an audit branch read its accounts under global locks.
	EvAudit RMEventKind = "audit"
	// EvRead: a read of Key returned Value at Version (ForUpdate: SELECT
	// FOR UPDATE, which must never see a rolled-back write).
	EvRead RMEventKind = "read"
)

// RMEvent is one resource-manager action.
type RMEvent struct {
	Node         sim.NodeID
	Kind         RMEventKind
	XID          XID
	Branch       BranchID
	OK           bool
	Commit       bool // phase two: commit (else rollback)
	BranchStatus BranchStatus
	From, To     FenceStatus
	Err          string
	// Phase one (OK, an update) and reads: the row, its value and version
	// (versions are unique per RM: the LSN of the commit that wrote it).
	Key       string
	Value     int64
	Version   uint64
	ForUpdate bool
}

// Outcome is what a TM was told about its global transaction.
type Outcome string

const (
	OutcomeCommitted  Outcome = "committed"
	OutcomeRolledBack Outcome = "rolled-back"
	OutcomeUnknown    Outcome = "unknown" // no answer: the TC may decide either way
	OutcomeFailed     Outcome = "failed"  // begin failed: no transaction
)

// TMEvent is one outcome told to a TM's caller, or an application-level
// result (a transfer, an audit) the checkers judge.
type TMEvent struct {
	Node    sim.NodeID
	XID     XID
	Op      string // "begin", "commit", "rollback", "audit"
	Outcome Outcome
	Status  GlobalStatus // the status the TC answered with
	// Audit: the sum read over every account, valid when Complete.
	Sum      int64
	Complete bool
}

// nopObserver drops everything.
type nopObserver struct{}

func (nopObserver) TC(TCEvent) {}
func (nopObserver) RM(RMEvent) {}
func (nopObserver) TM(TMEvent) {}
