package registry

import "sort"

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
