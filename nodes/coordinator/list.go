package coordinator

import (
	"errors"
	"strconv"
	"strings"

	"github.com/sofasim/sofasim/nodes/rowdb"
	"github.com/sofasim/sofasim/sim"
)

// ListName names the i-th list of an RM.
func ListName(i int) string { return "l" + strconv.Itoa(i) }

// ListMop is one micro-operation of a TxnList: append Element to list
// List of RM (an AT branch), or, with Element empty, read the list with
// SELECT FOR UPDATE.
type ListMop struct {
	RM      sim.NodeID
	List    string
	Element string
}

// Elements splits a list row into its elements.
func Elements(row string) []string { return strings.Fields(row) }

// addAmount is a transfer's change to a balance row.
func addAmount(amt int64) func(rowdb.Row) (string, error) {
	return func(r rowdb.Row) (string, error) {
		nb := balance(r) + amt
		if nb < 0 {
			return "", errors.New("insufficient balance")
		}
		return strconv.FormatInt(nb, 10), nil
	}
}

// appendElement is an append's change to a list row.
func appendElement(e string) func(rowdb.Row) (string, error) {
	return func(r rowdb.Row) (string, error) {
		if e == "" || strings.ContainsAny(e, " \t\n") {
			return "", errors.New("bad list element")
		}
		if r.Value == "" {
			return e, nil
		}
		return r.Value + " " + e, nil
	}
}

// runList runs a TxnList's mops in order, stopping at the first failure.
func (a *App) runList(t Txn) func(XID, func(error)) {
	return func(x XID, done func(error)) {
		fns := make([]func(func(error)), len(t.Mops))
		for i, m := range t.Mops {
			fns[i] = func(d func(error)) {
				if m.Element != "" {
					a.call(m.RM, Call{Op: CallAppend, XID: x, Account: m.List, Element: m.Element}, func(_ *CallResp, err error) { d(err) })
					return
				}
				a.call(m.RM, Call{Op: CallRead, XID: x, Account: m.List, List: true, ForUpdate: true}, func(r *CallResp, err error) {
					if err == nil && t.OnRead != nil {
						t.OnRead(i, Elements(r.Text))
					}
					d(err)
				})
			}
		}
		steps(fns, done)
	}
}
