package sim

import (
	"cmp"
	"slices"
	"time"
)

// PeriodKind names what a period shows (a node down, a partition, ...);
// reports give each a colour. Fault kinds declare the periods they open and
// close in their mark methods.
type PeriodKind string

const (
	PeriodDown        PeriodKind = "down"
	PeriodPaused      PeriodKind = "paused"
	PeriodRestart     PeriodKind = "restart"
	PeriodPartitioned PeriodKind = "partitioned"
	PeriodClogged     PeriodKind = "clogged"
	PeriodLossy       PeriodKind = "lossy"
	PeriodClockJump   PeriodKind = "clock-jump"
	PeriodClockSkew   PeriodKind = "clock-skew"
	PeriodDiskSlow    PeriodKind = "disk-slow"
	PeriodDiskFault   PeriodKind = "disk-fault"
	PeriodFailpoint   PeriodKind = "failpoint"
)

// Scope is where a period shows: on a node, on a failpoint, or, with
// neither set, on the network as a whole.
type Scope struct {
	Node      NodeID
	Failpoint string
}

var onNetwork = Scope{}

func onNode(n NodeID) Scope         { return Scope{Node: n} }
func onFailpoint(name string) Scope { return Scope{Failpoint: name} }

// Period is a span of a fault's effect, or with Point a moment (a clock
// jump, a corruption), on one scope.
type Period struct {
	Scope
	Kind   PeriodKind
	Start  time.Duration
	End    time.Duration
	Point  bool
	Label  string // a word or two for a bar
	Detail string // the faults behind it, as applied, and what ended it
	seq    int    // the order of opening, to order periods that start together
}

// Periods turns the faults of a run as applied (World.Faults, deaths by
// panic or Exit included) into the periods a timeline draws, ordered by
// start. nodes are the run's nodes, in the order a timeline lists them;
// periods still open at end close there, and none reaches past it. Each
// kind says what it opens and closes, so a report draws what the kernel
// did instead of re-deriving it.
func Periods(applied []AppliedFault, nodes []NodeID, end time.Duration) []Period {
	t := &timeline{nodes: nodes}
	for _, af := range applied {
		if af.Fault.Op == nil {
			continue
		}
		detail := af.Fault.String()
		if af.Note != "" {
			detail += " (" + af.Note + ")"
		}
		af.Fault.Op.mark(t, af.At, detail)
	}
	for _, p := range t.open {
		p.End = end
		t.done = append(t.done, *p)
	}
	out := append(t.done, t.timed...)
	for i := range out {
		out[i].End = min(out[i].End, end)
		out[i].Start = min(out[i].Start, end)
	}
	slices.SortFunc(out, func(a, b Period) int { return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.seq, b.seq)) })
	return out
}

// timeline collects periods as faults mark them.
type timeline struct {
	seq   int
	nodes []NodeID  // the run's nodes
	open  []*Period // open until a later fault (or the end) closes them
	timed []Period  // with their own end (clog, loss, slow disk), cut short by a heal
	done  []Period
}

func (t *timeline) find(s Scope, kind PeriodKind) int {
	return slices.IndexFunc(t.open, func(p *Period) bool { return p.Scope == s && p.Kind == kind })
}

func (t *timeline) isOpen(s Scope, kind PeriodKind) bool { return t.find(s, kind) >= 0 }

// start opens a period; on one already open (a second partition on top of
// the first) it adds the detail.
func (t *timeline) start(s Scope, kind PeriodKind, at time.Duration, label, detail string) {
	if i := t.find(s, kind); i >= 0 {
		t.open[i].Detail += "; " + detail
		return
	}
	t.seq++
	t.open = append(t.open, &Period{Scope: s, Kind: kind, Start: at, Label: label, Detail: detail, seq: t.seq})
}

// startUntil records a period with a known end (0: open until closed).
// Timed periods may overlap (two loss rules at once).
func (t *timeline) startUntil(s Scope, kind PeriodKind, at, until time.Duration, label, detail string) {
	if until == 0 {
		t.start(s, kind, at, label, detail)
		return
	}
	t.seq++
	t.timed = append(t.timed, Period{Scope: s, Kind: kind, Start: at, End: until, Label: label, Detail: detail, seq: t.seq})
}

// close ends an open period at at, saying why, and reports whether there was one.
func (t *timeline) close(s Scope, kind PeriodKind, at time.Duration, why string) bool {
	i := t.find(s, kind)
	if i < 0 {
		return false
	}
	p := t.open[i]
	t.open = slices.Delete(t.open, i, i+1)
	p.End = at
	if why != "" {
		p.Detail += "; ended by " + why
	}
	t.done = append(t.done, *p)
	return true
}

// closeKind ends every period of kind running at at, open or timed, on
// scope s (nil: everywhere).
func (t *timeline) closeKind(kind PeriodKind, s *Scope, at time.Duration, why string) {
	for i := range t.timed {
		p := &t.timed[i]
		if p.Kind == kind && (s == nil || p.Scope == *s) && p.Start <= at && at < p.End {
			p.End = at
			p.Detail += "; ended by " + why
		}
	}
	for _, p := range slices.Clone(t.open) {
		if p.Kind == kind && (s == nil || p.Scope == *s) {
			t.close(p.Scope, kind, at, why)
		}
	}
}

func (t *timeline) point(s Scope, kind PeriodKind, at time.Duration, label, detail string) {
	t.seq++
	t.done = append(t.done, Period{Scope: s, Kind: kind, Start: at, End: at, Point: true, Label: label, Detail: detail, seq: t.seq})
}
