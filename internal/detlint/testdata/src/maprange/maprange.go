// Package maprange exercises range statements over maps.
package maprange

import (
	"cmp"
	"slices"
	"sort"
	"strings"
)

type kv struct {
	k string
	v int
}

type Index map[string]int

func sum(m map[string]int) int {
	total := 0
	for _, v := range m { // want `^range over map: iteration order is random; sort the keys or add //detlint:allow <why>$`
		total += v
	}
	return total
}

func namedMap(idx Index) {
	for k := range idx { // want `range over map`
		_ = k
	}
}

func pointerToArrayAndOthers(a *[3]int, s []int, str string, n int, seq func(func(int) bool)) {
	for range a {
	}
	for range s {
	}
	for range str {
	}
	for range n {
	}
	for range seq {
	}
}

// Allowed: the body cannot tell the iterations apart.
func count(m map[string]int) int {
	n := 0
	for range m {
		n++
	}
	for _, _ = range m {
		n++
	}
	return n
}

// Allowed: keys collected, then sorted in the same function.
func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedValues(m map[string]int) []int {
	var vals []int
	for _, v := range m {
		vals = append(vals, v)
	}
	slices.Sort(vals)
	return vals
}

func sortedPairs(m map[string]int) []kv {
	var pairs []kv
	for k, v := range m {
		pairs = append(pairs, kv{k: k, v: v})
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].k < pairs[j].k })
	return pairs
}

func sortedPointers(m map[string]kv) []*kv {
	var ps []*kv
	for k, v := range m {
		ps = append(ps, &kv{k, v.v + 1}, &kv{k: k + "-copy", v: -v.v})
	}
	slices.SortFunc(ps, func(a, b *kv) int { return cmp.Compare(a.k, b.k) })
	return ps
}

func conversions(m map[string]int) []string {
	var names []string
	for k := range m {
		names = append(names, string([]byte(k)), (k))
	}
	slices.SortStableFunc(names, strings.Compare)
	return names
}

func twoSlices(m map[string]int) ([]string, []int) {
	var keys []string
	var vals []int
	for k, v := range m {
		keys = append(keys, k)
		vals = append(vals, v)
	}
	sort.Strings(keys)
	sort.Ints(vals)
	return keys, vals
}

func sortInterface(m map[string]int) ([]string, []string) {
	var asc, desc []string
	for k := range m {
		asc = append(asc, k)
	}
	for k := range m {
		desc = append(desc, k)
	}
	sort.Sort(sort.StringSlice(asc))
	sort.Stable(sort.Reverse(sort.StringSlice(desc)))
	return asc, desc
}

func inClosure(m map[string]int) func() []string {
	return func() []string {
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys
	}
}

// Flagged: collected but not sorted, or not only collected.
func unsorted(m map[string]int) []string {
	var keys []string
	for k := range m { // want `range over map`
		keys = append(keys, k)
	}
	return keys
}

func oneOfTwoSorted(m map[string]int) ([]string, []int) {
	var keys []string
	var vals []int
	for k, v := range m { // want `range over map`
		keys = append(keys, k)
		vals = append(vals, v)
	}
	sort.Strings(keys)
	return keys, vals
}

func sortedBefore(m map[string]int) []string {
	var keys []string
	sort.Strings(keys)
	for k := range m { // want `range over map`
		keys = append(keys, k)
	}
	return keys
}

func sortedInNestedFunc(m map[string]int) func() {
	var keys []string
	for k := range m { // want `range over map`
		keys = append(keys, k)
	}
	return func() { sort.Strings(keys) }
}

func callInBody(m map[string]int) []string {
	var keys []string
	for k := range m { // want `range over map`
		keys = append(keys, strings.ToUpper(k))
	}
	sort.Strings(keys)
	return keys
}

func extraStatement(m map[string]int) ([]string, int) {
	var keys []string
	n := 0
	for k := range m { // want `range over map`
		keys = append(keys, k)
		n++
	}
	sort.Strings(keys)
	return keys, n
}

func spread(m map[string][]string) []string {
	var all []string
	for _, v := range m { // want `range over map`
		all = append(all, v...)
	}
	sort.Strings(all)
	return all
}

func assignForm(m map[string]int) (string, []string) {
	var k string
	var keys []string
	for k = range m { // want `range over map`
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return k, keys // k holds a random key
}

func copyLoop(dst, src map[string]int) {
	for k, v := range src { // want `range over map`
		dst[k] = v
	}
}

// Type parameters: flagged when every type in the type set is a map.
func generic[M ~map[K]V, K comparable, V any](m M) {
	for k := range m { // want `range over map`
		_ = k
	}
}

func genericKeys[K comparable, V any](m map[K]V) {
	for k := range m { // want `range over map`
		_ = k
	}
}

func genericSlice[S ~[]E, E any](s S) {
	for i := range s {
		_ = i
	}
}

type mapConstraint[K comparable, V any] interface {
	~map[K]V
}

func genericNamedConstraint[M interface {
	mapConstraint[K, V]
	Len() int
}, K comparable, V any](m M) {
	for k := range m { // want `range over map`
		_ = k
	}
}

func genericUnion[M map[string]int | Index](m M) {
	for k := range m { // want `range over map`
		_ = k
	}
}

func genericCollect[M ~map[string]V, V any](m M) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
