// Package mapsiter exercises map iterators and other map walks.
package mapsiter

import (
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
)

func iterators(m map[string]int) {
	for k := range maps.Keys(m) { // want `^maps.Keys: iteration order is random; wrap it in slices.Sorted, or add //detlint:allow <why>$`
		_ = k
	}
	for v := range maps.Values(m) { // want `maps.Values: iteration order is random`
		_ = v
	}
	for k, v := range maps.All(m) { // want `maps.All: iteration order is random`
		_, _ = k, v
	}
	unsorted := slices.Collect(maps.Keys(m)) // want `maps.Keys`
	_ = unsorted
	keys := slices.Collect(maps.Keys(m)) // want `maps.Keys`
	sortedTooEarly(keys)
	f := maps.Keys[map[string]int] // want `maps.Keys`
	_ = f
	_ = slices.Sorted(strings.SplitSeq("a,b", ","))
}

func sortedTooEarly([]string) {}

// Allowed: the iteration is put in order, or into another map.
func ordered(m map[string]int) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		_ = k
	}
	_ = slices.Sorted((maps.Values(m)))
	_ = slices.SortedFunc(maps.Keys(m), strings.Compare)
	_ = slices.SortedStableFunc(maps.Keys(m), strings.Compare)
	_ = slices.Sorted(maps.Keys[map[string]int](m))

	keys := slices.Collect(maps.Keys(m))
	slices.Sort(keys)
	var vals = slices.Collect(maps.Values(m))
	sort.Ints(vals)

	clone := maps.Collect(maps.All(m))
	maps.Insert(clone, maps.All(m))
}

func others(m map[string]int, sm *sync.Map) {
	sm.Range(func(k, v any) bool { return true }) // want `sync.Map.Range: iteration order is random`
	rv := reflect.ValueOf(m)
	_ = rv.MapKeys()  // want `reflect.Value.MapKeys: the order of the keys is random`
	_ = rv.MapRange() // want `reflect.Value.MapRange: iteration order is random`
	_ = rv.MapIndex(reflect.ValueOf("a"))
	maps.Copy(map[string]int{}, m)
	_ = maps.Clone(m)
	clear(m)
}
