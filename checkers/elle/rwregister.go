package elle

import "fmt"

// initial stands for a register's initial, never-written state in version
// graphs (a read of nil).
const initial = "\x00nil"

// rwRegister infers dependencies for registers with unique written
// values. Version orders come from what is known for sure, as in Elle:
// the initial state precedes every written version, and, with WFRKeys, a
// transaction that read version a of a key and then wrote b puts a before
// b, and with LinearizableKeys real-time order on each key orders the
// versions transactions saw or left. Each version edge a -> b gives ww
// (writer of a -> writer of b) and rw (each reader of a -> writer of b);
// each read gives wr.
func (a *analysis) rwRegister(wfr, linKeys bool) error {
	a.stage("rw-register: reads and writes")
	writer := map[string]map[string]int{}
	final := map[wkey]string{} // the last value a txn wrote to a key
	for _, t := range a.txns {
		for _, m := range t.Mops {
			switch {
			case m.Kind == Append:
				return fmt.Errorf("transaction %d: %s is a list append: check it with --model list-append", t.ID, m)
			case m.Kind == Read && m.List != nil && t.Status == OK:
				return fmt.Errorf("transaction %d: %s reads a list: check it with --model list-append", t.ID, m)
			case m.Kind == Write:
				if writer[m.Key] == nil {
					writer[m.Key] = map[string]int{}
				}
				if w, dup := writer[m.Key][m.Value]; dup && w != t.ID {
					return fmt.Errorf("transactions %d and %d both write %s = %s: rw-register needs unique values per key", w, t.ID, m.Key, m.Value)
				}
				writer[m.Key][m.Value] = t.ID
				final[wkey{t.ID, m.Key}] = m.Value
			}
		}
	}
	show := func(v string) string {
		if v == initial {
			return "nil"
		}
		return v
	}
	ext := map[wkey]string{} // a committed txn's first read of a key, before its own writes
	hasExt := map[wkey]bool{}
	writes := map[wkey]bool{}
	succ := map[string]map[string]map[string]bool{} // key -> version -> next versions
	link := func(k, from, to string) {
		if succ[k] == nil {
			succ[k] = map[string]map[string]bool{}
		}
		if succ[k][from] == nil {
			succ[k][from] = map[string]bool{}
		}
		succ[k][from][to] = true
	}
	for _, t := range a.txns {
		if t.Status != OK {
			continue
		}
		state := map[string]string{}
		known := map[string]bool{}
		for _, m := range t.Mops {
			k := m.Key
			if m.Kind == Write {
				if wfr && hasExt[wkey{t.ID, k}] && !writes[wkey{t.ID, k}] && ext[wkey{t.ID, k}] != m.Value {
					link(k, ext[wkey{t.ID, k}], m.Value)
				}
				writes[wkey{t.ID, k}] = true
				state[k], known[k] = m.Value, true
				continue
			}
			v := m.Value
			if m.Nil {
				v = initial
			}
			if known[k] && state[k] != v {
				a.add(Internal, []int{t.ID}, "T%d read %s = %s, but its own earlier reads and writes say %s = %s", t.ID, k, show(v), k, show(state[k]))
			}
			if !known[k] {
				ext[wkey{t.ID, k}], hasExt[wkey{t.ID, k}] = v, true
			}
			state[k], known[k] = v, true
		}
	}
	for _, wk := range sortedWkeys(hasExt) {
		v := ext[wk]
		if v == initial {
			continue
		}
		// A value nobody wrote is taken, as Elle does, for a state from
		// before the history (tests preload registers that way).
		w, ok := writer[wk.key][v]
		switch {
		case !ok, w == wk.txn:
		case a.txns[w].Status == Fail:
			a.add(G1a, []int{wk.txn, w}, "T%d read %s = %s, written by T%d, which failed (aborted)", wk.txn, wk.key, v, w)
		case final[wkey{w, wk.key}] != v:
			a.add(G1b, []int{wk.txn, w}, "T%d read %s = %s: an intermediate state of T%d, which then wrote %s = %s", wk.txn, wk.key, v, w, wk.key, final[wkey{w, wk.key}])
		}
	}
	a.stage("rw-register: version orders")
	read := map[wkey]bool{} // (writer, key) pairs whose final value someone read
	for wk, v := range ext {
		if w, ok := writer[wk.key][v]; ok {
			read[wkey{w, wk.key}] = true
		}
	}
	for _, k := range sortedKeys(writer) {
		for _, v := range sortedKeys(writer[k]) {
			w := writer[k][v]
			// An unread write of a txn that may never have happened is no
			// known version.
			if final[wkey{w, k}] == v && (a.txns[w].Status == OK || read[wkey{w, k}]) {
				link(k, initial, v)
			}
		}
	}
	if linKeys {
		a.linearizableKeys(final, ext, hasExt, link)
	}
	skip := map[string]bool{}
	for _, k := range sortedKeys(succ) {
		if cyc := versionCycle(succ[k]); cyc != nil {
			skip[k] = true
			var ids []int
			for _, v := range cyc {
				if w, ok := writer[k][v]; ok {
					ids = append(ids, w)
				}
			}
			a.add(CyclicVersions, ids, "the versions of %s must follow each other in a cycle (%v), as the transactions that read one and wrote the next say", k, cyc)
		}
	}
	a.stage("rw-register: dependencies")
	live := func(k, v string) (int, bool) {
		w, ok := writer[k][v]
		return w, ok && a.txns[w].Status != Fail && final[wkey{w, k}] == v
	}
	for _, k := range sortedKeys(succ) {
		if skip[k] {
			continue
		}
		for _, v1 := range sortedKeys(succ[k]) {
			w1, ok1 := live(k, v1)
			if !ok1 {
				continue
			}
			for _, v2 := range sortedKeys(succ[k][v1]) {
				if w2, ok := live(k, v2); ok {
					a.g.add(Edge{From: w1, To: w2, Rel: WW, Key: k, Value: v1, Next: v2})
				}
			}
		}
	}
	for _, wk := range sortedWkeys(hasExt) {
		k, r, v := wk.key, wk.txn, ext[wk]
		if skip[k] {
			continue
		}
		if w, ok := live(k, v); ok {
			a.g.add(Edge{From: w, To: r, Rel: WR, Key: k, Value: v, Read: v})
		}
		for _, v2 := range sortedKeys(succ[k][v]) {
			if w, ok := live(k, v2); ok {
				a.g.add(Edge{From: r, To: w, Rel: RW, Key: k, Next: v2, Read: show(v)})
			}
		}
	}
	byVersion := map[string]map[string][]int{}
	for _, wk := range sortedWkeys(hasExt) {
		if !writes[wk] || skip[wk.key] {
			continue
		}
		if byVersion[wk.key] == nil {
			byVersion[wk.key] = map[string][]int{}
		}
		byVersion[wk.key][ext[wk]] = append(byVersion[wk.key][ext[wk]], wk.txn)
	}
	for _, k := range sortedKeys(byVersion) {
		for _, v := range sortedKeys(byVersion[k]) {
			if ts := byVersion[k][v]; len(ts) > 1 {
				a.add(LostUpdate, ts, "%s read %s = %s and then wrote %s: each update was made without seeing the others'", txnList(ts), k, show(v), k)
			}
		}
	}
	return nil
}

