package scenarios

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/sim"
)

// Options tune how a plan runs without changing what it does.
type Options struct {
	// Trace receives the kernel's full trace as JSON lines.
	Trace io.Writer
	// CheckTimeLimit bounds each checker's wall time (0: none, as in
	// replay). A check out of time says "unknown", never "pass".
	CheckTimeLimit time.Duration
}

// Result is the outcome of one run: everything a report needs.
type Result struct {
	Plan        Plan               `json:"plan"`
	Verdict     checkers.Verdict   `json:"verdict"`
	Fingerprint uint64             `json:"-"`
	Events      uint64             `json:"events"`
	Virtual     time.Duration      `json:"-"`
	Wall        time.Duration      `json:"-"`
	HealAt      time.Duration      `json:"-"`
	Checks      []checkers.Result  `json:"checks"`
	Findings    []sim.Finding      `json:"findings,omitempty"`
	Faults      []sim.AppliedFault `json:"faults"`
	Nodes       []NodeReport       `json:"nodes"`
	History     checkers.History   `json:"-"`
}

// NodeReport is one node's statistics.
type NodeReport struct {
	ID    sim.NodeID    `json:"id"`
	Stats sim.NodeStats `json:"stats"`
	Disk  sim.DiskStats `json:"disk"`
}

// Passed reports whether every check passed and nothing else went wrong.
func (r *Result) Passed() bool { return r.Verdict == checkers.Pass }

// Failures lists one line per failed check or finding.
func (r *Result) Failures() []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.String())
	}
	for _, c := range r.Checks {
		if c.Verdict == checkers.Fail {
			out = append(out, c.Checker+": "+c.Explanation)
		}
	}
	return out
}

// Explain summarises the run for a person.
func (r *Result) Explain() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s seed %d: %s (%v virtual, %d events, fingerprint %016x)\n",
		r.Plan.Scenario, r.Plan.Seed, r.Verdict, r.Virtual, r.Events, r.Fingerprint)
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "  %-14s %-7s %s\n", c.Checker, c.Verdict, c.Explanation)
	}
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "  finding: %s\n", f)
	}
	return b.String()
}

// ReplayCommand is the command that reruns this plan: `run --seed` when
// the plan is the one that seed draws, otherwise `run --plan` on the plan
// saved as plan.json (see Plan.Marshal).
func (r *Result) ReplayCommand() string {
	if p, err := PlanForSeed(r.Plan.Scenario, r.Plan.Seed, r.Plan.Params, r.Plan.Bugs); err != nil ||
		!bytes.Equal(p.Marshal(), r.Plan.Marshal()) {
		return fmt.Sprintf("sofasim run %s --plan plan.json", r.Plan.Scenario)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "sofasim run %s --seed %d", r.Plan.Scenario, r.Plan.Seed)
	for _, k := range slices.Sorted(maps.Keys(r.Plan.Params)) {
		fmt.Fprintf(&b, " --param %s=%s", k, r.Plan.Params[k])
	}
	for _, bug := range r.Plan.Bugs {
		fmt.Fprintf(&b, " --bug %s", bug)
	}
	return b.String()
}

