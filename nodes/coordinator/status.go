package coordinator

import "fmt"

// XID names a global transaction; BranchID a branch. Both come from one
// counter in the TC's durable (file) or replicated (raft) state, so they
// stay unique across restarts and failovers.
type (
	XID      uint64
	BranchID uint64
)

// GlobalStatus is Seata's GlobalStatus (same numbering).
type GlobalStatus uint8

const (
	StatusUnknown                 GlobalStatus = 0
	StatusBegin                   GlobalStatus = 1
	StatusCommitting              GlobalStatus = 2
	StatusCommitRetrying          GlobalStatus = 3
	StatusRollbacking             GlobalStatus = 4
	StatusRollbackRetrying        GlobalStatus = 5
	StatusTimeoutRollbacking      GlobalStatus = 6
	StatusTimeoutRollbackRetrying GlobalStatus = 7
	StatusAsyncCommitting         GlobalStatus = 8
	StatusCommitted               GlobalStatus = 9
	StatusCommitFailed            GlobalStatus = 10
	StatusRollbacked              GlobalStatus = 11
	StatusRollbackFailed          GlobalStatus = 12
	StatusTimeoutRollbacked       GlobalStatus = 13
	StatusTimeoutRollbackFailed   GlobalStatus = 14
	StatusFinished                GlobalStatus = 15
)

var globalNames = [...]string{"UnKnown", "Begin", "Committing", "CommitRetrying", "Rollbacking", "RollbackRetrying",
	"TimeoutRollbacking", "TimeoutRollbackRetrying", "AsyncCommitting", "Committed", "CommitFailed", "Rollbacked",
	"RollbackFailed", "TimeoutRollbacked", "TimeoutRollbackFailed", "Finished"}

func (s GlobalStatus) String() string {
	if int(s) < len(globalNames) {
		return globalNames[s]
	}
	return fmt.Sprintf("GlobalStatus(%d)", uint8(s))
}

// legal lists the transitions of Seata's global state machine. The
// transition out of Begin is the decision.
var legal = map[GlobalStatus][]GlobalStatus{
	StatusBegin:                   {StatusCommitting, StatusAsyncCommitting, StatusRollbacking, StatusTimeoutRollbacking},
	StatusCommitting:              {StatusCommitRetrying, StatusCommitted, StatusCommitFailed},
	StatusCommitRetrying:          {StatusCommitted, StatusCommitFailed},
	StatusAsyncCommitting:         {StatusCommitted},
	StatusRollbacking:             {StatusRollbackRetrying, StatusRollbacked, StatusRollbackFailed},
	StatusRollbackRetrying:        {StatusRollbacked, StatusRollbackFailed},
	StatusTimeoutRollbacking:      {StatusTimeoutRollbackRetrying, StatusTimeoutRollbacked, StatusTimeoutRollbackFailed},
	StatusTimeoutRollbackRetrying: {StatusTimeoutRollbacked, StatusTimeoutRollbackFailed},
}

// LegalTransition reports whether from -> to is a transition of the global
// state machine (what the status-transition checker asserts).
func LegalTransition(from, to GlobalStatus) bool {
	for _, s := range legal[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Final reports whether no transition leaves the status.
func (s GlobalStatus) Final() bool { return s != StatusUnknown && len(legal[s]) == 0 }

// Commit reports whether the status follows a commit decision.
func (s GlobalStatus) Commit() bool {
	switch s {
	case StatusCommitting, StatusCommitRetrying, StatusAsyncCommitting, StatusCommitted, StatusCommitFailed:
		return true
	}
	return false
}

// Rollback reports whether the status follows a rollback decision.
func (s GlobalStatus) Rollback() bool {
	return s != StatusBegin && s != StatusUnknown && s != StatusFinished && !s.Commit()
}

// Timeout reports whether the rollback was decided by the timeout check.
func (s GlobalStatus) Timeout() bool {
	return s >= StatusTimeoutRollbacking && s <= StatusTimeoutRollbackRetrying || s == StatusTimeoutRollbacked || s == StatusTimeoutRollbackFailed
}

// holdsLocks: a session holds its branches' global locks until the commit
// decision, or until its rollback has finished (a failed rollback keeps
// them: the rows hold dirty data an operator must repair).
func (s GlobalStatus) holdsLocks() bool {
	return !s.Commit() && s != StatusRollbacked && s != StatusTimeoutRollbacked
}

// BranchStatus is Seata's BranchStatus (same numbering).
type BranchStatus uint8

const (
	BranchUnknown                   BranchStatus = 0
	BranchRegistered                BranchStatus = 1
	BranchPhaseOneDone              BranchStatus = 2
	BranchPhaseOneFailed            BranchStatus = 3
	BranchPhaseOneTimeout           BranchStatus = 4
	BranchCommitted                 BranchStatus = 5
	BranchCommitFailedRetryable     BranchStatus = 6
	BranchCommitFailedUnretryable   BranchStatus = 7
	BranchRollbacked                BranchStatus = 8
	BranchRollbackFailedRetryable   BranchStatus = 9
	BranchRollbackFailedUnretryable BranchStatus = 10
)

var branchNames = [...]string{"Unknown", "Registered", "PhaseOne_Done", "PhaseOne_Failed", "PhaseOne_Timeout",
	"PhaseTwo_Committed", "PhaseTwo_CommitFailed_Retryable", "PhaseTwo_CommitFailed_Unretryable",
	"PhaseTwo_Rollbacked", "PhaseTwo_RollbackFailed_Retryable", "PhaseTwo_RollbackFailed_Unretryable"}

func (s BranchStatus) String() string {
	if int(s) < len(branchNames) {
		return branchNames[s]
	}
	return fmt.Sprintf("BranchStatus(%d)", uint8(s))
}

// Mode is a branch's transaction mode.
type Mode uint8

const (
	ModeAT  Mode = 1
	ModeTCC Mode = 2
)

func (m Mode) String() string {
	if m == ModeTCC {
		return "TCC"
	}
	return "AT"
}
