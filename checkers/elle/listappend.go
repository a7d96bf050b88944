package elle

import (
	"fmt"
	"slices"
	"strings"
)

type wkey struct {
	txn int
	key string
}

// listAppend infers dependencies for lists of unique appended values:
// each key's version order is its longest committed read (every other
// read must be a prefix of it), followed, in an unknown order, by the
// committed appends nobody read.
func (a *analysis) listAppend() error {
	a.stage("list-append: reads and writes")
	writer := map[string]map[string]int{} // key -> value -> txn
	last := map[wkey]string{}             // the last value a txn appended to a key
	for _, t := range a.txns {
		for _, m := range t.Mops {
			switch {
			case m.Kind == Write:
				return fmt.Errorf("transaction %d: %s is a register write: check it with --model rw-register", t.ID, m)
			case m.Kind == Read && !m.Nil && m.List == nil && t.Status == OK:
				return fmt.Errorf("transaction %d: %s reads a single value, not a list: check it with --model rw-register", t.ID, m)
			case m.Kind == Append:
				if writer[m.Key] == nil {
					writer[m.Key] = map[string]int{}
				}
				if w, dup := writer[m.Key][m.Value]; dup && w != t.ID {
					return fmt.Errorf("transactions %d and %d both append %s to %s: list-append needs unique values per key", w, t.ID, m.Value, m.Key)
				}
				writer[m.Key][m.Value] = t.ID
				last[wkey{t.ID, m.Key}] = m.Value
			}
		}
	}
	// Reads of committed transactions, internal consistency, duplicates.
	type read struct {
		txn  int
		list []string
	}
	reads := map[string][]read{} // every committed read, by key
	ext := map[wkey][]string{}   // a txn's external read of a key (its view before its own appends)
	hasExt := map[wkey]bool{}
	appends := map[wkey]bool{}
	for _, t := range a.txns {
		if t.Status != OK {
			continue
		}
		state := map[string][]string{} // the list as the txn should see it, when known
		known := map[string]bool{}
		own := map[string][]string{} // own appends not yet seen by a read
		for _, m := range t.Mops {
			k := m.Key
			if m.Kind == Append {
				appends[wkey{t.ID, k}] = true
				if known[k] {
					state[k] = append(slices.Clone(state[k]), m.Value)
				} else {
					own[k] = append(own[k], m.Value)
				}
				continue
			}
			list := m.List
			if m.Nil {
				list = []string{}
			}
			reads[k] = append(reads[k], read{t.ID, list})
			switch {
			case known[k] && !slices.Equal(list, state[k]):
				a.add(Internal, []int{t.ID}, "T%d read %s = %s, but its own earlier reads and appends say %s = %s", t.ID, k, showList(list), k, showList(state[k]))
			case !known[k] && len(own[k]) > 0 && !hasSuffix(list, own[k]):
				a.add(Internal, []int{t.ID}, "T%d appended %s to %s, then read %s = %s, which does not end with its own appends", t.ID, strings.Join(own[k], ", "), k, k, showList(list))
			}
			if !known[k] {
				e := list
				if len(own[k]) > 0 && hasSuffix(list, own[k]) {
					e = list[:len(list)-len(own[k])]
				}
				if !(len(own[k]) > 0 && !hasSuffix(list, own[k])) {
					ext[wkey{t.ID, k}], hasExt[wkey{t.ID, k}] = e, true
				}
			}
			state[k], known[k] = list, true
			own[k] = nil
		}
	}
	// Version orders; incompatible reads; aborted, intermediate and garbage reads.
	a.stage("list-append: version orders")
	order := map[string][]string{}
	skip := map[string]bool{}
	for _, k := range sortedKeys(reads) {
		rs := reads[k]
		longest := rs[0]
		for _, r := range rs[1:] {
			if len(r.list) > len(longest.list) {
				longest = r
			}
		}
		order[k] = longest.list
		// Every compatible read is a prefix of the longest, so one look
		// for a repeated value there finds them in all.
		dupAt, dupOf := firstDuplicate(longest.list)
		for _, r := range rs {
			if len(r.list) > dupAt {
				a.add(DuplicateElement, []int{r.txn}, "T%d read %s = %s, which holds %s more than once", r.txn, k, showList(r.list), dupOf)
			}
		}
		for _, r := range rs {
			if !isPrefix(r.list, longest.list) {
				if at, v := firstDuplicate(r.list); at < len(r.list) {
					a.add(DuplicateElement, []int{r.txn}, "T%d read %s = %s, which holds %s more than once", r.txn, k, showList(r.list), v)
				}
				a.add(IncompatibleOrder, []int{r.txn, longest.txn}, "T%d read %s = %s and T%d read %s = %s: neither is a prefix of the other, so no single order of appends explains both",
					r.txn, k, showList(r.list), longest.txn, k, showList(longest.list))
				skip[k] = true
				break
			}
		}
		seen := map[string]bool{}
		for _, r := range rs {
			for _, v := range r.list {
				if seen[v] {
					continue
				}
				seen[v] = true
				w, ok := writer[k][v]
				switch {
				case !ok:
					a.add(GarbageRead, []int{r.txn}, "T%d read %s = %s, but no transaction appended %s to %s", r.txn, k, showList(r.list), v, k)
				case a.txns[w].Status == Fail:
					a.add(G1a, []int{r.txn, w}, "T%d read %s = %s, including %s, appended by T%d, which failed (aborted)", r.txn, k, showList(r.list), v, w)
				}
			}
		}
	}
	for _, wk := range sortedWkeys(hasExt) {
		e := ext[wk]
		if len(e) == 0 {
			continue
		}
		v := e[len(e)-1]
		if w, ok := writer[wk.key][v]; ok && w != wk.txn && a.txns[w].Status != Fail && last[wkey{w, wk.key}] != v {
			a.add(G1b, []int{wk.txn, w}, "T%d read %s = %s, ending with %s: an intermediate state of T%d, which appended %s to %s afterwards",
				wk.txn, wk.key, showList(e), v, w, last[wkey{w, wk.key}], wk.key)
		}
	}
	// Dependencies.
	a.stage("list-append: dependencies")
	unread := map[string][]string{} // committed appends in no read, by key
	for _, k := range sortedKeys(writer) {
		inOrder := map[string]bool{}
		for _, v := range order[k] {
			inOrder[v] = true
		}
		for _, v := range sortedKeys(writer[k]) {
			if !inOrder[v] && a.txns[writer[k][v]].Status == OK {
				unread[k] = append(unread[k], v)
			}
		}
	}
	live := func(id int, ok bool) bool { return ok && a.txns[id].Status != Fail }
	for _, k := range sortedKeys(writer) {
		if skip[k] {
			continue
		}
		o := order[k]
		for i := 0; i+1 < len(o); i++ {
			w1, ok1 := writer[k][o[i]]
			w2, ok2 := writer[k][o[i+1]]
			if live(w1, ok1) && live(w2, ok2) {
				a.g.add(Edge{From: w1, To: w2, Rel: WW, Key: k, Value: o[i], Next: o[i+1]})
			}
		}
		if len(o) > 0 {
			if w1, ok := writer[k][o[len(o)-1]]; live(w1, ok) {
				for _, v := range unread[k] {
					a.g.add(Edge{From: w1, To: writer[k][v], Rel: WW, Key: k, Value: o[len(o)-1], Next: v})
				}
			}
		}
	}
	for _, wk := range sortedWkeys(hasExt) {
		k, r := wk.key, wk.txn
		if skip[k] {
			continue
		}
		e, o := ext[wk], order[k]
		if len(e) > 0 {
			if w, ok := writer[k][e[len(e)-1]]; live(w, ok) {
				a.g.add(Edge{From: w, To: r, Rel: WR, Key: k, Value: e[len(e)-1], Read: showList(e)})
			}
		}
		if len(e) < len(o) {
			if w, ok := writer[k][o[len(e)]]; live(w, ok) {
				a.g.add(Edge{From: r, To: w, Rel: RW, Key: k, Next: o[len(e)], Read: showList(e)})
			}
		} else {
			for _, v := range unread[k] {
				a.g.add(Edge{From: r, To: writer[k][v], Rel: RW, Key: k, Next: v, Read: showList(e)})
			}
		}
	}
	// Lost updates: committed txns that read the same version of a key
	// and appended to it.
	byVersion := map[string]map[int][]int{}
	for _, wk := range sortedWkeys(hasExt) {
		if !appends[wk] || skip[wk.key] {
			continue
		}
		if byVersion[wk.key] == nil {
			byVersion[wk.key] = map[int][]int{}
		}
		n := len(ext[wk])
		byVersion[wk.key][n] = append(byVersion[wk.key][n], wk.txn)
	}
	for _, k := range sortedKeys(byVersion) {
		for _, n := range sortedKeys(byVersion[k]) {
			if ts := byVersion[k][n]; len(ts) > 1 {
				a.add(LostUpdate, ts, "%s read %s = %s and then appended to %s: each update was made without seeing the others'",
					txnList(ts), k, showList(order[k][:min(n, len(order[k]))]), k)
			}
		}
	}
	return nil
}

