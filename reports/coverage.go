package reports

import (
	"maps"
	"slices"
	"sort"
)

// StateCoverage is how many seeds of a sweep reached a named state (a
// coverage mark, sim.Env.Reached). MustReach says the scenario declares
// the state must be reached; a must-reach state no seed reached is a gap
// in the scenario's finding power, shown as such.
type StateCoverage struct {
	State     string `json:"state"`
	Seeds     uint64 `json:"seeds"`
	MustReach bool   `json:"must_reach,omitempty"`
}

// Gap reports whether the state is a declared must-reach state that no
// seed reached.
func (c StateCoverage) Gap() bool { return c.MustReach && c.Seeds == 0 }

// coverage counts, per state, the seeds that reached it; must-reach
// states are listed even when no seed did. Sorted: gaps first, then by
// state name.
func coverage(results []SeedResult, mustReach []string) []StateCoverage {
	seeds := map[string]uint64{}
	for _, m := range mustReach {
		seeds[m] += 0
	}
	for _, r := range results {
		for _, st := range r.Reached {
			seeds[st]++
		}
	}
	out := []StateCoverage{}
	for _, st := range slices.Sorted(maps.Keys(seeds)) {
		out = append(out, StateCoverage{State: st, Seeds: seeds[st], MustReach: slices.Contains(mustReach, st)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Gap() && !out[j].Gap() })
	return out
}

// Gaps lists the must-reach states no seed of the sweep reached.
func (s *Sweep) Gaps() []string {
	var out []string
	for _, c := range s.Coverage {
		if c.Gap() {
			out = append(out, c.State)
		}
	}
	return out
}
