package elle

import (
	"fmt"
	"slices"
	"strings"
)

// Model names the data type the transactions operate on.
type Model string

const (
	ListAppend Model = "list-append" // lists: [:append k v], [:r k [v ...]]
	RWRegister Model = "rw-register" // registers: [:w k v], [:r k v]
)

// Options configure a check.
type Options struct {
	Model Model
	// Consistency is the model the history is judged by (see
	// [Consistencies]); "" means strict-serializable, as in Elle.
	Consistency string
	// WFRKeys assumes that within a transaction writes follow reads, so a
	// transaction that read version a of a register and wrote b orders a
	// before b (Elle's :wfr-keys?, off by default as there). rw-register only.
	WFRKeys bool
	// LinearizableKeys assumes every key is linearizable on its own, so
	// the version a transaction saw or left precedes the one any
	// transaction invoked after it completed saw or left (Elle's
	// :linearizable-keys?). rw-register only.
	LinearizableKeys bool
	// Progress, when set, hears the stage a long check is in.
	Progress func(stage string)
}

// Anomaly is one anomaly found, with the transactions it involves. Cycle
// anomalies carry their cycle (each edge's To is the next edge's From,
// and the last edge returns to the first's From).
type Anomaly struct {
	Type        string `json:"type"`
	Txns        []int  `json:"txns"`
	Cycle       []Edge `json:"cycle,omitempty"`
	Explanation string `json:"explanation"`
}

// Result is a check's verdict. Valid is false when an anomaly found is
// ruled out by the chosen consistency model; RuledOut lists every model
// the anomalies rule out, weakest first.
type Result struct {
	Valid       bool      `json:"valid"`
	Model       Model     `json:"model"`
	Consistency string    `json:"consistency"`
	Txns        int       `json:"txns"`
	Types       []string  `json:"anomaly_types,omitempty"`
	RuledOut    []string  `json:"ruled_out,omitempty"`
	Anomalies   []Anomaly `json:"anomalies,omitempty"`
	Explanation string    `json:"explanation"`
}

// maxPerType bounds the anomalies reported of each type, and maxTries the
// candidate edges a cycle search tries per component, so a history with
// huge components is still explained in seconds.
const (
	maxPerType = 8
	maxTries   = 24
)

// Check infers the dependencies between the transactions (write-write,
// write-read, read-write from the data, and real-time order from calls
// and returns), looks for anomalies and cycles, and judges the history
// against the consistency model. Transactions must have ID equal to
// their index. Failed transactions did not happen; Info ones may have
// (their writes count when read, their reads are unknown).
func Check(txns []Txn, opts Options) (Result, error) {
	if opts.Consistency == "" {
		opts.Consistency = "strict-serializable"
	}
	if err := CheckConsistency(opts.Consistency); err != nil {
		return Result{}, err
	}
	for i, t := range txns {
		if t.ID != i {
			return Result{}, fmt.Errorf("transaction at index %d has id %d (ids must be indexes)", i, t.ID)
		}
	}
	a := &analysis{txns: txns, g: newGraph(len(txns)), progress: opts.Progress, model: opts.Model}
	switch opts.Model {
	case ListAppend:
		if err := a.listAppend(); err != nil {
			return Result{}, err
		}
	case RWRegister:
		if err := a.rwRegister(opts.WFRKeys, opts.LinearizableKeys); err != nil {
			return Result{}, err
		}
	default:
		return Result{}, fmt.Errorf("unknown transactional model %q (available: %s, %s)", opts.Model, ListAppend, RWRegister)
	}
	// As in Elle, real-time order is searched only when the model judged
	// needs it: a serializable history may well have real-time cycles.
	a.withRealtime = opts.Consistency == "strict-serializable"
	if a.withRealtime {
		a.stage("real-time order")
		a.realtime()
	}
	a.stage("cycles")
	a.cycles()
	return a.result(opts), nil
}

type analysis struct {
	txns      []Txn
	g         *graph
	anomalies []Anomaly
	progress  func(string)
	model     Model
	// withRealtime is set when real-time edges are in the graph.
	withRealtime bool
}

func (a *analysis) stage(s string) {
	if a.progress != nil {
		a.progress(s)
	}
}

func (a *analysis) add(typ string, txns []int, format string, args ...any) {
	slices.Sort(txns)
	a.anomalies = append(a.anomalies, Anomaly{Type: typ, Txns: slices.Compact(txns), Explanation: fmt.Sprintf(format, args...)})
}

// realtime adds an edge from each committed transaction to each one
// invoked after it returned, keeping only the transitive reduction's
// frontier (see [realtimeOrder]).
func (a *analysis) realtime() {
	ids := make([]int, 0, len(a.txns))
	for _, t := range a.txns {
		ids = append(ids, t.ID)
	}
	realtimeOrder(a.txns, ids, func(from, to int) { a.g.add(Edge{From: from, To: to, Rel: Realtime}) })
}

