// Package coordinator holds the transaction coordinator's history type and
// its checkers, one invariant a file. The history is typed events from the
// TC (one per durable command, each command judged once), the RMs, the TMs
// and the harness (the heal and the end state after the liveness phase).
// The checkers never import the nodes: the global status machine they
// judge against is written down again here (status.go), as Seata's
// documentation states it.
package coordinator

import (
	"fmt"
	"io"
	"strings"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/checkers/elle"
)

// Kind is an event's kind.
type Kind string

// TC events: changes of the TC's durable state, one command at a time.
const (
	Begin       Kind = "begin"        // xid began
	Transition  Kind = "transition"   // xid's global status From -> To; the first out of Begin is the decision
	Register    Kind = "register"     // branch of xid registered on RM (Mode) with lock Keys, the global status being To
	Branch      Kind = "branch"       // branch status changed to BranchStatus
	LockGrant   Kind = "lock-grant"   // global locks on Keys granted to xid
	LockRelease Kind = "lock-release" // xid let its global locks on Keys go
	End         Kind = "end"          // xid's session left the store with final status To
)

// RM events.
const (
	PhaseOne Kind = "phase-one" // AT phase one of branch committed locally (OK; Key, Value, Version of a one-row update) or failed (Err)
	PhaseTwo Kind = "phase-two" // a phase-two request (Commit or rollback) answered BranchStatus
	Fence    Kind = "fence"     // TCC fence row of xid:branch moved From -> To ("" = no row)
	Audit    Kind = "audit"     // an audit branch read its accounts under global locks
	Read     Kind = "read"      // a read of Key returned Value at Version (ForUpdate: SELECT FOR UPDATE)
)

// TM events: what the application was told.
const (
	TMBegin    Kind = "tm-begin"    // Outcome "failed" when no transaction began
	TMCommit   Kind = "tm-commit"   // the outcome of a commit request
	TMRollback Kind = "tm-rollback" // the outcome of a rollback request
	TMAudit    Kind = "tm-audit"    // an audit summed Sum over every account (Complete: it read them all)
	ListTxn    Kind = "list-txn"    // a list-append global transaction as the application saw it (Elle)
)

// Harness events.
const (
	Heal  Kind = "heal"  // faults healed: the liveness phase starts
	Final Kind = "final" // the end state after the liveness phase (State)
)

// Outcomes a TM reports.
const (
	OutcomeCommitted  = "committed"
	OutcomeRolledBack = "rolled-back"
	OutcomeUnknown    = "unknown"
	OutcomeFailed     = "failed"
)

// Event is one event at virtual time T (ns). Node is the node that
// reported it; Client the workload client for TM events (-1 otherwise).
type Event struct {
	Kind   Kind   `json:"kind"`
	T      int64  `json:"t"`
	Node   string `json:"node,omitempty"`
	Client int    `json:"client"`
	// Index is the TC command (raft index or file-store LSN).
	Index  uint64 `json:"index,omitempty"`
	XID    uint64 `json:"xid,omitempty"`
	Branch uint64 `json:"branch,omitempty"`
	RM     string `json:"rm,omitempty"`
	Mode   string `json:"mode,omitempty"`
	// From and To: global statuses (Seata's names), or fence statuses.
	From         string   `json:"from,omitempty"`
	To           string   `json:"to,omitempty"`
	BranchStatus string   `json:"branch_status,omitempty"`
	Keys         []string `json:"keys,omitempty"`
	OK           bool     `json:"ok,omitempty"`
	Commit       bool     `json:"commit,omitempty"`
	Err          string   `json:"err,omitempty"`
	Key          string   `json:"key,omitempty"`
	Value        int64    `json:"value,omitempty"`
	Version      uint64   `json:"version,omitempty"`
	ForUpdate    bool     `json:"for_update,omitempty"`
	Outcome      string   `json:"outcome,omitempty"`
	Status       string   `json:"status,omitempty"` // TM: the status the TC answered with
	Sum          int64    `json:"sum,omitempty"`
	Complete     bool     `json:"complete,omitempty"`
	// Writes: on a successful tm-begin, the account changes the
	// application's transaction makes if it commits.
	Writes []Write `json:"writes,omitempty"`
	// Elle: a list-txn's micro-ops and status (ok: committed, fail:
	// rolled back or never begun, info: unknown), Call and Return in
	// virtual ns; its ID is given by the checker.
	Elle  *elle.Txn `json:"elle,omitempty"`
	State *State    `json:"state,omitempty"`
}

// Write is one account change of a transaction.
type Write struct {
	RM      string `json:"rm"`
	Account string `json:"account"`
	Delta   int64  `json:"delta"`
}

// State is the deployment's end state, read after the liveness phase.
type State struct {
	Money         int64               `json:"money"`
	ExpectedMoney int64               `json:"expected_money"`
	InitialStock  int64               `json:"initial_stock"`
	Balance       int64               `json:"balance"` // every account's initial balance
	Accounts      []Account           `json:"accounts,omitempty"`
	Items         []Item              `json:"items,omitempty"`
	UndoLogs      map[string][]string `json:"undo_logs,omitempty"`   // per RM
	LocalLocks    map[string][]string `json:"local_locks,omitempty"` // per RM
	ServingTC     string              `json:"serving_tc"`
	GlobalLocks   map[string]uint64   `json:"global_locks,omitempty"` // lock key -> xid
	Open          []Session           `json:"open,omitempty"`         // sessions the serving TC still holds
	Down          []string            `json:"down,omitempty"`         // TCs and RMs not running
}

