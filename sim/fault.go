package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Duration is a time.Duration that reads and writes JSON as "1.5s" text;
// the text form is exact, so plans round-trip.
type Duration time.Duration

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("bad duration %q: %v", b, err)
	}
	*d = Duration(v)
	return nil
}

func (d Duration) String() string { return time.Duration(d).String() }

// FaultKind names a fault kind in plans, traces and reports.
type FaultKind string

// FaultOp is what a fault does: a value of one of the kinds declared in
// the fault_*.go files (Crash, Partition, Loss, ArmFailpoint, ...). Each
// kind's file holds everything about it: its payload and JSON fields, its
// validation, how the world applies it, its text for people and the
// timeline periods it opens and closes. The methods are unexported so the
// set stays closed and no rule about a kind lives anywhere else.
//
// Adding a kind is one new file: a payload struct with these methods and a
// defineFault call in an init function (see fault_failpoint.go).
type FaultOp interface {
	Kind() FaultKind
	// describe writes the payload for people, after "kind @at".
	describe(b *strings.Builder)
	// check reports what is wrong with the payload; node names go through c.
	check(c checker) error
	// targets are the nodes the fault names; the fingerprint hashes them.
	targets() []NodeID
	// aim returns the fault retargeted at one node (a dynamic target such
	// as a scenario's "leader"), or false for kinds that take no target.
	aim(target NodeID, all []NodeID) (FaultOp, bool)
	// apply does it to the world now and returns a note for the record.
	apply(w *World) string
	// mark records the periods the fault opens and closes on a timeline.
	mark(t *timeline, at time.Duration, detail string)
}

// faultKind is what the registry knows of a kind besides its methods.
type faultKind struct {
	about  string
	fields []string // JSON fields of the payload, in declaration order
	decode func(data []byte) (FaultOp, error)
}

var faultKinds = map[FaultKind]*faultKind{}

// defineFault registers kind T with a one-line description; each fault_*.go
// file calls it from init for the kinds it declares.
func defineFault[T FaultOp](about string) {
	var zero T
	fields := jsonFields(reflect.TypeOf(zero))
	faultKinds[zero.Kind()] = &faultKind{about: about, fields: fields, decode: func(data []byte) (FaultOp, error) {
		var v T
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		return v, nil
	}}
}

func jsonFields(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// FaultKinds lists every kind, sorted, for help texts and generators.
func FaultKinds() []FaultKind { return slices.Sorted(maps.Keys(faultKinds)) }

// About is the kind's one-line description for people ("" if unknown).
func (k FaultKind) About() string {
	if d := faultKinds[k]; d != nil {
		return d.about
	}
	return ""
}

// Fields lists the JSON fields of the kind's payload, besides "at" and "kind".
func (k FaultKind) Fields() []string {
	if d := faultKinds[k]; d != nil {
		return slices.Clone(d.fields)
	}
	return nil
}

// Fault is one timed fault event: plain data that prints, saves, replays
// and shrinks. In JSON it is one flat object, {"at": "1s", "kind":
// "loss", "loss_ppm": 10000, ...}, whose fields are those of its kind.
type Fault struct {
	At Duration
	Op FaultOp
}

// Kind is the fault's kind ("" for a fault without an Op).
func (f Fault) Kind() FaultKind {
	if f.Op == nil {
		return ""
	}
	return f.Op.Kind()
}

func (f Fault) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s @%v", f.Kind(), f.At)
	if f.Op != nil {
		f.Op.describe(&b)
	}
	return b.String()
}

// Aimed returns the fault retargeted at node target (all: every node, for
// kinds that cut one node off, such as a partition), or false if its kind
// takes no target.
func (f Fault) Aimed(target NodeID, all []NodeID) (Fault, bool) {
	if f.Op == nil {
		return f, false
	}
	op, ok := f.Op.aim(target, all)
	if !ok {
		return f, false
	}
	f.Op = op
	return f, true
}

// Validate checks that the fault is well formed and names only nodes that
// known accepts (nil accepts any name).
func (f Fault) Validate(known func(NodeID) bool) error {
	if f.Op == nil {
		return fmt.Errorf("fault @%v: no kind (known: %v)", f.At, FaultKinds())
	}
	if f.At < 0 {
		return fmt.Errorf("fault %s: negative time %v", f.Kind(), f.At)
	}
	if err := f.Op.check(checker{known}); err != nil {
		return fmt.Errorf("fault %s @%v: %v", f.Kind(), f.At, err)
	}
	return nil
}

// checker validates node names for a kind's check.
type checker struct{ known func(NodeID) bool }

// nodes checks that every id is known and, with need, that there is one.
func (c checker) nodes(ids []NodeID, need bool) error {
	if need && len(ids) == 0 {
		return errors.New("needs nodes")
	}
	for _, id := range ids {
		if c.known != nil && !c.known(id) {
			return fmt.Errorf("unknown node %q", id)
		}
	}
	return nil
}

func (c checker) cuts(cuts []Cut) error {
	for _, cut := range cuts {
		if err := c.nodes(cut.From, false); err != nil {
			return err
		}
		if err := c.nodes(cut.To, false); err != nil {
			return err
		}
	}
	return nil
}

// ppm checks a rate in parts per million.
func ppm(name string, v int64) error {
	if v < 0 || v > 1_000_000 {
		return fmt.Errorf("%s %d out of [0, 1e6]", name, v)
	}
	return nil
}