// firstDuplicate returns the index of the first value that repeats an
// earlier one, and the value; len(list) when none does.
func firstDuplicate(list []string) (int, string) {
	seen := make(map[string]bool, len(list))
	for i, v := range list {
		if seen[v] {
			return i, v
		}
		seen[v] = true
	}
	return len(list), ""
}

func hasSuffix(list, suffix []string) bool {
	return len(list) >= len(suffix) && slices.Equal(list[len(list)-len(suffix):], suffix)
}

func isPrefix(p, list []string) bool {
	return len(p) <= len(list) && slices.Equal(p, list[:len(p)])
}

// showList prints a list read, its head elided past 10 values.
func showList(list []string) string {
	if len(list) > 10 {
		return "[... " + strings.Join(list[len(list)-10:], " ") + "]"
	}
	return "[" + strings.Join(list, " ") + "]"
}

// txnList names transactions as the subject of a sentence: "T1 and T2
// both", "T1, T2 and T3 all".
func txnList(ids []int) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprintf("T%d", id)
	}
	if len(parts) == 2 {
		return parts[0] + " and " + parts[1] + " both"
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1] + " all"
}

func sortedKeys[K interface{ ~string | ~int }, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortedWkeys(m map[wkey]bool) []wkey {
	keys := make([]wkey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y wkey) int {
		if x.txn != y.txn {
			return x.txn - y.txn
		}
		return strings.Compare(x.key, y.key)
	})
	return keys
}