// Account is one account's balance at the end.
type Account struct {
	RM      string `json:"rm"`
	Name    string `json:"name"`
	Balance int64  `json:"balance"`
}

// Item is one TCC item's inventory on an RM.
type Item struct {
	RM        string `json:"rm"`
	Name      string `json:"name"`
	Stock     int64  `json:"stock"`
	Frozen    int64  `json:"frozen"`
	Confirmed int64  `json:"confirmed"`
}

// Session is an open global transaction.
type Session struct {
	XID    uint64 `json:"xid"`
	Status string `json:"status"`
}

// History is a coordinator run's events in the order they happened.
type History struct {
	Events []Event `json:"events"`
}

// Record appends an event.
func (h *History) Record(ev Event) { h.Events = append(h.Events, ev) }

// Len is the number of events.
func (h *History) Len() int { return len(h.Events) }

// Entry describes event i for people, in terms of xids, branches and locks.
func (h *History) Entry(i int) checkers.Entry {
	ev := h.Events[i]
	e := checkers.Entry{ID: i, Client: ev.Client, Key: ev.Key, Call: ev.T, Return: ev.T, Result: "ok"}
	x := fmt.Sprintf("xid %d", ev.XID)
	keys := "[" + strings.Join(ev.Keys, " ") + "]"
	switch ev.Kind {
	case Begin:
		e.Op = fmt.Sprintf("%s: %s begins", ev.Node, x)
	case Transition:
		e.Op = fmt.Sprintf("%s: %s %s → %s", ev.Node, x, ev.From, ev.To)
		if ev.From == "Begin" {
			e.Result = "decision"
		}
	case Register:
		e.Op = fmt.Sprintf("%s: %s registers branch %d on %s (%s) locking %s", ev.Node, x, ev.Branch, ev.RM, ev.Mode, keys)
		e.Result = "while " + ev.To
	case Branch:
		e.Op = fmt.Sprintf("%s: %s branch %d", ev.Node, x, ev.Branch)
		e.Result = ev.BranchStatus
	case LockGrant:
		e.Op = fmt.Sprintf("%s: global locks %s granted to %s", ev.Node, keys, x)
		e.Key = strings.Join(ev.Keys, " ")
	case LockRelease:
		e.Op = fmt.Sprintf("%s: %s releases global locks %s", ev.Node, x, keys)
		e.Key = strings.Join(ev.Keys, " ")
	case End:
		e.Op = fmt.Sprintf("%s: %s session ends", ev.Node, x)
		e.Result = ev.To
	case PhaseOne:
		e.Op = fmt.Sprintf("%s: phase one of %s branch %d", ev.Node, x, ev.Branch)
		switch {
		case !ev.OK:
			e.Result = "failed: " + ev.Err
		case ev.Key != "":
			e.Result = fmt.Sprintf("%s=%d (version %d)", ev.Key, ev.Value, ev.Version)
		}
	case PhaseTwo:
		verb := "rollback"
		if ev.Commit {
			verb = "commit"
		}
		e.Op = fmt.Sprintf("%s: phase-two %s of %s branch %d", ev.Node, verb, x, ev.Branch)
		e.Result = ev.BranchStatus
	case Fence:
		e.Op = fmt.Sprintf("%s: TCC fence %d:%d %q → %q", ev.Node, ev.XID, ev.Branch, ev.From, ev.To)
	case Audit:
		e.Op = fmt.Sprintf("%s: audit branch %d of %s read every account", ev.Node, ev.Branch, x)
	case Read:
		kind := "read"
		if ev.ForUpdate {
			kind = "select for update"
		}
		e.Op = fmt.Sprintf("%s: %s %s of %s", ev.Node, x, kind, ev.Key)
		e.Result = fmt.Sprintf("%d (version %d)", ev.Value, ev.Version)
	case TMBegin, TMCommit, TMRollback:
		e.Op = fmt.Sprintf("%s: %s %s", ev.Node, strings.TrimPrefix(string(ev.Kind), "tm-"), x)
		e.Result = ev.Outcome
		if ev.Status != "" && ev.Kind != TMBegin {
			e.Result += " (TC: " + ev.Status + ")"
		}
		e.Unknown = ev.Outcome == OutcomeUnknown
	case TMAudit:
		e.Op = fmt.Sprintf("%s: audit %s", ev.Node, x)
		e.Result = fmt.Sprintf("sum %d", ev.Sum)
		if !ev.Complete {
			e.Result = "incomplete"
		}
	case ListTxn:
		e.Op = fmt.Sprintf("%s: list transaction %s", ev.Node, x)
		if ev.Elle != nil {
			e.Op += " " + ev.Elle.String()
			e.Call, e.Result = ev.Elle.Call, ev.Elle.Status.String()
			if ev.Elle.Return > 0 {
				e.Return = ev.Elle.Return
			}
			e.Unknown = ev.Elle.Status == elle.Info
		}
	case Final:
		e.Op = "end state"
		if s := ev.State; s != nil {
			e.Result = fmt.Sprintf("money %d of %d, %d open sessions, %d global locks, serving TC %q", s.Money, s.ExpectedMoney, len(s.Open), len(s.GlobalLocks), s.ServingTC)
		}
	default:
		e.Op = string(ev.Kind)
	}
	return e
}

// WriteJSON writes the history as one JSON object.
func (h *History) WriteJSON(w io.Writer) error { return checkers.WriteJSONLine(w, h) }

// ReadJSON reads a history WriteJSON wrote; unknown fields are errors.
func ReadJSON(r io.Reader) (*History, error) {
	return checkers.ReadStrictJSON[History](r, "coordinator history")
}
