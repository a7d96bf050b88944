package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/sim"
)

// Version is the version of the result, failure and sweep schemas this
// package writes and reads. Version 2 came with plan format 2: files of
// version 1 are refused, not replayed wrongly.
const Version = 2

// Result is the one record of a run: the runner (scenarios.Run) fills it,
// the CLI adds where its files went, and the JSON files, the HTML page and
// JUnit are written from it. A failure file is the Result of a failing run.
// See the package documentation for the schema.
type Result struct {
	Version        int               `json:"version"`
	Scenario       string            `json:"scenario"`
	Seed           uint64            `json:"seed"`
	Verdict        checkers.Verdict  `json:"verdict"`
	Fingerprint    string            `json:"fingerprint"`
	Events         uint64            `json:"events"`
	Virtual        sim.Duration      `json:"virtual"`
	VirtualSeconds float64           `json:"virtual_seconds"`
	HealAt         sim.Duration      `json:"heal_at"`
	WallSeconds    float64           `json:"wall_seconds"`
	SimWallSeconds float64           `json:"sim_wall_seconds"`
	Speedup        float64           `json:"speedup"`
	Bugs           []string          `json:"bugs"`
	Failures       []string          `json:"failures"`
	Checks         []checkers.Result `json:"checks"`
	Findings       []Finding         `json:"findings"`
	Faults         []Fault           `json:"faults"`
	Nodes          []Node            `json:"nodes"`
	Replay         string            `json:"replay"`
	RunCommand     string            `json:"run_command,omitempty"`
	Build          *Build            `json:"build,omitempty"` // the sofasim that ran it (absent in older files)
	Plan           json.RawMessage   `json:"plan"`
	// Reached counts how often the run reached each named state (coverage
	// marks, sim.Env.Reached); states never reached are absent.
	Reached map[string]uint64 `json:"reached,omitempty"`

	// History is the recorded history (not in the JSON: it is written
	// beside it as history.json). Nil in a result read from a file.
	History checkers.Recorded `json:"-"`
}