// versionCycle returns the versions of a cycle in a key's version graph,
// or nil.
func versionCycle(succ map[string]map[string]bool) []string {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var found []string
	var visit func(v string) bool
	visit = func(v string) bool {
		color[v] = grey
		stack = append(stack, v)
		for _, w := range sortedKeys(succ[v]) {
			switch color[w] {
			case grey:
				for i := len(stack) - 1; i >= 0; i-- {
					if stack[i] == w {
						found = append([]string(nil), stack[i:]...)
						return true
					}
				}
			case white:
				if visit(w) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[v] = black
		return false
	}
	for _, v := range sortedKeys(succ) {
		if color[v] == white && visit(v) {
			return found
		}
	}
	return nil
}

// linearizableKeys links, key by key, the version each transaction left
// (its last write, else what it read) to the version each transaction
// invoked after it completed first saw (its read, else its write).
func (a *analysis) linearizableKeys(final, ext map[wkey]string, hasExt map[wkey]bool, link func(k, from, to string)) {
	byKey := map[string][]int{}
	for _, t := range a.txns {
		seen := map[string]bool{}
		for _, m := range t.Mops {
			wk := wkey{t.ID, m.Key}
			if _, wrote := final[wk]; !seen[m.Key] && t.Status != Fail && (wrote || t.Status == OK && hasExt[wk]) {
				seen[m.Key] = true
				byKey[m.Key] = append(byKey[m.Key], t.ID)
			}
		}
	}
	for _, k := range sortedKeys(byKey) {
		realtimeOrder(a.txns, byKey[k], func(p, q int) {
			from, ok := final[wkey{p, k}]
			if !ok {
				from = ext[wkey{p, k}]
			}
			to, ok := ext[wkey{q, k}]
			if !ok || a.txns[q].Status != OK {
				to = final[wkey{q, k}]
			}
			if from != to {
				link(k, from, to)
			}
		})
	}
}
