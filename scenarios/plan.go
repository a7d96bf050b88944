package scenarios

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// PlanVersion is the version of the plan format this code reads and writes.
const PlanVersion = 1

// Plan is everything a run depends on.
type Plan struct {
	Version  int               `json:"version"`
	Scenario string            `json:"scenario"`
	Seed     uint64            `json:"seed"`
	Params   map[string]string `json:"params,omitempty"`
	Bugs     []string          `json:"bugs,omitempty"`
	Duration sim.Duration      `json:"duration"`
	Liveness sim.Duration      `json:"liveness"`
	Ops      []Op              `json:"ops"`
	Faults   []Step            `json:"faults"`
}

// Op is one workload operation of one client. A client runs its operations
// in order, each starting at its At or when the previous one finished,
// whichever is later.
type Op struct {
	Client   int          `json:"client"`
	At       sim.Duration `json:"at"`
	Kind     string       `json:"kind"`
	Key      string       `json:"key,omitempty"`
	Value    string       `json:"value,omitempty"`
	Expected string       `json:"expected,omitempty"`
	Absent   bool         `json:"absent,omitempty"` // cas: expect the key absent
}

// Step is one nemesis event: a kernel fault, possibly with a dynamic
// target resolved when it fires (for example the leader of the moment).
type Step struct {
	sim.Fault
	// Target, when set, fills Nodes (crash, pause, ...) or Cuts (partition)
	// at run time: "leader" (the current leader, or a member drawn from the
	// nemesis stream when there is none).
	Target string `json:"target,omitempty"`
}

// MarshalJSON writes the fault's object with the target beside its fields
// (sim.Fault's own MarshalJSON would otherwise drop it).
func (s Step) MarshalJSON() ([]byte, error) {
	b, err := s.Fault.MarshalJSON()
	if err != nil || s.Target == "" {
		return b, err
	}
	t, err := json.Marshal(s.Target)
	if err != nil {
		return nil, err
	}
	return append(append(append(b[:len(b)-1], `,"target":`...), t...), '}'), nil
}

// UnmarshalJSON reads the target, then the fault from the other fields.
func (s *Step) UnmarshalJSON(data []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return err
	}
	s.Target = ""
	if raw, ok := fields["target"]; ok {
		if err := json.Unmarshal(raw, &s.Target); err != nil {
			return fmt.Errorf("fault target: %v", err)
		}
		delete(fields, "target")
		data, _ = json.Marshal(fields)
	}
	return s.Fault.UnmarshalJSON(data)
}

func (s Step) String() string {
	if s.Target != "" {
		return s.Fault.String() + " target=" + s.Target
	}
	return s.Fault.String()
}

// Targets are the dynamic targets a Step may name.
var Targets = []string{"leader"}

// Param declares a scenario parameter with its default.
type Param struct {
	Name    string `json:"name"`
	Default string `json:"default"`
	Usage   string `json:"usage"`
	// Min and Max bound an integer parameter (both 0: any integer; Kind
	// "duration": any positive duration).
	Kind     string `json:"kind"` // "int" or "duration"
	Min, Max int    `json:"-"`
}

// Params are a plan's parameter values, defaults filled in and checked.
type Params map[string]string

// Int returns an integer parameter; Validate has checked it parses.
func (p Params) Int(name string) int {
	v, err := strconv.Atoi(p[name])
	if err != nil {
		panic(fmt.Sprintf("scenarios: parameter %s=%q read as int: %v", name, p[name], err))
	}
	return v
}

// Duration returns a duration parameter; Validate has checked it parses.
func (p Params) Duration(name string) time.Duration {
	v, err := time.ParseDuration(p[name])
	if err != nil {
		panic(fmt.Sprintf("scenarios: parameter %s=%q read as duration: %v", name, p[name], err))
	}
	return v
}

