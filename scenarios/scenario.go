package scenarios

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/sim"
)

// Scenario is a registered scenario as the runner and the CLI see it: its
// name, typed parameters, planted bugs and failpoints, and closures over the
// system's own operation and history types (see [Define]). The framework
// never learns those types' fields.
type Scenario struct {
	Name        string
	Description string
	Params      []Param
	// Bugs are the planted bugs the scenario's system exports; a plan may
	// arm any of them.
	Bugs []sim.Bug
	// Failpoints are the non-bug failpoints the nemesis may arm.
	Failpoints []string
	// OpKinds are the workload operation kinds the clients understand.
	OpKinds []string
	// MustReach are coverage states (sim.Env.Reached) the scenario's
	// default sweep must reach: what its bugs need to be found.
	MustReach []string

	nodes   func(p Values) []sim.NodeID
	clients func(p Values) int
	draw    func(t *rapid.T, p Values) (Draft[json.RawMessage], error)
	checkOp func(raw json.RawMessage) (OpTiming, error) // decodes strictly, checks the kind
	start   func(w *sim.World, plan *Plan, p Values) (running, error)
}

// running is a system built in a world, its operation and history types
// hidden behind the encoded history the reports read.
type running interface {
	Members() []sim.NodeID
	Leader() sim.NodeID
	Done() bool
	finish(bounds Bounds, opts checkers.Options) (checkers.Recorded, []checkers.Result)
}

// Op is what every system's workload operation embeds: which client runs it
// and when it is due. The rest of the operation is the system's own.
type Op interface{ Timing() OpTiming }

// OpTiming is the part of an operation the framework reads.
type OpTiming struct {
	Client int          `json:"client"`
	At     sim.Duration `json:"at"`
}

// Timing returns the timing; embedding OpTiming makes a type an [Op].
func (t OpTiming) Timing() OpTiming { return t }

// Draft is what a scenario's Draw returns: the plan's drawn parts.
type Draft[O any] struct {
	Duration sim.Duration
	Liveness sim.Duration
	Ops      []O
	Faults   []Step
}

// Bounds are the phases of a run, for checkers that judge recovery.
type Bounds struct {
	HealAt   int64 // virtual ns when the faults healed
	Liveness int64 // the liveness bound after the heal
	End      int64 // virtual ns when the run stopped
}

// System is what a scenario built in a world: the runner asks it for
// nemesis targets and progress, then for its typed history and the
// checkers that judge it.
type System[H checkers.Recorded] interface {
	// Members are the servers: the nemesis's targets and what the liveness
	// phase restarts.
	Members() []sim.NodeID
	// Leader is the current leader, or "" when there is none.
	Leader() sim.NodeID
	// Done reports whether every workload operation has finished.
	Done() bool
	// History is the recorded history.
	History() H
	// Checkers judge the history.
	Checkers(b Bounds) []checkers.CheckerOf[H]
}

// Spec declares a scenario over a system's operation type O and history
// type H; [Define] turns it into a [Scenario].
type Spec[O Op, H checkers.Recorded] struct {
	Name        string
	Description string
	Params      []Param
	Bugs        []sim.Bug
	Failpoints  []string
	OpKinds     []string
	// MustReach are the coverage states its default sweep must reach.
	MustReach []string
	// Nodes lists every node the scenario builds; Clients counts the
	// workload clients.
	Nodes   func(p Values) []sim.NodeID
	Clients func(p Values) int
	// Kind names an operation's kind, checked against OpKinds.
	Kind func(op O) string
	// Draw draws the workload and the fault steps of a plan.
	Draw func(t *rapid.T, p Values) Draft[O]
	// Build adds the system and its clients to the world.
	Build func(w *sim.World, plan *Plan, p Values, ops []O) (System[H], error)
}