// MarshalJSON writes the fault as one object: at, kind, then its kind's fields.
func (f Fault) MarshalJSON() ([]byte, error) {
	if f.Op == nil {
		return nil, fmt.Errorf("sim: fault @%v has no kind", f.At)
	}
	body, err := json.Marshal(f.Op)
	if err != nil {
		return nil, err
	}
	at, _ := f.At.MarshalText()
	head, _ := json.Marshal(struct {
		At   string    `json:"at"`
		Kind FaultKind `json:"kind"`
	}{string(at), f.Op.Kind()})
	if len(body) == 2 { // {}
		return head, nil
	}
	return append(append(head[:len(head)-1], ','), body[1:]...), nil
}

// UnmarshalJSON reads a fault strictly: "at" and a known "kind" are
// required and every other field must be one of that kind's, so a plan
// written for another field layout is refused, never misread.
func (f *Fault) UnmarshalJSON(data []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return err
	}
	if fields == nil {
		return errors.New("fault is null")
	}
	var at Duration
	if raw, ok := fields["at"]; !ok {
		return errors.New(`fault has no "at"`)
	} else if err := json.Unmarshal(raw, &at); err != nil {
		return fmt.Errorf("fault at: %v", err)
	}
	var kind FaultKind
	if err := json.Unmarshal(fields["kind"], &kind); err != nil || kind == "" {
		return fmt.Errorf(`fault @%v has no "kind" (known: %v)`, at, FaultKinds())
	}
	def := faultKinds[kind]
	if def == nil {
		return fmt.Errorf("fault @%v: unknown kind %q (known: %v)", at, kind, FaultKinds())
	}
	delete(fields, "at")
	delete(fields, "kind")
	for _, name := range sortedNames(fields) {
		if !slices.Contains(def.fields, name) {
			return fmt.Errorf("fault %s @%v: unknown field %q (%s takes %s)", kind, at, name, kind, takes(def.fields))
		}
	}
	rest, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	op, err := def.decode(rest)
	if err != nil {
		return fmt.Errorf("fault %s @%v: %v", kind, at, err)
	}
	*f = Fault{At: at, Op: op}
	return nil
}

func takes(fields []string) string {
	if len(fields) == 0 {
		return "no fields"
	}
	return strings.Join(fields, ", ")
}

// ParseFaults reads a JSON list of faults strictly: unknown fields are errors.
func ParseFaults(data []byte) ([]Fault, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var fs []Fault
	if err := dec.Decode(&fs); err != nil {
		return nil, fmt.Errorf("fault plan: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("fault plan: unexpected data after the list at offset %d", dec.InputOffset())
	}
	for i, f := range fs {
		if err := f.Validate(nil); err != nil {
			return nil, fmt.Errorf("fault plan entry %d: %v", i, err)
		}
	}
	return fs, nil
}

// AppliedFault is a fault as it happened, for reports.
type AppliedFault struct {
	At    time.Duration `json:"at"`
	Fault Fault         `json:"fault"`
	Note  string        `json:"note,omitempty"`
}

// Schedule validates faults and schedules each at its time. Faults at the
// same time apply in the order given.
func (w *World) Schedule(faults []Fault) error {
	for i, f := range faults {
		if err := f.Validate(w.known); err != nil {
			return fmt.Errorf("fault %d: %w", i, err)
		}
	}
	for i := range faults {
		f := faults[i]
		w.push(event{at: max(int64(f.At), w.now), kind: evFault, p: &f})
	}
	return nil
}

// Inject validates and applies a fault now. Between Run calls it takes the
// process for the world too, since a restart runs node code (which may read
// crypto/rand, as etcd raft does) and arming touches the failpoint registry.
func (w *World) Inject(op FaultOp) error {
	f := Fault{At: Duration(w.now), Op: op}
	if err := f.Validate(w.known); err != nil {
		return err
	}
	if !w.running {
		release := w.acquire()
		defer release()
	}
	w.applyFault(&f)
	return nil
}

// Faults returns the faults applied so far, in order, including the deaths
// of processes by panic or Env.Exit, listed as crashes whose Note starts
// with "panic: " or "exit: ".
func (w *World) Faults() []AppliedFault { return w.faults }

func (w *World) known(id NodeID) bool { _, ok := w.indexOf(id); return ok }

func (w *World) slots(ids []NodeID) []*slot {
	out := make([]*slot, 0, len(ids))
	for _, id := range ids {
		if i, ok := w.indexOf(id); ok {
			out = append(out, w.nodes[i])
		}
	}
	return out
}

func (w *World) applyFault(f *Fault) {
	w.fp.str(string(f.Op.Kind()))
	for _, id := range f.Op.targets() {
		w.fp.str(string(id))
	}
	note := f.Op.apply(w)
	w.faults = append(w.faults, AppliedFault{At: time.Duration(w.now), Fault: *f, Note: note})
	if w.trace != nil { // the text costs allocations a run without a trace need not pay
		w.trace.write(&TraceRecord{T: w.now, Kind: "fault", Event: f.String(), Fields: []string{note}})
	}
}

func (w *World) bits(ids []NodeID) bitset {
	var b bitset
	for _, id := range ids {
		if i, ok := w.indexOf(id); ok {
			b.add(i)
		}
	}
	return b
}

// sortedNames is a helper for deterministic iteration over named things.
func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