// Finding is something the harness noticed that is a failure by itself,
// such as a panic inside a node. Stack has its memory addresses and
// goroutine numbers blanked so that reports stay deterministic.
type Finding struct {
	Kind  string       `json:"kind"`
	Node  sim.NodeID   `json:"node"`
	At    sim.Duration `json:"at"`
	Value string       `json:"value"`
	Stack string       `json:"stack,omitempty"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s in %s at %v: %s", f.Kind, f.Node, f.At, f.Value)
}

// Fault is a fault as it was applied (by the plan, the nemesis's dynamic
// targets resolved, or by the runner's heal before the liveness phase).
type Fault struct {
	At    sim.Duration  `json:"at"`
	Kind  sim.FaultKind `json:"kind"`
	Text  string        `json:"text"`
	Fault sim.Fault     `json:"fault"`
	Note  string        `json:"note,omitempty"`
}

// Node is one node's statistics.
type Node struct {
	ID    sim.NodeID    `json:"id"`
	Stats sim.NodeStats `json:"stats"`
	Disk  sim.DiskStats `json:"disk"`
}

// Observe fills what the world saw: the fingerprint, events, virtual time,
// findings, applied faults and every node's statistics.
func (r *Result) Observe(w *sim.World, healAt time.Duration) {
	r.Fingerprint = FormatFingerprint(w.Fingerprint())
	r.Events = w.Events()
	r.Virtual = sim.Duration(w.Now())
	r.VirtualSeconds = w.Now().Seconds()
	r.HealAt = sim.Duration(healAt)
	r.SimWallSeconds = round(w.Wall().Seconds(), 6)
	if w.Wall() > 0 {
		r.Speedup = round(float64(w.Now())/float64(w.Wall()), 1)
	}
	r.SetFindings(w.Findings())
	r.Reached = w.Reached()
	r.SetFaults(w.Faults())
	r.Nodes = []Node{}
	for _, id := range w.NodeIDs() {
		r.Nodes = append(r.Nodes, Node{ID: id, Stats: w.Stats(id), Disk: w.Disk(id).Stats()})
	}
}

// SetFindings records the kernel's findings, their stacks cleaned.
func (r *Result) SetFindings(fs []sim.Finding) {
	r.Findings = []Finding{}
	for _, f := range fs {
		r.Findings = append(r.Findings, Finding{Kind: f.Kind, Node: f.Node, At: sim.Duration(f.At), Value: f.Value, Stack: CleanStack(f.Stack)})
	}
}

// SetFaults records the faults as applied.
func (r *Result) SetFaults(fs []sim.AppliedFault) {
	r.Faults = []Fault{}
	for _, f := range fs {
		r.Faults = append(r.Faults, Fault{At: sim.Duration(f.At), Kind: f.Fault.Kind(), Text: f.Fault.String(), Fault: f.Fault, Note: f.Note})
	}
}

// Judge sets the checks, the verdict and the failure lines: any finding
// fails the run, then any failing check; a check without a verdict makes
// the run's verdict unknown.
func (r *Result) Judge(checks []checkers.Result) {
	r.Checks = append([]checkers.Result{}, checks...)
	r.Failures = []string{}
	for _, f := range r.Findings {
		r.Failures = append(r.Failures, f.String())
	}
	r.Verdict = checkers.Pass
	for _, c := range r.Checks {
		switch c.Verdict {
		case checkers.Fail:
			r.Failures = append(r.Failures, c.Checker+": "+c.Explanation)
			r.Verdict = checkers.Fail
		case checkers.Unknown:
			if r.Verdict == checkers.Pass {
				r.Verdict = checkers.Unknown
			}
		}
	}
	if len(r.Findings) > 0 {
		r.Verdict = checkers.Fail
	}
}

// SetWall records the wall time of the whole run (building, simulating,
// checking).
func (r *Result) SetWall(d time.Duration) { r.WallSeconds = round(d.Seconds(), 6) }

// Linearization finds porcupine's evidence among the checks (nil: none).
func (r *Result) Linearization() *checkers.Linearization {
	for _, c := range r.Checks {
		if c.Linearization != nil {
			return c.Linearization
		}
	}
	return nil
}

// Explain summarises the run for a person.
func (r *Result) Explain() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s seed %d: %s (%v virtual, %d events, fingerprint %s)\n",
		r.Scenario, r.Seed, r.Verdict, r.Virtual, r.Events, r.Fingerprint)
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "  %-16s %-7s %s\n", c.Checker, c.Verdict, c.Explanation)
	}
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "  finding: %s\n", f)
	}
	return b.String()
}

// FormatFingerprint writes a fingerprint as the reports do: %016x.
func FormatFingerprint(fp uint64) string { return fmt.Sprintf("%016x", fp) }

var fingerprintRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

func round(x float64, digits int) float64 {
	p := 1.0
	for i := 0; i < digits; i++ {
		p *= 10
	}
	return float64(int64(x*p+0.5)) / p
}

func compact(plan []byte) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, plan); err != nil {
		return json.RawMessage(plan)
	}
	return json.RawMessage(b.Bytes())
}

// Passed reports whether the verdict is pass.
func (r *Result) Passed() bool { return r.Verdict == checkers.Pass }

// Primary is the failure a shrink keeps: the first finding's kind, or else
// the first failing checker's name ("" when nothing failed).
func (r *Result) Primary() string {
	if len(r.Findings) > 0 {
		return r.Findings[0].Kind
	}
	for _, c := range r.Checks {
		if c.Verdict == checkers.Fail {
			return c.Checker
		}
	}
	return ""
}

// Marshal writes the result as indented JSON with a final newline. HTML
// characters are not escaped, so explanations read as they were written.
func (r *Result) Marshal() []byte { return marshal(r) }

func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("reports: marshal: %v", err)) // plain data only
	}
	return b.Bytes()
}

// ParseResult reads a result or failure file strictly: version 1, no
// unknown fields, a scenario, a verdict, a 16-digit hex fingerprint and a
// plan object are required.
func ParseResult(data []byte) (*Result, error) {
	var r Result
	if err := decodeStrict(data, &r); err != nil {
		return nil, err
	}
	switch {
	case r.Version != Version:
		return nil, fmt.Errorf("result version %d: this sofasim reads version %d", r.Version, Version)
	case r.Scenario == "":
		return nil, errors.New(`result has no "scenario"`)
	case r.Verdict == "":
		return nil, errors.New(`result has no "verdict"`)
	case !fingerprintRE.MatchString(r.Fingerprint):
		return nil, fmt.Errorf("result fingerprint %q: want 16 lowercase hex digits", r.Fingerprint)
	}
	plan := bytes.TrimSpace(r.Plan)
	if len(plan) == 0 || plan[0] != '{' {
		return nil, errors.New(`result has no "plan" object to rerun`)
	}
	var head struct {
		Scenario string `json:"scenario"`
		Seed     uint64 `json:"seed"`
	}
	if err := json.Unmarshal(plan, &head); err != nil {
		return nil, fmt.Errorf("result plan: %v", err)
	}
	if head.Scenario != r.Scenario || head.Seed != r.Seed {
		return nil, fmt.Errorf("result is for %s seed %d but its plan is for %s seed %d", r.Scenario, r.Seed, head.Scenario, head.Seed)
	}
	return &r, nil
}

// ReadResult reads a result or failure file.
func ReadResult(path string) (*Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, err := ParseResult(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return r, nil
}

// decodeStrict decodes one JSON value with unknown fields forbidden and
// nothing after it, with errors that say what went wrong.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("malformed JSON at line %d: %v", lineOf(data, se.Offset), err)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return errors.New("malformed JSON: empty or truncated input")
		}
		return fmt.Errorf("malformed JSON: %v", err)
	}
	if dec.More() {
		return errors.New("malformed JSON: data after the object")
	}
	return nil
}

func lineOf(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

var (
	goroutineRE = regexp.MustCompile(`\bgoroutine \d+\b`)
	argsRE      = regexp.MustCompile(`\([^()]*\)$`)
	hexRE       = regexp.MustCompile(`\b0x[0-9a-f]{9,}\b`)
)

// CleanStack blanks what differs between two runs of the same seed in a
// Go stack trace: goroutine numbers, the argument words of each frame and
// anything that looks like a heap address. Function names, files, lines
// and PC offsets stay.
func CleanStack(stack string) string {
	if stack == "" {
		return ""
	}
	lines := strings.Split(stack, "\n")
	for i, l := range lines {
		l = goroutineRE.ReplaceAllString(l, "goroutine N")
		if !strings.HasPrefix(l, "\t") {
			l = argsRE.ReplaceAllString(l, "(...)")
		}
		lines[i] = hexRE.ReplaceAllString(l, "0x?")
	}
	return strings.Join(lines, "\n")
}
