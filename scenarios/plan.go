package scenarios

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/sofasim/sofasim/sim"
)

// PlanVersion is the version of the plan format this code reads and writes.
// Version 2 holds each system's own operation type; version 1 plans (one
// key-value shaped operation for every system) are refused, not misread.
const PlanVersion = 2

// Plan is everything a run depends on.
type Plan struct {
	Version  int               `json:"version"`
	Scenario string            `json:"scenario"`
	Seed     uint64            `json:"seed"`
	Params   map[string]string `json:"params,omitempty"`
	Bugs     []string          `json:"bugs,omitempty"`
	// Note says why a saved plan exists (a regression, a shrunk failure).
	Note     string       `json:"note,omitempty"`
	Duration sim.Duration `json:"duration"`
	Liveness sim.Duration `json:"liveness"`
	// Ops are the workload's operations in the scenario's own type (see
	// [Spec]); each embeds [OpTiming]. A client runs its operations in
	// order, each at its time or when the previous one finished.
	Ops    []json.RawMessage `json:"ops"`
	Faults []Step            `json:"faults"`
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

// Validate checks a plan against its scenario: version, parameters, bugs,
// operations, fault steps and node names.
func (p *Plan) Validate() error {
	if p.Version != PlanVersion {
		return fmt.Errorf("plan format version %d: this sofasim reads version %d only (a plan or failure file from an older sofasim cannot be replayed exactly; rerun its seed with this build)", p.Version, PlanVersion)
	}
	sc, err := Lookup(p.Scenario)
	if err != nil {
		return err
	}
	params, err := ResolveParams(sc, p.Params)
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
	clients := sc.clients(params)
	for i, raw := range p.Ops {
		t, err := sc.checkOp(raw)
		if err != nil {
			return fmt.Errorf("op %d: %v", i, err)
		}
		if t.Client < 0 || t.Client >= clients {
			return fmt.Errorf("op %d: client %d out of 0..%d", i, t.Client, clients-1)
		}
		if t.At < 0 {
			return fmt.Errorf("op %d: negative time", i)
		}
	}
	nodes := map[sim.NodeID]bool{}
	for _, id := range sc.nodes(params) {
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
			if f, ok = f.Aimed(sc.nodes(params)[0], sc.nodes(params)); !ok {
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
	var p Plan
	if err := strictJSON(data, &p); err != nil {
		return nil, fmt.Errorf("malformed plan: %v", err)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("invalid plan: %v", err)
	}
	return &p, nil
}

// compact is the plan as one line of JSON, for result files.
func (p *Plan) compact() []byte {
	b, err := json.Marshal(p)
	if err != nil {
		panic(err) // a Plan holds only plain data
	}
	return b
}

// LoadPlan reads a plan file.
func LoadPlan(path string) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParsePlan(data)
}

// strictJSON decodes one JSON value, refusing unknown fields and trailing data.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

// opTiming reads the client and time of an encoded operation.
func opTiming(raw json.RawMessage) (OpTiming, error) {
	var t OpTiming
	err := json.Unmarshal(raw, &t)
	return t, err
}
