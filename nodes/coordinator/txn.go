package coordinator

import "github.com/sofasim/sofasim/sim"

// TxnKind names a global transaction an App can run.
type TxnKind string

// The App's global transactions.
const (
	TxnTransfer TxnKind = "transfer" // AT: debit From on FromRM, credit To on ToRM
	TxnReserve  TxnKind = "reserve"  // TCC: reserve Amount of item From on FromRM
	TxnAudit    TxnKind = "audit"    // AT: read every account of every RM with SELECT FOR UPDATE
	TxnRead     TxnKind = "read"     // AT: read account From on FromRM with SELECT FOR UPDATE
	TxnList     TxnKind = "list"     // AT: Mops in order, appends and SELECT FOR UPDATE reads of lists
)

// Txn is one global transaction a host asks an App to run (Run), so that
// a scenario can draw its workload from its own seed.
type Txn struct {
	Kind         TxnKind
	FromRM, ToRM sim.NodeID
	From, To     string // account names (AccountName), or the item (ItemName) of a reservation
	Amount       int64
	// Split: the debit runs in two branches on the same row.
	Split bool
	// Abort: the business logic rolls the transaction back after its
	// branches succeeded (a TM rollback rather than a commit).
	Abort bool
	// Mops of a TxnList, run one after another; OnRead (if set) hears the
	// i-th mop's read.
	Mops   []ListMop
	OnRead func(i int, list []string)
}

// Run runs t as one global transaction and tells done the outcome the TM
// was given (OutcomeFailed: the begin failed). A restart of the App drops
// the transaction: done is never called and the TC times it out.
func (a *App) Run(t Txn, done func(Outcome)) {
	body := a.runTransfer(t)
	switch t.Kind {
	case TxnReserve:
		body = a.runReserve(t)
	case TxnAudit:
		body = a.audit
	case TxnRead:
		body = a.runRead(t)
	case TxnList:
		body = a.runList(t)
	}
	a.global(body, t.Abort, done)
}
