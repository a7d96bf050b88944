package coordinator

import (
	"maps"
	"slices"

	"github.com/sofasim/sofasim/sim"
)

// Item is one TCC item's inventory on an RM. Stock+Frozen+Confirmed
// equals the initial stock at all times; Frozen is 0 once every global
// transaction has finished.
type Item struct {
	Stock, Frozen, Confirmed int64
}

// State is a deployment's state as checkers judge it at the end of a run
// (after the liveness phase): read from the nodes' inspection methods.
type State struct {
	// Money is the sum of every account; ExpectedMoney the initial sum.
	Money, ExpectedMoney int64
	// Items per RM, by item name.
	Items map[sim.NodeID]map[string]Item
	// InitialStock per item.
	InitialStock int64
	// UndoLogs (markers excluded) and local row locks left on each RM.
	UndoLogs   map[sim.NodeID][]string
	LocalLocks map[sim.NodeID][]string
	// The serving TC ("" if none), its global locks and the sessions it
	// still holds (unfinished, or failed and kept for an operator).
	ServingTC   sim.NodeID
	GlobalLocks map[string]XID
	Open        []*Session
	// Down lists TCs and RMs whose process is not running.
	Down []sim.NodeID
}

// ServingTC returns the TC that currently serves (the file-store TC, or
// the raft leader whose term has begun), or nil.
func ServingTC(w *sim.World, cfg Config) *TC {
	for _, id := range cfg.TCs {
		if tc, ok := w.Node(id).(*TC); ok && tc.Serving() && !w.Paused(id) {
			return tc
		}
	}
	return nil
}

// Inspect reads the state of every TC and RM of cfg in w.
func Inspect(w *sim.World, cfg Config) State {
	cfg.defaults()
	s := State{ExpectedMoney: int64(len(cfg.RMs)*cfg.Accounts) * cfg.Balance, InitialStock: cfg.Stock,
		Items: map[sim.NodeID]map[string]Item{}, UndoLogs: map[sim.NodeID][]string{}, LocalLocks: map[sim.NodeID][]string{}}
	for _, id := range cfg.RMs {
		rm, ok := w.Node(id).(*RM)
		if !ok || rm.db == nil {
			s.Down = append(s.Down, id)
			continue
		}
		for _, b := range rm.Accounts() { //detlint:allow summing is order-independent
			s.Money += b
		}
		confirmed := map[string]int64{}
		for _, f := range rm.Fences() { //detlint:allow summing is order-independent
			if f.Status == FenceCommitted {
				confirmed[f.Item] += f.Amount
			}
		}
		items := map[string]Item{}
		stock, frozen := rm.Stock(), rm.Frozen()
		for _, it := range slices.Sorted(maps.Keys(stock)) {
			items[it] = Item{Stock: stock[it], Frozen: frozen[it], Confirmed: confirmed[it]}
		}
		s.Items[id] = items
		if u := rm.UndoLogs(); len(u) > 0 {
			s.UndoLogs[id] = u
		}
		for _, k := range rm.db.Locked() {
			s.LocalLocks[id] = append(s.LocalLocks[id], k.String())
		}
	}
	for _, id := range cfg.TCs {
		if !w.Up(id) {
			s.Down = append(s.Down, id)
		}
	}
	if tc := ServingTC(w, cfg); tc != nil {
		s.ServingTC = tc.id
		s.GlobalLocks = tc.Locks()
		s.Open = tc.Sessions()
	}
	return s
}
