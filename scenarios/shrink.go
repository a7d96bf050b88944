package scenarios

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/reports"
	"github.com/sofasim/sofasim/sim"
)

// Target is the failure a shrink keeps.
type Target struct {
	finding bool // a finding kind, else a checker name
	name    string
}

func (t Target) String() string {
	if t.finding {
		return "finding " + t.name
	}
	return "checker " + t.name + " failing"
}

// Holds reports whether the failure is in res.
func (t Target) Holds(res *reports.Result) bool {
	if t.finding {
		for _, f := range res.Findings {
			if f.Kind == t.name {
				return true
			}
		}
		return false
	}
	for _, c := range res.Checks {
		if c.Checker == t.name && c.Verdict == checkers.Fail {
			return true
		}
	}
	return false
}

// ShrinkTarget picks the failure to keep: --keep, or the first finding's
// kind, or the first failing checker.
func ShrinkTarget(res *reports.Result, keep string) (Target, error) {
	var names []string
	for _, f := range res.Findings {
		t := Target{finding: true, name: f.Kind}
		if keep == "" || keep == f.Kind {
			return t, nil
		}
		names = append(names, f.Kind)
	}
	for _, c := range res.Checks {
		if c.Verdict != checkers.Fail {
			continue
		}
		if keep == "" || keep == c.Checker {
			return Target{name: c.Checker}, nil
		}
		names = append(names, c.Checker)
	}
	if keep != "" {
		return Target{}, fmt.Errorf("%s is not among the run's failures (%s)", keep, strings.Join(names, ", "))
	}
	return Target{}, errors.New("the run has no failure to keep")
}

// ErrNothingToShrink is returned (wrapped) when the plan does not fail or
// has no failure of the kind asked for: bad input, not a harness fault.
var ErrNothingToShrink = errors.New("nothing to shrink")

// ShrinkOptions bound a shrink.
type ShrinkOptions struct {
	// Budget is the most runs to spend (0: 300).
	Budget int
	// Keep names the failure to keep: a checker or a finding kind (""
	// the first failure of the original run).
	Keep string
	// CheckTimeLimit bounds each candidate's checks; a check out of time
	// counts as not failing.
	CheckTimeLimit time.Duration
}

// Shrunk is the outcome of a shrink.
type Shrunk struct {
	Plan      *Plan           // the smallest plan found that still fails
	Result    *reports.Result // its run, checked without a time limit
	Original  *reports.Result // the original plan's run
	Kept      Target
	Runs      int
	Exhausted bool // the budget ran out: a larger one may shrink further
}

// Shrink minimises a failing plan by deterministic delta debugging: fewer
// fault steps, fewer operations (repeated while either shrinks), then a
// binary search on the duration, every candidate a full run; the same plan
// always shrinks to the same result. It is an error if the plan does not
// fail or opts.Keep names a failure it does not have.
func Shrink(plan *Plan, opts ShrinkOptions) (*Shrunk, error) {
	first, err := Run(plan, Options{})
	if err != nil {
		return nil, err
	}
	if first.Verdict != checkers.Fail {
		return nil, fmt.Errorf("%w: the plan does not fail (verdict %s)", ErrNothingToShrink, first.Verdict)
	}
	target, err := ShrinkTarget(first, opts.Keep)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNothingToShrink, err)
	}
	if opts.Budget <= 0 {
		opts.Budget = 300
	}
	s := &shrinker{target: target, budget: opts.Budget, opts: Options{CheckTimeLimit: opts.CheckTimeLimit}, cache: map[string]bool{}}
	small := s.minimise(plan)
	final, err := Run(small, Options{})
	if err != nil {
		return nil, err
	}
	if !target.Holds(final) {
		// A candidate failed only under the check time limit's luck:
		// fall back to the input.
		small, final = plan, first
	}
	small = clonePlan(small)
	small.Note = fmt.Sprintf("shrunk from %d fault steps and %d operations, keeping %s", len(plan.Faults), len(plan.Ops), target)
	return &Shrunk{Plan: small, Result: final, Original: first, Kept: target, Runs: s.runs, Exhausted: s.exhausted}, nil
}