// realtimeOrder calls edge(p, t) for the transactions p among ids that
// completed before t (among ids) was invoked, sparing the edges implied
// by others: once T completes, those that completed before T began reach
// later transactions through T. Failed transactions take no part; Info
// ones (which never completed) and those without a call are only ever
// the source or target they can be.
func realtimeOrder(txns []Txn, ids []int, edge func(from, to int)) {
	type event struct {
		at   int64
		id   int
		call bool
	}
	var evs []event
	for _, id := range ids {
		t := txns[id]
		if t.Status == Fail {
			continue
		}
		if t.Call > 0 {
			evs = append(evs, event{t.Call, t.ID, true})
		}
		if t.Status == OK && t.Return > 0 {
			evs = append(evs, event{t.Return, t.ID, false})
		}
	}
	slices.SortFunc(evs, func(x, y event) int {
		if x.at != y.at {
			return cmp64(x.at, y.at)
		}
		if x.call != y.call { // a return at the same stamp is not before the call
			if x.call {
				return -1
			}
			return 1
		}
		return x.id - y.id
	})
	frontier := map[int]bool{}
	preds := map[int][]int{}
	for _, e := range evs {
		if e.call {
			ps := make([]int, 0, len(frontier))
			for p := range frontier {
				ps = append(ps, p)
			}
			slices.Sort(ps)
			preds[e.id] = ps
			for _, p := range ps {
				edge(p, e.id)
			}
			continue
		}
		for _, p := range preds[e.id] {
			delete(frontier, p)
		}
		delete(preds, e.id)
		frontier[e.id] = true
	}
}

func cmp64(x, y int64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// cycles finds, per strongly connected component, the shortest cycle of
// each kind: G0 (ww only), G1c (ww and wr, at least one wr), G-single
// (exactly one rw), G2-item (two or more rw), and with real-time edges
// the realtime variants.
func (a *analysis) cycles() {
	counts := map[string]int{}
	report := func(typ string, cyc []int32) {
		counts[typ]++
		if counts[typ] > maxPerType {
			return
		}
		edges := make([]Edge, len(cyc))
		var ids []int
		for i, ei := range cyc {
			edges[i] = a.g.edge[ei]
			ids = append(ids, edges[i].From)
		}
		slices.Sort(ids)
		a.anomalies = append(a.anomalies, Anomaly{Type: typ, Txns: slices.Compact(ids), Cycle: edges, Explanation: a.explainCycle(typ, edges)})
	}
	data := WW | WR | RW
	type search struct {
		typ     string
		scc     Rel  // components of these edges
		through Rel  // the cycle goes through an edge of this kind
		rest    Rel  // and returns along these
		needRW  bool // with at least one rw among them
	}
	for _, s := range []search{
		{G0, WW, WW, WW, false},
		{G1c, WW | WR, WR, WW | WR, false},
		{GSingle, data, RW, WW | WR, false},
		{G2Item, data, RW, data, true},
		{"realtime", data | Realtime, Realtime, data | Realtime, false},
	} {
		if s.through == Realtime && !a.withRealtime {
			continue
		}
		for _, comp := range a.g.sccs(s.scc) {
			in := make(map[int]bool, len(comp))
			for _, v := range comp {
				in[v] = true
			}
			var best []int32
			tries := 0
			for _, v := range comp {
				for _, ei := range a.g.out[v] {
					e := a.g.edge[ei]
					if e.Rel != s.through || !in[e.To] || tries >= maxTries {
						continue
					}
					tries++
					p := a.g.path(e.To, e.From, in, s.rest, s.needRW)
					if p != nil && (best == nil || len(p)+1 < len(best)) {
						best = append([]int32{ei}, p...)
					}
				}
			}
			if best == nil {
				continue
			}
			typ := s.typ
			if typ == "realtime" {
				typ = realtimeType(a.g, best)
			} else if typ == G2Item && nonadjacent(a.g, best) {
				typ = GNonadjacent
			}
			report(typ, best)
		}
	}
	for typ, n := range counts {
		if n > maxPerType {
			a.add(typ, nil, "and %d more %s cycles in other components, not shown", n-maxPerType, typ)
		}
	}
}

// realtimeType names a cycle that needs real-time edges by its data edges.
func realtimeType(g *graph, cyc []int32) string {
	rw, wr := 0, 0
	for _, ei := range cyc {
		switch g.edge[ei].Rel {
		case RW:
			rw++
		case WR:
			wr++
		}
	}
	switch {
	case rw >= 2:
		return G2ItemRealtime
	case rw == 1:
		return GSingleRealtime
	case wr > 0:
		return G1cRealtime
	}
	return G0Realtime
}

// nonadjacent reports whether no two rw edges of the cycle follow each
// other (counting around the end): snapshot isolation forbids such cycles.
func nonadjacent(g *graph, cyc []int32) bool {
	for i := range cyc {
		if g.edge[cyc[i]].Rel == RW && g.edge[cyc[(i+1)%len(cyc)]].Rel == RW {
			return false
		}
	}
	return true
}

func (a *analysis) result(opts Options) Result {
	slices.SortStableFunc(a.anomalies, func(x, y Anomaly) int { return severityOf(x.Type) - severityOf(y.Type) })
	res := Result{Model: opts.Model, Consistency: opts.Consistency, Txns: len(a.txns), Anomalies: a.anomalies}
	for _, an := range a.anomalies {
		if !slices.Contains(res.Types, an.Type) {
			res.Types = append(res.Types, an.Type)
		}
	}
	res.RuledOut = RuledOut(res.Types)
	res.Valid = !slices.Contains(res.RuledOut, opts.Consistency)
	committed := 0
	for _, t := range a.txns {
		if t.Status == OK {
			committed++
		}
	}
	switch {
	case len(res.Types) == 0:
		res.Explanation = fmt.Sprintf("no anomalies in %d transactions (%d committed): consistent with %s", len(a.txns), committed, opts.Consistency)
	case res.Valid:
		res.Explanation = fmt.Sprintf("%s allowed by %s, found in %d transactions; they rule out %s",
			strings.Join(res.Types, ", "), opts.Consistency, len(a.txns), strings.Join(res.RuledOut, ", "))
	default:
		res.Explanation = fmt.Sprintf("not %s: found %s in %d transactions, which rule out %s",
			opts.Consistency, strings.Join(res.Types, ", "), len(a.txns), strings.Join(res.RuledOut, ", "))
	}
	return res
}
