package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
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

// FaultKind names a fault.
type FaultKind string

// The fault vocabulary. Each kind's fields are listed in Fault.
const (
	FaultCrash       FaultKind = "crash"            // Nodes, Torn
	FaultRestart     FaultKind = "restart"          // Nodes: start a down node, crash and start a running one
	FaultPause       FaultKind = "pause"            // Nodes
	FaultResume      FaultKind = "resume"           // Nodes
	FaultPartition   FaultKind = "partition"        // Cuts: added to the current partition
	FaultHeal        FaultKind = "heal"             // removes every partition, clog and loss rule
	FaultClog        FaultKind = "clog"             // Cuts (empty: all links), For
	FaultLoss        FaultKind = "loss"             // Cuts (empty: all links), PPM, DupPPM, For (0: until heal)
	FaultClockJump   FaultKind = "clock-jump"       // Nodes, Jump (signed)
	FaultClockSkew   FaultKind = "clock-skew"       // Nodes, PPM: the new drift
	FaultDiskCorrupt FaultKind = "disk-corrupt"     // Nodes, File (empty: any file with synced data)
	FaultDiskSlow    FaultKind = "disk-slow"        // Nodes, Delay per sync, For
	FaultDiskHeal    FaultKind = "disk-heal"        // Nodes: pending sync failures and slow spells end (corruption stays)
	FaultDiskFail    FaultKind = "disk-fail"        // Nodes, Count: the next Count syncs fail
	FaultArm         FaultKind = "failpoint-arm"    // Failpoint, Value, PPM (0: always), Count (0: unlimited), Nodes (empty: all)
	FaultDisarm      FaultKind = "failpoint-disarm" // Failpoint
)

// FaultKinds lists every kind, for help texts and validation.
var FaultKinds = []FaultKind{FaultCrash, FaultRestart, FaultPause, FaultResume, FaultPartition,
	FaultHeal, FaultClog, FaultLoss, FaultClockJump, FaultClockSkew, FaultDiskCorrupt, FaultDiskSlow,
	FaultDiskFail, FaultDiskHeal, FaultArm, FaultDisarm}

// Fault is one timed fault event: plain data that prints, saves, replays
// and shrinks.
type Fault struct {
	At        Duration  `json:"at"`
	Kind      FaultKind `json:"kind"`
	Nodes     []NodeID  `json:"nodes,omitempty"`
	Cuts      []Cut     `json:"cuts,omitempty"`
	For       Duration  `json:"for,omitempty"`
	Delay     Duration  `json:"delay,omitempty"`
	Jump      Duration  `json:"jump,omitempty"`
	PPM       int64     `json:"ppm,omitempty"`
	DupPPM    int64     `json:"dup_ppm,omitempty"`
	Count     int       `json:"count,omitempty"`
	Torn      bool      `json:"torn,omitempty"`
	File      string    `json:"file,omitempty"`
	Failpoint string    `json:"failpoint,omitempty"`
	Value     string    `json:"value,omitempty"`
}

func (f Fault) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s @%v", f.Kind, f.At)
	if len(f.Nodes) > 0 {
		fmt.Fprintf(&b, " %v", f.Nodes)
	}
	for _, c := range f.Cuts {
		fmt.Fprintf(&b, " {%v}", c)
	}
	if f.Failpoint != "" {
		fmt.Fprintf(&b, " %s", f.Failpoint)
	}
	if f.For > 0 {
		fmt.Fprintf(&b, " for %v", f.For)
	}
	if f.Jump != 0 {
		fmt.Fprintf(&b, " by %v", f.Jump)
	}
	return b.String()
}

// Validate checks that the fault is well formed and names only nodes that
// known accepts (nil accepts any name).
func (f Fault) Validate(known func(NodeID) bool) error {
	if f.At < 0 {
		return fmt.Errorf("fault %s: negative time %v", f.Kind, f.At)
	}
	checkNodes := func(ids []NodeID) error {
		for _, id := range ids {
			if known != nil && !known(id) {
				return fmt.Errorf("fault %s @%v: unknown node %q", f.Kind, f.At, id)
			}
		}
		return nil
	}
	needNodes := func() error {
		if len(f.Nodes) == 0 {
			return fmt.Errorf("fault %s @%v: needs nodes", f.Kind, f.At)
		}
		return checkNodes(f.Nodes)
	}
	if err := checkNodes(f.Nodes); err != nil {
		return err
	}
	for _, c := range f.Cuts {
		if err := checkNodes(c.From); err != nil {
			return err
		}
		if err := checkNodes(c.To); err != nil {
			return err
		}
	}
	switch f.Kind {
	case FaultCrash, FaultRestart, FaultPause, FaultResume, FaultClockJump, FaultDiskCorrupt, FaultDiskFail, FaultDiskHeal:
		return needNodes()
	case FaultClockSkew:
		if f.PPM <= -1_000_000 || f.PPM >= 1_000_000 {
			return fmt.Errorf("fault clock-skew @%v: ppm %d out of (-1e6, 1e6)", f.At, f.PPM)
		}
		return needNodes()
	case FaultDiskSlow:
		if f.Delay <= 0 || f.For <= 0 {
			return fmt.Errorf("fault disk-slow @%v: needs a positive delay and for", f.At)
		}
		return needNodes()
	case FaultPartition:
		if len(f.Cuts) == 0 {
			return fmt.Errorf("fault partition @%v: needs cuts", f.At)
		}
	case FaultClog:
		if f.For <= 0 {
			return fmt.Errorf("fault clog @%v: needs a positive for", f.At)
		}
	case FaultLoss:
		if f.PPM < 0 || f.PPM > 1_000_000 || f.DupPPM < 0 || f.DupPPM > 1_000_000 {
			return fmt.Errorf("fault loss @%v: ppm out of [0, 1e6]", f.At)
		}
	case FaultHeal:
	case FaultArm, FaultDisarm:
		if f.Failpoint == "" {
			return fmt.Errorf("fault %s @%v: needs a failpoint name", f.Kind, f.At)
		}
		if f.PPM < 0 || f.PPM > 1_000_000 || f.Count < 0 {
			return fmt.Errorf("fault %s @%v: bad ppm or count", f.Kind, f.At)
		}
	default:
		return fmt.Errorf("unknown fault kind %q (known: %v)", f.Kind, FaultKinds)
	}
	return nil
}

