package coordinator

import (
	"time"

	"github.com/sofasim/sofasim/sim"
)

// Messages. All are sent by pointer and never mutated after sending.
//
//	TM/RM/app -> TC   *TCRequest{Req, Kind, ...}      -> *TCResponse{Req, Code, ...}
//	TC -> RM          *PhaseTwo{Req, Commit, ...}     -> *PhaseTwoResp{Req, Status}
//	app -> RM         *Call{Req, XID, Op, ...}        -> *CallResp{Req, OK, ...}

// ReqKind is the kind of a TC request.
type ReqKind uint8

const (
	ReqBegin ReqKind = iota + 1
	ReqCommit
	ReqRollback
	ReqStatus
	ReqRegister
	ReqReport
	ReqLockQuery // are Keys free or held by XID?
)

func (k ReqKind) String() string {
	return [...]string{"?", "begin", "commit", "rollback", "status", "register", "report", "lock-query"}[min(int(k), 7)]
}

// TCRequest is a request to the TC.
type TCRequest struct {
	Req      uint64
	Kind     ReqKind
	XID      XID
	Branch   BranchID
	Timeout  time.Duration // begin
	Name     string        // begin: the transaction name
	RM       sim.NodeID    // register: the RM that runs phase two
	Resource string
	Mode     Mode
	Keys     []string
	BStatus  BranchStatus // report
}

// TCResponse answers a TCRequest.
type TCResponse struct {
	Req    uint64
	Code   Code
	XID    XID
	Branch BranchID
	Status GlobalStatus
	Holder XID
	Leader sim.NodeID // NotLeader: a hint
}

// PhaseTwo asks an RM to commit or roll back a branch.
type PhaseTwo struct {
	Req      uint64
	Commit   bool
	XID      XID
	Branch   BranchID
	Resource string
	Mode     Mode
}

// PhaseTwoResp answers with the branch's status.
type PhaseTwoResp struct {
	Req    uint64
	Status BranchStatus
}

// CallOp is a business operation on an RM.
type CallOp uint8

const (
	// CallAdd adds Amount to Account under XID (AT phase one).
	CallAdd CallOp = iota + 1
	// CallAudit reads every account under XID with SELECT FOR UPDATE
	// (holding the global locks until the global transaction ends).
	CallAudit
	// CallTry reserves Amount of Item for TCC branch Branch.
	CallTry
	// CallLocal adds Amount to Account in a local transaction outside any
	// global transaction.
	CallLocal
	// CallRead reads Account: a plain read (read uncommitted globally), or
	// with ForUpdate a SELECT FOR UPDATE that waits until no other global
	// transaction holds the row's global lock (read committed).
	CallRead
	// CallAppend appends Element to list Account under XID (AT phase
	// one, the list-append workload).
	CallAppend
)

// Call is a business request from an application to an RM.
type Call struct {
	Req     uint64
	Op      CallOp
	XID     XID
	Branch  BranchID // TCC: the branch the caller registered
	Account string   // CallAdd; the item for CallTry
	Amount  int64
	// ForUpdate: CallRead as SELECT FOR UPDATE.
	ForUpdate bool
	// List: CallRead reads list Account rather than an account.
	List bool
	// Element: CallAppend's element.
	Element string
}

// CallResp answers a Call.
type CallResp struct {
	Req     uint64
	OK      bool
	Err     string
	Values  map[string]int64 // CallAudit, CallRead
	Version uint64           // CallRead: the row's version
	Text    string           // CallRead: the row as stored (a list's elements)
}

// FenceStatus is a TCC fence row's state.
type FenceStatus string

const (
	FenceNone       FenceStatus = ""
	FenceTried      FenceStatus = "tried"
	FenceCommitted  FenceStatus = "committed"
	FenceRollbacked FenceStatus = "rollbacked"
	FenceSuspended  FenceStatus = "suspended"
)
