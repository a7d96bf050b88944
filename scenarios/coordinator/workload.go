package coordinator

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"pgregory.net/rapid"

	coordcheck "github.com/sofasim/sofasim/checkers/coordinator"
	coordnode "github.com/sofasim/sofasim/nodes/coordinator"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

// Op is one global transaction a client runs: an AT transfer of Amount
// from account From of RM FromRM to account To of RM ToRM (the debit in
// two branches when Split), a TCC reservation of Amount of item From on
// FromRM, an audit of every account, or a SELECT FOR UPDATE read of
// account From on FromRM, or a list-append transaction (Mops: appends to
// lists, each an AT branch, and SELECT FOR UPDATE reads of lists). Abort
// rolls the transaction back after its branches ran. RMs, accounts, items
// and lists are indexes.
type Op struct {
	scenarios.OpTiming
	Kind   string `json:"kind"`
	FromRM int    `json:"from_rm,omitempty"`
	From   int    `json:"from,omitempty"`
	ToRM   int    `json:"to_rm,omitempty"`
	To     int    `json:"to,omitempty"`
	Amount int64  `json:"amount,omitempty"`
	Split  bool   `json:"split,omitempty"`
	Abort  bool   `json:"abort,omitempty"`
	Mops   []Mop  `json:"mops,omitempty"`
}

// Mop is one micro-operation of a list transaction: append Append (an
// element unique in the plan) to list List of RM RM, or, with Append
// empty, read that list with SELECT FOR UPDATE.
type Mop struct {
	RM     int    `json:"rm"`
	List   int    `json:"list"`
	Append string `json:"append,omitempty"`
}

// The coordinator workload's operation kinds.
const (
	OpTransfer = string(coordnode.TxnTransfer)
	OpReserve  = string(coordnode.TxnReserve)
	OpAudit    = string(coordnode.TxnAudit)
	OpRead     = string(coordnode.TxnRead)
	OpList     = string(coordnode.TxnList)
)

// OpKinds lists the operation kinds.
var OpKinds = []string{OpTransfer, OpReserve, OpAudit, OpRead, OpList}

// txn turns an operation into the App's transaction, checking its indexes
// against the topology (a plan edited by hand may name an RM that does
// not exist).
func (op Op) txn(t topo) (coordnode.Txn, error) {
	rm := func(i int) (sim.NodeID, error) {
		if i < 0 || i >= len(t.cfg.RMs) {
			return "", fmt.Errorf("rm %d out of 0..%d", i, len(t.cfg.RMs)-1)
		}
		return t.cfg.RMs[i], nil
	}
	in := func(i, n int, what string) error {
		if i < 0 || i >= n {
			return fmt.Errorf("%s %d out of 0..%d", what, i, n-1)
		}
		return nil
	}
	x := coordnode.Txn{Kind: coordnode.TxnKind(op.Kind), Amount: op.Amount, Split: op.Split, Abort: op.Abort}
	var err error
	switch op.Kind {
	case OpAudit:
		return x, nil
	case OpList:
		if len(op.Mops) == 0 {
			return x, fmt.Errorf("list transaction without mops")
		}
		for _, m := range op.Mops {
			r, err := rm(m.RM)
			if err != nil {
				return x, err
			}
			if err := in(m.List, t.cfg.Lists, "list"); err != nil {
				return x, err
			}
			if strings.ContainsAny(m.Append, " \t\n") {
				return x, fmt.Errorf("list element %q has a space", m.Append)
			}
			x.Mops = append(x.Mops, coordnode.ListMop{RM: r, List: coordnode.ListName(m.List), Element: m.Append})
		}
		return x, nil
	case OpReserve:
		if x.FromRM, err = rm(op.FromRM); err != nil {
			return x, err
		}
		x.From = coordnode.ItemName(op.From)
		return x, in(op.From, t.cfg.Items, "item")
	}
	if x.FromRM, err = rm(op.FromRM); err != nil {
		return x, err
	}
	x.From = coordnode.AccountName(op.From)
	if err := in(op.From, t.cfg.Accounts, "account"); err != nil {
		return x, err
	}
	if op.Kind == OpRead {
		return x, nil
	}
	if x.ToRM, err = rm(op.ToRM); err != nil {
		return x, err
	}
	x.To = coordnode.AccountName(op.To)
	return x, in(op.To, t.cfg.Accounts, "account")
}