// Define makes a scenario from a typed spec: operations are encoded into
// the plan as JSON and decoded, strictly, when the plan runs.
func Define[O Op, H checkers.Recorded](s Spec[O, H]) *Scenario {
	sc := &Scenario{Name: s.Name, Description: s.Description, Params: s.Params, Bugs: s.Bugs,
		Failpoints: s.Failpoints, OpKinds: s.OpKinds, MustReach: s.MustReach, nodes: s.Nodes, clients: s.Clients}
	sc.draw = func(t *rapid.T, p Values) (Draft[json.RawMessage], error) {
		d := s.Draw(t, p)
		ops := make([]json.RawMessage, len(d.Ops))
		for i, op := range d.Ops {
			b, err := json.Marshal(op)
			if err != nil {
				return Draft[json.RawMessage]{}, err
			}
			ops[i] = b
		}
		return Draft[json.RawMessage]{Duration: d.Duration, Liveness: d.Liveness, Ops: ops, Faults: d.Faults}, nil
	}
	sc.checkOp = func(raw json.RawMessage) (OpTiming, error) {
		op, err := decodeOp[O](raw)
		if err != nil {
			return OpTiming{}, err
		}
		if k := s.Kind(op); !slices.Contains(s.OpKinds, k) {
			return OpTiming{}, fmt.Errorf("unknown kind %q (scenario %s knows %s)", k, s.Name, strings.Join(s.OpKinds, ", "))
		}
		return op.Timing(), nil
	}
	sc.start = func(w *sim.World, plan *Plan, p Values) (running, error) {
		ops := make([]O, len(plan.Ops))
		for i, raw := range plan.Ops {
			op, err := decodeOp[O](raw)
			if err != nil {
				return nil, fmt.Errorf("op %d: %v", i, err)
			}
			ops[i] = op
		}
		sys, err := s.Build(w, plan, p, ops)
		if err != nil {
			return nil, err
		}
		return typed[H]{sys}, nil
	}
	return sc
}

func decodeOp[O any](raw json.RawMessage) (O, error) {
	var op O
	err := strictJSON(raw, &op)
	return op, err
}

// typed runs a system's own checkers over its own history.
type typed[H checkers.Recorded] struct{ System[H] }

func (t typed[H]) finish(b Bounds, opts checkers.Options) (checkers.Recorded, []checkers.Result) {
	h := t.History()
	var out []checkers.Result
	for _, c := range t.Checkers(b) {
		out = append(out, c.Check(h, opts))
	}
	return h, out
}

var registry = map[string]*Scenario{}

// Register adds a scenario; names are unique. Each system's scenario
// package registers its scenarios from init.
func Register(sc *Scenario) {
	if _, dup := registry[sc.Name]; dup {
		panic("scenarios: " + sc.Name + " registered twice")
	}
	if err := checkParams(sc.Params); err != nil {
		panic(fmt.Sprintf("scenarios: %s: %v", sc.Name, err))
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
func Names() []string { return slices.Sorted(maps.Keys(registry)) }

// All returns the registered scenarios, sorted by name.
func All() []*Scenario {
	var out []*Scenario
	for _, n := range Names() {
		out = append(out, registry[n])
	}
	return out
}

func (sc *Scenario) hasBug(name string) bool {
	return slices.ContainsFunc(sc.Bugs, func(b sim.Bug) bool { return b.Name == name })
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

func (sc *Scenario) hasFailpoint(name string) bool {
	return sc.hasBug(name) || slices.Contains(sc.Failpoints, name)
}

// Generator returns the rapid generator of the scenario's plans with the
// given parameters (nil: defaults) and bugs armed. It panics on bad
// parameters; check them with PlanForSeed or Plan.Validate first.
func (sc *Scenario) Generator(params map[string]string, bugs []string) *rapid.Generator[Plan] {
	p, err := ResolveParams(sc, params)
	if err != nil {
		panic(err)
	}
	return rapid.Custom(func(t *rapid.T) Plan {
		seed := rapid.Uint64().Draw(t, "seed")
		d, err := sc.draw(t, p)
		if err != nil {
			panic(fmt.Sprintf("scenarios: %s drew an operation that does not encode: %v", sc.Name, err))
		}
		return Plan{Version: PlanVersion, Scenario: sc.Name, Seed: seed, Params: maps.Clone(params),
			Bugs: slices.Clone(bugs), Duration: d.Duration, Liveness: d.Liveness, Ops: d.Ops, Faults: d.Faults}
	})
}

// PlanForSeed draws the plan of a plain seed: the generator's example for
// that seed, with the world seeded by the same number.
func PlanForSeed(name string, seed uint64, params map[string]string, bugs []string) (*Plan, error) {
	sc, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	if _, err := ResolveParams(sc, params); err != nil {
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
