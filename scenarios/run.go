package scenarios

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/reports"
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

// Run executes a plan: the safety phase under faults, then the liveness
// phase with everything healed, then the checkers. The result is the one
// record of the run that every report is written from; where its files go
// (Replay, RunCommand) is the caller's to fill.
func Run(plan *Plan, opts Options) (*reports.Result, error) {
	start := time.Now()
	if err := plan.Validate(); err != nil {
		return nil, err
	}
	sc, _ := Lookup(plan.Scenario)
	params, _ := ResolveParams(sc, plan.Params)
	w := sim.NewWorld(sim.Config{Seed: plan.Seed, Trace: opts.Trace})
	sys, err := sc.start(w, plan, params)
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

	res := &reports.Result{Version: reports.Version, Scenario: plan.Scenario, Seed: plan.Seed,
		Bugs: append([]string{}, plan.Bugs...), Plan: json.RawMessage(plan.compact())}
	res.Observe(w, healAt)
	bounds := Bounds{HealAt: int64(healAt), Liveness: int64(plan.Liveness), End: int64(w.Now())}
	h, checks := sys.finish(bounds, checkers.Options{TimeLimit: opts.CheckTimeLimit})
	res.History = h
	res.Judge(checks)
	res.SetWall(time.Since(start))
	return res, nil
}

// resolve fills a step's dynamic target.
func resolve(s Step, sys running, w *sim.World, r interface{ IntN(int) int }) sim.Fault {
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
func heal(w *sim.World, plan *Plan, sys running) {
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
		// time synchronisation steps a jumped clock back, as Jepsen's clock
		// nemesis resets clocks when it heals: a protocol that trusts
		// synchronised clocks (a lock database's lease) may not recover
		// while one stays minutes off
		if j := w.Jumped(id); j != 0 {
			must(sim.ClockJump{Nodes: []sim.NodeID{id}, Jump: -j})
		}
	}
	for _, id := range sys.Members() {
		must(sim.DiskHeal{Nodes: []sim.NodeID{id}})
		if !w.Up(id) {
			must(sim.Restart{Nodes: []sim.NodeID{id}})
		}
	}
}
