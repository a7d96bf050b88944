package coordinator

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/sofasim/sofasim/checkers"
)

// AllOrNothing: a committed transaction's effects are all there and a
// rolled-back one's none: at the end every account holds its initial
// balance plus the changes of the transfers the TC decided to commit
// (each tm-begin carries its transaction's writes). Unlike the money
// total it names the accounts and the xids that wrote them.
type AllOrNothing struct{}

func (AllOrNothing) Name() string { return "all-or-nothing" }

func (c AllOrNothing) Check(h *History, _ checkers.Options) checkers.Result {
	st, fi := finalState(h)
	if st == nil {
		return noFinal(c.Name())
	}
	dec := decisions(h)
	type acct struct{ rm, name string }
	want := map[acct]int64{}
	writers := map[acct][]uint64{}
	at := map[uint64]int{}
	committed := 0
	for i, ev := range h.Events {
		if ev.Kind != TMBegin || len(ev.Writes) == 0 {
			continue
		}
		at[ev.XID] = i
		if !commits(dec[ev.XID]) {
			continue
		}
		committed++
		for _, w := range ev.Writes {
			k := acct{w.RM, w.Account}
			want[k] += w.Delta
			writers[k] = append(writers[k], ev.XID)
		}
	}
	got := map[acct]int64{}
	for _, a := range st.Accounts {
		got[acct{a.RM, a.Name}] = a.Balance - st.Balance
	}
	keys := slices.Collect(maps.Keys(want))
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b acct) int { return strings.Compare(a.rm+"/"+a.name, b.rm+"/"+b.name) })
	var bad []string
	ops := []int{}
	for _, k := range keys {
		if got[k] == want[k] {
			continue
		}
		ids := writers[k]
		bad = append(bad, fmt.Sprintf("%s/%s changed by %+d, but the transfers committed to it (xids %v) add up to %+d", k.rm, k.name, got[k], ids, want[k]))
		ops = append(ops, fi)
		for _, x := range ids {
			ops = append(ops, at[x])
		}
	}
	if len(st.Accounts) == 0 {
		return checkers.Result{Checker: c.Name(), Verdict: checkers.Unknown, Explanation: "the end state lists no accounts"}
	}
	return verdict(c.Name(), bad, ops, fmt.Sprintf("%d accounts hold exactly the %d committed transfers", len(st.Accounts), committed))
}