// resolveParams fills defaults into given and checks every value.
func resolveParams(sc *Scenario, given map[string]string) (Params, error) {
	out := Params{}
	known := map[string]Param{}
	for _, p := range sc.Params {
		known[p.Name] = p
		out[p.Name] = p.Default
	}
	for _, k := range slices.Sorted(maps.Keys(given)) {
		if _, ok := known[k]; !ok {
			return nil, fmt.Errorf("scenario %s has no parameter %q (has: %s)", sc.Name, k, paramNames(sc))
		}
		out[k] = given[k]
	}
	for _, p := range sc.Params {
		v := out[p.Name]
		switch p.Kind {
		case "duration":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("parameter %s=%q: want a positive duration such as 30s", p.Name, v)
			}
		default:
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("parameter %s=%q: want an integer", p.Name, v)
			}
			if (p.Min != 0 || p.Max != 0) && (n < p.Min || n > p.Max) {
				return nil, fmt.Errorf("parameter %s=%d: want %d..%d", p.Name, n, p.Min, p.Max)
			}
		}
	}
	return out, nil
}

func paramNames(sc *Scenario) string {
	var b bytes.Buffer
	for i, p := range sc.Params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.Name)
	}
	return b.String()
}

// Validate checks a plan against its scenario: version, parameters, bugs,
// operations, fault steps and node names.
func (p *Plan) Validate() error {
	if p.Version != PlanVersion {
		return fmt.Errorf("plan version %d: this sofasim reads version %d", p.Version, PlanVersion)
	}
	sc, err := Lookup(p.Scenario)
	if err != nil {
		return err
	}
	params, err := resolveParams(sc, p.Params)
	if err != nil {
		return err
	}
	for _, b := range p.Bugs {
		if !sc.hasBug(b) {
			return fmt.Errorf("scenario %s has no planted bug %q (has: %s)", sc.Name, b, sc.bugNames())
		}
	}
	if p.Duration <= 0 || p.Liveness <= 0 {
		return fmt.Errorf("plan needs a positive duration and liveness bound")
	}
	clients := sc.Clients(params)
	for i, op := range p.Ops {
		if op.Client < 0 || op.Client >= clients {
			return fmt.Errorf("op %d: client %d out of 0..%d", i, op.Client, clients-1)
		}
		if op.At < 0 {
			return fmt.Errorf("op %d: negative time", i)
		}
		if !sc.hasOpKind(op.Kind) {
			return fmt.Errorf("op %d: unknown kind %q (scenario %s knows %v)", i, op.Kind, sc.Name, sc.OpKinds)
		}
	}
	nodes := map[sim.NodeID]bool{}
	for _, id := range sc.Nodes(params) {
		nodes[id] = true
	}
	known := func(id sim.NodeID) bool { return nodes[id] }
	for i, s := range p.Faults {
		f := s.Fault
		if s.Target != "" {
			if s.Target != "leader" {
				return fmt.Errorf("fault %d: unknown target %q (known: %v)", i, s.Target, Targets)
			}
			// Aimed at some node, as it will be when it fires.
			var ok bool
			if f, ok = f.Aimed(sc.Nodes(params)[0], sc.Nodes(params)); !ok {
				return fmt.Errorf("fault %d: %s takes no target", i, f.Kind())
			}
		}
		if err := f.Validate(known); err != nil {
			return fmt.Errorf("fault %d: %v", i, err)
		}
		if arm, ok := f.Op.(sim.ArmFailpoint); ok && !sc.hasFailpoint(arm.Failpoint) {
			return fmt.Errorf("fault %d: scenario %s has no failpoint %q", i, sc.Name, arm.Failpoint)
		}
	}
	return nil
}

// Marshal writes the plan as indented JSON.
func (p *Plan) Marshal() []byte {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		panic(err) // a Plan holds only plain data
	}
	return append(b, '\n')
}

// ParsePlan reads and validates a plan; unknown fields are errors.
func ParsePlan(data []byte) (*Plan, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Plan
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("malformed plan: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("malformed plan: trailing data after the plan object")
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("invalid plan: %v", err)
	}
	return &p, nil
}

// LoadPlan reads a plan file.
func LoadPlan(path string) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParsePlan(data)
}