// Run executes a plan: the safety phase under faults, then the liveness
// phase with everything healed, then the checkers.
func Run(plan *Plan, opts Options) (*Result, error) {
	if err := plan.Validate(); err != nil {
		return nil, err
	}
	sc, _ := Lookup(plan.Scenario)
	params, _ := resolveParams(sc, plan.Params)
	w := sim.NewWorld(sim.Config{Seed: plan.Seed, Trace: opts.Trace})
	sys, err := sc.Build(w, plan, params)
	if err != nil {
		return nil, fmt.Errorf("building %s: %w", sc.Name, err)
	}
	var arms []sim.Fault
	for _, b := range plan.Bugs {
		arms = append(arms, sim.Fault{Op: sim.ArmFailpoint{Failpoint: b}})
	}
	if err := w.Schedule(arms); err != nil {
		return nil, err
	}
	nemesis := w.Stream("nemesis")
	for _, s := range plan.Faults {
		s := s
		w.At(time.Duration(s.At), func() {
			f := resolve(s, sys, w, nemesis)
			if err := w.Inject(f.Op); err != nil {
				panic(fmt.Sprintf("scenarios: resolved fault %v is invalid: %v", f, err))
			}
		})
	}

	w.Run(sim.Limits{Until: time.Duration(plan.Duration)})
	healAt := w.Now()
	heal(w, plan, sys)
	end := healAt + time.Duration(plan.Liveness)
	for w.Now() < end && !sys.Done() {
		w.Run(sim.Limits{Until: min(w.Now()+100*time.Millisecond, end)})
	}

	res := &Result{
		Plan:        *plan,
		Fingerprint: w.Fingerprint(),
		Events:      w.Events(),
		Virtual:     w.Now(),
		Wall:        w.Wall(),
		HealAt:      healAt,
		Findings:    w.Findings(),
		Faults:      w.Faults(),
		History:     sys.History(),
	}
	for _, id := range w.NodeIDs() {
		res.Nodes = append(res.Nodes, NodeReport{ID: id, Stats: w.Stats(id), Disk: w.Disk(id).Stats()})
	}
	copts := checkers.Options{TimeLimit: opts.CheckTimeLimit}
	all := append(sys.Checkers(), checkers.Liveness{HealedAt: int64(healAt), Bound: int64(plan.Liveness), End: int64(w.Now())})
	for _, c := range all {
		res.Checks = append(res.Checks, c.Check(res.History, copts))
	}
	res.Verdict = verdict(res)
	return res, nil
}

func verdict(r *Result) checkers.Verdict {
	v := checkers.Pass
	if len(r.Findings) > 0 {
		return checkers.Fail
	}
	for _, c := range r.Checks {
		switch c.Verdict {
		case checkers.Fail:
			return checkers.Fail
		case checkers.Unknown:
			v = checkers.Unknown
		}
	}
	return v
}

// resolve fills a step's dynamic target.
func resolve(s Step, sys System, w *sim.World, r interface{ IntN(int) int }) sim.Fault {
	f := s.Fault
	if s.Target == "" {
		return f
	}
	members := sys.Members()
	target := sys.Leader()
	if target == "" {
		target = members[r.IntN(len(members))]
	}
	f, _ = f.Aimed(target, w.NodeIDs()) // Plan.Validate checked the kind takes a target
	return f
}

// heal ends every fault so that the liveness phase measures recovery:
// the network heals, paused nodes resume, members' disks stop failing and
// crashed members restart, skewed clocks run true again and the nemesis's failpoints are disarmed (armed
// bugs stay armed: they are part of the system under test).
func heal(w *sim.World, plan *Plan, sys System) {
	must := func(op sim.FaultOp) {
		if err := w.Inject(op); err != nil {
			panic(fmt.Sprintf("scenarios: heal fault %v: %v", sim.Fault{Op: op}, err))
		}
	}
	must(sim.Heal{})
	bugs := map[string]bool{}
	for _, b := range plan.Bugs {
		bugs[b] = true
	}
	for _, name := range w.Armed() {
		if !bugs[name] {
			must(sim.DisarmFailpoint{Failpoint: name})
		}
	}
	skewed := map[sim.NodeID]bool{}
	for _, s := range plan.Faults {
		if skew, ok := s.Op.(sim.ClockSkew); ok {
			for _, id := range skew.Nodes {
				skewed[id] = true
			}
		}
	}
	for _, id := range w.NodeIDs() {
		if w.Paused(id) {
			must(sim.Resume{Nodes: []sim.NodeID{id}})
		}
		if skewed[id] {
			must(sim.ClockSkew{Nodes: []sim.NodeID{id}})
		}
	}
	for _, id := range sys.Members() {
		must(sim.DiskHeal{Nodes: []sim.NodeID{id}})
		if !w.Up(id) {
			must(sim.Restart{Nodes: []sim.NodeID{id}})
		}
	}
}
