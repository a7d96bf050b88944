package coordinator

import (
	coordcheck "github.com/sofasim/sofasim/checkers/coordinator"
	"github.com/sofasim/sofasim/checkers/elle"
	coordnode "github.com/sofasim/sofasim/nodes/coordinator"
)

// listTxn is a list transaction in flight: its Elle record, filled in as
// its reads return, and the xid its begin got.
type listTxn struct {
	txn elle.Txn
	xid coordnode.XID
}

// startList begins the record of a list transaction and returns it with
// the App's transaction wired to fill in its reads. Keys name the RM and
// the list ("rm-2/l0").
func (c *client) startList(op Op, x coordnode.Txn) (*listTxn, coordnode.Txn) {
	lt := &listTxn{txn: elle.Txn{Process: c.idx, Status: elle.Info, Call: c.sys.now()}}
	for i, m := range x.Mops {
		mop := elle.Mop{Kind: elle.Read, Key: string(m.RM) + "/" + m.List}
		if op.Mops[i].Append != "" {
			mop.Kind, mop.Value = elle.Append, m.Element
		}
		lt.txn.Mops = append(lt.txn.Mops, mop)
	}
	x.OnRead = func(i int, list []string) { lt.txn.Mops[i].List = append([]string{}, list...) }
	return lt, x
}

// status is what the TM's outcome says of a list transaction: committed,
// did not happen (rolled back, or never begun), or unknown.
func status(o coordnode.Outcome) elle.Status {
	switch o {
	case coordnode.OutcomeCommitted:
		return elle.OK
	case coordnode.OutcomeRolledBack, coordnode.OutcomeFailed:
		return elle.Fail
	}
	return elle.Info
}

// event is the history's record of a list transaction.
func (lt *listTxn) event(c *client, t int64) coordcheck.Event {
	x := lt.txn
	return coordcheck.Event{Kind: coordcheck.ListTxn, T: t, Node: string(c.sys.tp.apps()[c.idx]), Client: c.idx, XID: uint64(lt.xid), Elle: &x}
}

// finishList records the list transaction running, if any, as the TM's
// outcome says; o is nil when the application lost it (a restart) or the
// run ended first (unknown).
func (c *client) finishList(o *coordnode.Outcome) {
	lt := c.list
	if lt == nil {
		return
	}
	c.list = nil
	if o != nil {
		lt.txn.Status, lt.txn.Return = status(*o), c.sys.now()
	}
	c.sys.hist.Record(lt.event(c, c.sys.now()))
}
