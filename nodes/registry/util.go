package registry

import (
	"sort"

	"github.com/sofasim/sofasim/sim"
)

func sortStrings(s []string) { sort.Strings(s) }

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

func sortProcs(p []Proc) {
	sort.Slice(p, func(i, j int) bool {
		if p[i].ID != p[j].ID {
			return p[i].ID < p[j].ID
		}
		return p[i].Inc < p[j].Inc
	})
}

func sortInts(s []int) { sort.Ints(s) }

func sortU64(s []uint64) { sort.Slice(s, func(i, j int) bool { return s[i] < s[j] }) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedKeysID[V any](m map[sim.NodeID]V) []sim.NodeID {
	keys := make([]string, 0, len(m))
	for k := range m { //detlint:allow collecting keys; sorted below
		keys = append(keys, string(k))
	}
	sortStrings(keys)
	out := make([]sim.NodeID, len(keys))
	for i, k := range keys {
		out[i] = sim.NodeID(k)
	}
	return out
}

func sortedProcs[V any](m map[Proc]V) []Proc {
	out := make([]Proc, 0, len(m))
	for p := range m { //detlint:allow collecting keys; sorted below
		out = append(out, p)
	}
	sortProcs(out)
	return out
}
