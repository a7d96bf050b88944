package rehearsal

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Capacity is the outcome of a capacity search for one service.
type Capacity struct {
	Service string `json:"service"`
	// Needed is the fewest instances that met the SLOs (0: none up to Tried's max).
	Needed int `json:"needed"`
	// Tried maps each count tried to whether it met the SLOs.
	Tried map[int]bool `json:"tried"`
	// FirstViolation: why the last failing count tried failed.
	FirstViolation string `json:"first_violation,omitempty"`
}

// Search finds, service by service in the order given, the fewest
// instances that meet the SLOs and the invariants with the other services
// at the counts found so far (the file's counts for those not searched
// yet): the count doubles from the file's until a run passes, then
// bisection between the largest failing and the smallest passing count.
// Runs are cached by instance counts, so a search never reruns a
// configuration.
type Search struct {
	File   *File
	Opts   Options
	Max    int // bound on any count (default 8x the file's)
	OnRun  func(counts map[string]int, r *Result)
	cache  map[string]*Result
	counts map[string]int
	Runs   int
}

func (s *Search) key(c map[string]int) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(c)) {
		b.WriteString(k + "=" + strconv.Itoa(c[k]) + ";")
	}
	return b.String()
}

func (s *Search) run(service string, n int) *Result {
	c := maps.Clone(s.counts)
	c[service] = n
	k := s.key(c)
	if r, ok := s.cache[k]; ok {
		return r
	}
	o := s.Opts
	o.Override = c
	r := Run(s.File, o)
	s.Runs++
	s.cache[k] = r
	if s.OnRun != nil {
		s.OnRun(c, r)
	}
	return r
}

// Find runs the search for the services, in order.
func (s *Search) Find(services []string) ([]Capacity, error) {
	s.cache = map[string]*Result{}
	s.counts = map[string]int{}
	for _, svc := range s.File.Services {
		s.counts[svc.Name] = svc.Total()
	}
	var out []Capacity
	for _, name := range services {
		sv := s.File.Service(name)
		if sv == nil {
			return nil, fmt.Errorf("--find-capacity: %q is not a service of the rehearsal", name)
		}
		limit := s.Max
		if limit <= 0 {
			limit = 8 * sv.Total()
		}
		c := Capacity{Service: name, Tried: map[int]bool{}}
		pass := func(n int) bool {
			r := s.run(name, n)
			ok := r.Passed()
			c.Tried[n] = ok
			if !ok && r.Verdict.First != nil {
				c.FirstViolation = r.Verdict.First.String()
			} else if !ok && len(r.Correctness) > 0 {
				c.FirstViolation = r.Correctness[0]
			}
			return ok
		}
		lo, hi := 0, sv.Total() // lo fails (0 instances always does), hi is the candidate
		for !pass(hi) {
			lo = hi
			if hi >= limit {
				hi = 0
				break
			}
			hi = min(2*hi, limit)
		}
		if hi > 0 {
			for hi-lo > 1 {
				mid := (lo + hi) / 2
				if pass(mid) {
					hi = mid
				} else {
					lo = mid
				}
			}
			s.counts[name] = hi
		}
		c.Needed = hi
		out = append(out, c)
	}
	return out, nil
}