// shrinker minimises a plan by delta debugging; every test is a full run.
type shrinker struct {
	target    Target
	budget    int
	runs      int
	exhausted bool
	opts      Options
	cache     map[string]bool
}

// fails runs a candidate plan and reports whether the target failure holds.
func (s *shrinker) fails(p *Plan) bool {
	key := string(p.Marshal())
	if v, ok := s.cache[key]; ok {
		return v
	}
	if s.runs >= s.budget {
		s.exhausted = true
		return false
	}
	s.runs++
	res, err := Run(p, s.opts)
	v := err == nil && s.target.Holds(res)
	s.cache[key] = v
	return v
}

// minimise shrinks the fault steps and the operations in turn until
// neither shrinks, then the duration.
func (s *shrinker) minimise(orig *Plan) *Plan {
	p := clonePlan(orig)
	for round := 0; round < 4; round++ {
		nf, no := len(p.Faults), len(p.Ops)
		p.Faults = ddmin(p.Faults, func(fs []Step) bool {
			c := clonePlan(p)
			c.Faults = fs
			return s.fails(c)
		})
		p.Ops = ddmin(p.Ops, func(ops []json.RawMessage) bool {
			c := clonePlan(p)
			c.Ops = ops
			return s.fails(c)
		})
		if len(p.Faults) == nf && len(p.Ops) == no {
			break
		}
	}
	p.Duration = s.shortest(p)
	return p
}

// shortest binary-searches the shortest duration, in milliseconds, that
// still fails, no shorter than the last fault or operation.
func (s *shrinker) shortest(p *Plan) sim.Duration {
	lo := sim.Duration(time.Millisecond)
	for _, f := range p.Faults {
		lo = max(lo, f.At+sim.Duration(time.Millisecond))
	}
	for _, op := range p.Ops {
		if t, err := opTiming(op); err == nil {
			lo = max(lo, t.At+sim.Duration(time.Millisecond))
		}
	}
	ms := func(d sim.Duration) int64 { return int64(time.Duration(d) / time.Millisecond) }
	loMS, hiMS := ms(lo), ms(p.Duration)
	best := p.Duration
	for loMS < hiMS {
		mid := loMS + (hiMS-loMS)/2
		c := clonePlan(p)
		c.Duration = sim.Duration(time.Duration(mid) * time.Millisecond)
		if s.fails(c) {
			best, hiMS = c.Duration, mid
		} else {
			loMS = mid + 1
		}
	}
	return best
}

func clonePlan(p *Plan) *Plan {
	c := *p
	c.Ops = slices.Clone(p.Ops)
	c.Faults = slices.Clone(p.Faults)
	c.Bugs = slices.Clone(p.Bugs)
	c.Params = maps.Clone(p.Params)
	return &c
}

// ddmin is Zeller's delta debugging: it returns a 1-minimal subsequence
// of items for which fails holds (fails(items) is assumed), trying the
// empty list first, then chunks and their complements in a fixed order.
func ddmin[T any](items []T, fails func([]T) bool) []T {
	if len(items) == 0 {
		return items
	}
	if fails([]T{}) {
		return []T{}
	}
	n := 2
	for len(items) >= 2 {
		chunks := split(items, n)
		reduced := false
		for _, c := range chunks {
			if fails(c) {
				items, n, reduced = c, 2, true
				break
			}
		}
		if !reduced && n > 2 {
			for i := range chunks {
				comp := complement(chunks, i)
				if fails(comp) {
					items, n, reduced = comp, max(n-1, 2), true
					break
				}
			}
		}
		if !reduced {
			if n >= len(items) {
				break
			}
			n = min(2*n, len(items))
		}
	}
	return items
}

// split cuts items into n chunks of nearly equal size, in order.
func split[T any](items []T, n int) [][]T {
	out := make([][]T, 0, n)
	start := 0
	for i := 0; i < n; i++ {
		end := start + (len(items)-start)/(n-i)
		out = append(out, append([]T(nil), items[start:end]...))
		start = end
	}
	return out
}

func complement[T any](chunks [][]T, skip int) []T {
	var out []T
	for i, c := range chunks {
		if i != skip {
			out = append(out, c...)
		}
	}
	if out == nil {
		out = []T{}
	}
	return out
}