// ParseFaults reads a JSON list of faults strictly: unknown fields are errors.
func ParseFaults(data []byte) ([]Fault, error) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
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
func (w *World) Inject(f Fault) error {
	if err := f.Validate(w.known); err != nil {
		return err
	}
	if !w.running {
		release := w.acquire()
		defer release()
	}
	f.At = Duration(w.now)
	w.applyFault(&f)
	return nil
}

// Faults returns the faults applied so far, in order, including the deaths
// of processes by panic or Env.Exit, listed as crashes whose Note starts
// with "panic: " or "exit: ".
func (w *World) Faults() []AppliedFault { return w.faults }

func (w *World) known(id NodeID) bool { _, ok := w.byID[id]; return ok }

func (w *World) slots(ids []NodeID) []*slot {
	out := make([]*slot, 0, len(ids))
	for _, id := range ids {
		if i, ok := w.byID[id]; ok {
			out = append(out, w.nodes[i])
		}
	}
	return out
}

func (w *World) applyFault(f *Fault) {
	w.fp.str(string(f.Kind))
	for _, id := range f.Nodes {
		w.fp.str(string(id))
	}
	note := ""
	switch f.Kind {
	case FaultCrash:
		for _, n := range w.slots(f.Nodes) {
			w.crash(n, f.Torn, "fault")
		}
	case FaultRestart:
		for _, n := range w.slots(f.Nodes) {
			w.crash(n, f.Torn, "restart")
			w.start(n)
		}
	case FaultPause:
		for _, n := range w.slots(f.Nodes) {
			w.pause(n)
		}
	case FaultResume:
		for _, n := range w.slots(f.Nodes) {
			w.resume(n)
		}
	case FaultPartition:
		for _, c := range f.Cuts {
			w.rules = append(w.rules, linkRule{kind: ruleBlock, from: w.bits(c.From), to: w.bits(c.To)})
		}
		w.networkChanged()
	case FaultHeal:
		w.rules = w.rules[:0]
		w.networkChanged()
	case FaultClog, FaultLoss:
		kind := ruleClog
		if f.Kind == FaultLoss {
			kind = ruleLoss
		}
		until := int64(0)
		if f.For > 0 {
			until = w.now + int64(f.For)
			w.push(event{at: until, kind: evExpire})
		}
		cuts := f.Cuts
		if len(cuts) == 0 {
			all := w.NodeIDs()
			cuts = []Cut{{From: all, To: all}}
		}
		for _, c := range cuts {
			w.rules = append(w.rules, linkRule{kind: kind, from: w.bits(c.From), to: w.bits(c.To),
				until: until, ppm: f.PPM, dupPPM: f.DupPPM})
		}
		w.networkChanged()
	case FaultClockJump:
		for _, n := range w.slots(f.Nodes) {
			n.clock.wallOff += int64(f.Jump)
		}
	case FaultClockSkew:
		for _, n := range w.slots(f.Nodes) {
			n.clock.setRate(w.now, f.PPM)
			w.rescheduleTimers(n)
		}
	case FaultDiskCorrupt:
		var notes []string
		for _, n := range w.slots(f.Nodes) {
			if name, off, ok := n.disk.corrupt(w.faultRand, f.File); ok {
				notes = append(notes, fmt.Sprintf("%s:%s@%d", n.id, name, off))
			}
		}
		note = strings.Join(notes, " ")
	case FaultDiskSlow:
		until := w.now + int64(f.For)
		nodes := w.slots(f.Nodes)
		for _, n := range nodes {
			n.disk.slow = append(n.disk.slow, slowSpell{delay: int64(f.Delay), until: until})
		}
		w.push(event{at: until, kind: evCall, p: func() {
			for _, n := range nodes {
				n.disk.endSlow(w.now)
			}
		}})
	case FaultDiskFail:
		for _, n := range w.slots(f.Nodes) {
			n.disk.failSyncs += max(f.Count, 1)
		}
	case FaultDiskHeal:
		for _, n := range w.slots(f.Nodes) {
			n.disk.failSyncs = 0
			n.disk.slow = nil
		}
	case FaultArm:
		w.arm(f)
	case FaultDisarm:
		w.disarm(f.Failpoint)
	}
	w.faults = append(w.faults, AppliedFault{At: time.Duration(w.now), Fault: *f, Note: note})
	w.trace.write(&TraceRecord{T: w.now, Kind: "fault", Event: f.String(), Fields: []string{note}})
}

func (w *World) bits(ids []NodeID) bitset {
	var b bitset
	for _, id := range ids {
		if i, ok := w.byID[id]; ok {
			b.add(i)
		}
	}
	return b
}

// expireRules drops timed rules whose time has come.
func (w *World) expireRules() {
	rules := w.rules[:0]
	for _, r := range w.rules {
		if r.until == 0 || r.until > w.now {
			rules = append(rules, r)
		}
	}
	w.rules = rules
	w.networkChanged()
}

// sortedFaultNames is a helper for deterministic iteration over armed names.
func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