// writes are the account changes a transfer makes if it commits.
func (op Op) writes(t topo) []coordcheck.Write {
	if op.Kind != OpTransfer {
		return nil
	}
	return []coordcheck.Write{
		{RM: string(t.cfg.RMs[op.FromRM]), Account: coordnode.AccountName(op.From), Delta: -op.Amount},
		{RM: string(t.cfg.RMs[op.ToRM]), Account: coordnode.AccountName(op.To), Delta: op.Amount},
	}
}

// drawOps draws up to maxOps transactions spread over the clients in the
// first 70% of the run: mostly transfers (some split over two branches on
// one row, some aborted, some overdrawing a hot account so that they roll
// back), TCC reservations, audits and SELECT FOR UPDATE reads.
func drawOps(t *rapid.T, tp topo, mix []string, maxOps int, d time.Duration) []Op {
	n := 0
	if maxOps > 0 {
		n = rapid.IntRange(maxOps/2, maxOps).Draw(t, "ops")
	}
	window := max(1, int64(d)*7/10/int64(time.Millisecond))
	rms, accts := len(tp.cfg.RMs), tp.cfg.Accounts
	ops := make([]Op, 0, n)
	elements := 0
	for i := 0; i < n; i++ {
		op := Op{OpTiming: scenarios.OpTiming{
			Client: rapid.IntRange(0, tp.napps-1).Draw(t, "client"),
			At:     sim.Duration(time.Duration(rapid.Int64Range(0, window).Draw(t, "at-ms")) * time.Millisecond),
		}}
		op.Kind = rapid.SampledFrom(mix).Draw(t, "kind")
		switch op.Kind {
		case OpTransfer:
			op.FromRM, op.From = rapid.IntRange(0, rms-1).Draw(t, "from-rm"), rapid.IntRange(0, accts-1).Draw(t, "from")
			op.ToRM, op.To = rapid.IntRange(0, rms-1).Draw(t, "to-rm"), rapid.IntRange(0, accts-1).Draw(t, "to")
			if op.ToRM == op.FromRM && op.To == op.From {
				op.To = (op.To + 1) % accts
			}
			// Now and then more than an account holds: the debit fails and the transaction rolls back.
			op.Amount = rapid.Int64Range(1, 50).Draw(t, "amount")
			if rapid.IntRange(0, 19).Draw(t, "overdraw") == 0 {
				op.Amount = tp.balance + rapid.Int64Range(1, 100).Draw(t, "over")
			}
			op.Split = rapid.IntRange(0, 2).Draw(t, "split") == 0
			op.Abort = rapid.IntRange(0, 9).Draw(t, "abort") == 0
		case OpReserve:
			op.FromRM, op.From = rapid.IntRange(0, rms-1).Draw(t, "rm"), rapid.IntRange(0, tp.cfg.Items-1).Draw(t, "item")
			op.Amount = rapid.Int64Range(1, max(1, tp.stock/4)).Draw(t, "amount")
			op.Abort = rapid.IntRange(0, 4).Draw(t, "abort") == 0
		case OpRead:
			op.FromRM, op.From = rapid.IntRange(0, rms-1).Draw(t, "rm"), rapid.IntRange(0, accts-1).Draw(t, "account")
		case OpList:
			op.Mops = drawMops(t, tp, &elements)
			op.Abort = rapid.IntRange(0, 9).Draw(t, "abort") == 0
		}
		ops = append(ops, op)
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].At < ops[j].At })
	return ops
}

// mixBasic is the transactions the account scenarios draw, mixList the
// list-append scenario's: mostly list transactions, with transfers, reads
// and audits so the money checkers keep judging the same deployment.
var (
	mixBasic = []string{OpTransfer, OpTransfer, OpTransfer, OpTransfer, OpTransfer, OpTransfer, OpReserve, OpReserve, OpAudit, OpRead}
	mixList  = []string{OpList, OpList, OpList, OpList, OpList, OpList, OpTransfer, OpTransfer, OpRead, OpAudit}
)

// drawMops draws one to four micro-ops on hot lists, half appends of a
// fresh element (elements counts those drawn so far), half reads.
func drawMops(t *rapid.T, tp topo, elements *int) []Mop {
	n := rapid.IntRange(1, 4).Draw(t, "mops")
	out := make([]Mop, n)
	for i := range out {
		out[i] = Mop{RM: rapid.IntRange(0, len(tp.cfg.RMs)-1).Draw(t, "list-rm"), List: rapid.IntRange(0, tp.cfg.Lists-1).Draw(t, "list")}
		if rapid.Bool().Draw(t, "append") {
			*elements++
			out[i].Append = strconv.Itoa(*elements)
		}
	}
	return out
}
