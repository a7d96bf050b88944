package scenarios

import (
	"fmt"
	"maps"
	"sort"
	"strings"

	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/sim"
)

// Scenario is a topology, a workload, a nemesis and checkers, by name.
type Scenario struct {
	Name        string
	Description string
	Params      []Param
	// Bugs are the planted bugs (failpoints bug/<system>/<name>) the
	// scenario's system has; a plan may arm any of them.
	Bugs []sim.Bug
	// Failpoints are the non-bug failpoints the nemesis may arm.
	Failpoints []string
	// OpKinds are the workload operation kinds the clients understand.
	OpKinds []string
	// Nodes lists every node the scenario builds for the parameters;
	// Clients says how many workload clients there are.
	Nodes   func(p Params) []sim.NodeID
	Clients func(p Params) int
	// Draw draws the workload and the fault steps of a plan.
	Draw func(t *rapid.T, p Params) Draft
	// Build adds the system and its clients to the world.
	Build func(w *sim.World, plan *Plan, p Params) (System, error)
}

// Draft is what a scenario's Draw returns: the plan's drawn parts.
type Draft struct {
	Duration sim.Duration
	Liveness sim.Duration
	Ops      []Op
	Faults   []Step
}

// System is what a scenario built in a world: the runner asks it for
// nemesis targets, progress and the history.
type System interface {
	// Members are the servers: the nemesis's targets and what the
	// liveness phase restarts.
	Members() []sim.NodeID
	// Leader is the current leader, or "" when there is none.
	Leader() sim.NodeID
	// Done reports whether every workload operation has finished.
	Done() bool
	// History is the recorded client history.
	History() checkers.History
	// Checkers are the safety checkers for the history; the runner adds
	// liveness.
	Checkers() []checkers.Checker
}

var registry = map[string]*Scenario{}

// Register adds a scenario; names are unique.
func Register(sc *Scenario) {
	if _, dup := registry[sc.Name]; dup {
		panic("scenarios: " + sc.Name + " registered twice")
	}
	registry[sc.Name] = sc
}

// Lookup finds a scenario by name.
func Lookup(name string) (*Scenario, error) {
	if sc, ok := registry[name]; ok {
		return sc, nil
	}
	return nil, fmt.Errorf("unknown scenario %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Names lists the registered scenarios, sorted.
func Names() []string {
	out := make([]string, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// All returns the registered scenarios, sorted by name.
func All() []*Scenario {
	var out []*Scenario
	for _, n := range Names() {
		out = append(out, registry[n])
	}
	return out
}

func (sc *Scenario) hasBug(name string) bool {
	for _, b := range sc.Bugs {
		if b.Name == name {
			return true
		}
	}
	return false
}

func (sc *Scenario) bugNames() string {
	var names []string
	for _, b := range sc.Bugs {
		names = append(names, b.Name)
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func (sc *Scenario) hasOpKind(k string) bool {
	for _, x := range sc.OpKinds {
		if x == k {
			return true
		}
	}
	return false
}

func (sc *Scenario) hasFailpoint(name string) bool {
	if sc.hasBug(name) {
		return true
	}
	for _, x := range sc.Failpoints {
		if x == name {
			return true
		}
	}
	return false
}

// Generator returns the rapid generator of the scenario's plans with the
// given parameters (nil: defaults) and bugs armed. It panics on bad
// parameters; check them with PlanForSeed or Plan.Validate first.
func (sc *Scenario) Generator(params map[string]string, bugs []string) *rapid.Generator[Plan] {
	p, err := resolveParams(sc, params)
	if err != nil {
		panic(err)
	}
	return rapid.Custom(func(t *rapid.T) Plan {
		seed := rapid.Uint64().Draw(t, "seed")
		d := sc.Draw(t, p)
		return Plan{Version: PlanVersion, Scenario: sc.Name, Seed: seed, Params: maps.Clone(params),
			Bugs: append([]string(nil), bugs...), Duration: d.Duration, Liveness: d.Liveness, Ops: d.Ops, Faults: d.Faults}
	})
}

// PlanForSeed draws the plan of a plain seed: the generator's example for
// that seed, with the world seeded by the same number.
func PlanForSeed(name string, seed uint64, params map[string]string, bugs []string) (*Plan, error) {
	sc, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	if _, err := resolveParams(sc, params); err != nil {
		return nil, err
	}
	for _, b := range bugs {
		if !sc.hasBug(b) {
			return nil, fmt.Errorf("scenario %s has no planted bug %q (has: %s)", sc.Name, b, sc.bugNames())
		}
	}
	plan := sc.Generator(params, bugs).Example(int(seed))
	plan.Seed = seed
	return &plan, plan.Validate()
}
