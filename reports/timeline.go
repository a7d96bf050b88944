package reports

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/sofasim/sofasim/sim"
)

// Lanes of the fault timeline besides one per node.
const (
	LaneNetwork  = "network"
	LaneLiveness = "liveness"
	lanePrefixFP = "failpoint "
)

// Period kinds, one colour each.
const (
	PeriodDown        = "down"
	PeriodPaused      = "paused"
	PeriodPartitioned = "partitioned"
	PeriodClogged     = "clogged"
	PeriodLossy       = "lossy"
	PeriodClockSkew   = "clock-skew"
	PeriodClockJump   = "clock-jump"
	PeriodDiskSlow    = "disk-slow"
	PeriodDiskFault   = "disk-fault"
	PeriodRestart     = "restart"
	PeriodFailpoint   = "failpoint"
	PeriodBug         = "bug"
	PeriodLiveness    = "liveness"
)

// periodColors are the background colours of the timeline and of
// porcupine's annotations.
var periodColors = map[string]string{
	PeriodDown:        "#e45756",
	PeriodPaused:      "#f58518",
	PeriodPartitioned: "#9d6fd0",
	PeriodClogged:     "#eeca3b",
	PeriodLossy:       "#d8b5a5",
	PeriodClockSkew:   "#4c78a8",
	PeriodClockJump:   "#4c78a8",
	PeriodDiskSlow:    "#9d755d",
	PeriodDiskFault:   "#9d755d",
	PeriodRestart:     "#e45756",
	PeriodFailpoint:   "#72b7b2",
	PeriodBug:         "#b279a2",
	PeriodLiveness:    "#54a24b",
}

// Period is a span (or, with Point, a moment) of a fault on one lane of
// the timeline: a node, the network, a failpoint or the liveness phase.
type Period struct {
	Lane   string
	Kind   string
	Start  time.Duration
	End    time.Duration
	Point  bool
	Row    int    // the sub-row within the lane, so that overlapping periods stay visible
	Label  string // a word or two for the bar
	Detail string // the faults behind it
}

// PeriodsOf is [Periods] for a result.
func PeriodsOf(r *Result) []Period {
	var ids []sim.NodeID
	for _, n := range r.Nodes {
		ids = append(ids, n.ID)
	}
	return Periods(r.Faults, r.Findings, ids, r.Bugs, time.Duration(r.HealAt), time.Duration(r.Virtual))
}

// Periods turns the applied faults of a run, and the panics among its
// findings (a panic crashes the node), into timeline periods, sorted by
// lane order (nodes in the given order, then the network, failpoints and
// the liveness phase) and start. Open periods close at end.
//
// A node that ends itself (Env.Exit, say after a failed sync) leaves no
// trace in the faults: the kernel does not report it. When the runner
// restarts such a node as the liveness phase begins, the restart is
// marked "restarted (had exited)".
func Periods(faults []Fault, findings []Finding, nodes []sim.NodeID, bugs []string, healAt, end time.Duration) []Period {
	t := &tracker{open: map[string]*Period{}, bugs: map[string]bool{}}
	for _, b := range bugs {
		t.bugs[b] = true
	}
	var panics []Fault
	for _, f := range findings {
		if f.Kind == "panic" && f.Node != "" {
			text := fmt.Sprintf("panic @%v [%s]: %s", f.At, f.Node, f.Value)
			panics = append(panics, Fault{At: f.At, Kind: sim.FaultCrash, Text: text, Fault: sim.Fault{At: f.At, Kind: sim.FaultCrash, Nodes: []sim.NodeID{f.Node}}})
		}
	}
	all := make([]Fault, 0, len(faults)+len(panics))
	for _, f := range faults {
		for len(panics) > 0 && panics[0].At < f.At {
			all = append(all, panics[0])
			panics = panics[1:]
		}
		all = append(all, f)
	}
	all = append(all, panics...)
	for _, af := range all {
		f := af.Fault
		at := time.Duration(af.At)
		text := af.Text
		if af.Note != "" {
			text += " (" + af.Note + ")"
		}
		switch f.Kind {
		case sim.FaultCrash:
			for _, n := range f.Nodes {
				t.close(string(n), PeriodPaused, at, "crash")
				t.start(string(n), PeriodDown, at, "down", text)
			}
		case sim.FaultRestart:
			for _, n := range f.Nodes {
				if !t.close(string(n), PeriodDown, at, text) {
					t.close(string(n), PeriodPaused, at, "restart")
					label := "restart"
					if at == healAt && healAt > 0 {
						label = "restarted (had exited)"
					}
					t.point(string(n), PeriodRestart, at, label, text)
				}
			}
		case sim.FaultPause:
			for _, n := range f.Nodes {
				if t.isOpen(string(n), PeriodDown) {
					continue
				}
				t.start(string(n), PeriodPaused, at, "paused", text)
			}
		case sim.FaultResume:
			for _, n := range f.Nodes {
				t.close(string(n), PeriodPaused, at, text)
			}
		case sim.FaultPartition:
			for _, n := range cutOff(f.Cuts, nodes) {
				t.start(string(n), PeriodPartitioned, at, "cut off", text)
			}
			t.start(LaneNetwork, PeriodPartitioned, at, "partition", text)
		case sim.FaultHeal:
			t.closeKind(PeriodPartitioned, at, text)
			t.closeKind(PeriodClogged, at, text)
			t.closeKind(PeriodLossy, at, text)
		case sim.FaultClog, sim.FaultLoss:
			kind, label := PeriodClogged, "clogged"
			if f.Kind == sim.FaultLoss {
				kind, label = PeriodLossy, "lossy"
			}
			var until time.Duration
			if f.For > 0 {
				until = at + time.Duration(f.For)
			}
			lanes := []string{LaneNetwork}
			for _, n := range cutOff(f.Cuts, nodes) {
				lanes = append(lanes, string(n))
			}
			if len(f.Cuts) == 0 && f.Kind == sim.FaultClog {
				for _, n := range nodes {
					lanes = append(lanes, string(n))
				}
			}
			for _, l := range lanes {
				t.startUntil(l, kind, at, until, label, text)
			}
		case sim.FaultClockJump:
			for _, n := range f.Nodes {
				t.point(string(n), PeriodClockJump, at, "clock "+signed(time.Duration(f.Jump)), text)
			}
		case sim.FaultClockSkew:
			for _, n := range f.Nodes {
				t.close(string(n), PeriodClockSkew, at, text)
				if f.PPM != 0 {
					t.start(string(n), PeriodClockSkew, at, fmt.Sprintf("skew %+dppm", f.PPM), text)
				}
			}
		case sim.FaultDiskSlow:
			for _, n := range f.Nodes {
				t.startUntil(string(n), PeriodDiskSlow, at, at+time.Duration(f.For), "slow disk", text)
			}
		case sim.FaultDiskFail:
			for _, n := range f.Nodes {
				t.point(string(n), PeriodDiskFault, at, "sync fails", text)
			}
		case sim.FaultDiskCorrupt:
			for _, n := range f.Nodes {
				t.point(string(n), PeriodDiskFault, at, "corrupt", text)
			}
		case sim.FaultArm:
			kind, label := PeriodFailpoint, "armed"
			if t.bugs[f.Failpoint] {
				kind, label = PeriodBug, "planted bug"
			}
			lane := lanePrefixFP + f.Failpoint
			t.close(lane, kind, at, text)
			t.start(lane, kind, at, label, text)
		case sim.FaultDisarm:
			lane := lanePrefixFP + f.Failpoint
			t.close(lane, PeriodFailpoint, at, text)
			t.close(lane, PeriodBug, at, text)
		}
	}
	for _, k := range sortedKeys(t.open) {
		p := t.open[k]
		p.End = end
		t.done = append(t.done, *p)
	}
	t.done = append(t.done, t.timed...)
	if healAt > 0 || end > 0 {
		t.done = append(t.done, Period{Lane: LaneLiveness, Kind: PeriodLiveness, Start: healAt, End: end,
			Label: "liveness phase", Detail: fmt.Sprintf("faults healed at %v; the system must finish its work by %v", healAt, end)})
	}
	// Timed periods that outlast the run end with it.
	for i := range t.done {
		p := &t.done[i]
		p.End = min(p.End, end)
		p.Start = min(p.Start, end)
	}
	order := laneOrder(nodes, t.done)
	sort.SliceStable(t.done, func(i, j int) bool {
		a, b := t.done[i], t.done[j]
		if order[a.Lane] != order[b.Lane] {
			return order[a.Lane] < order[b.Lane]
		}
		if a.Start != b.Start {
			return a.Start < b.Start
		}
		return a.Kind < b.Kind
	})
	assignRows(t.done, end)
	return t.done
}

// assignRows puts each period of a lane on the first sub-row where it does
// not overlap an earlier one. A moment takes 3% of the run, for its label.
func assignRows(ps []Period, end time.Duration) {
	ends := map[string][]time.Duration{} // lane -> the end of each row's last period
	for i := range ps {
		p := &ps[i]
		stop := p.End
		if p.Point {
			stop = p.Start + max(end*3/100, 1)
		}
		rows := ends[p.Lane]
		p.Row = len(rows)
		for r, last := range rows {
			if last <= p.Start {
				p.Row = r
				break
			}
		}
		if p.Row == len(rows) {
			rows = append(rows, 0)
		}
		rows[p.Row] = max(stop, p.Start+1)
		ends[p.Lane] = rows
	}
}

// Tag is the porcupine row of a period: its lane, and a number for the
// lane's second and later sub-rows.
func (p Period) Tag() string {
	if p.Row == 0 {
		return p.Lane
	}
	return fmt.Sprintf("%s #%d", p.Lane, p.Row+1)
}

// Lanes lists the timeline's lanes: every node, then the network, the
// failpoints and the liveness phase when they have periods.
func Lanes(nodes []sim.NodeID, periods []Period) []string {
	order := laneOrder(nodes, periods)
	out := make([]string, 0, len(order))
	for l := range order { //detlint:allow sorted below
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return order[out[i]] < order[out[j]] })
	return out
}

func laneOrder(nodes []sim.NodeID, periods []Period) map[string]int {
	order := map[string]int{}
	for i, n := range nodes {
		order[string(n)] = i
	}
	var extra []string
	network, liveness := false, false
	for _, p := range periods {
		switch {
		case p.Lane == LaneNetwork:
			network = true
		case p.Lane == LaneLiveness:
			liveness = true
		case strings.HasPrefix(p.Lane, lanePrefixFP):
			extra = append(extra, p.Lane)
		default:
			if _, ok := order[p.Lane]; !ok {
				extra = append(extra, p.Lane) // a node the run did not list
			}
		}
	}
	sort.Strings(extra)
	next := len(nodes)
	if network {
		order[LaneNetwork] = next
		next++
	}
	for _, l := range extra {
		if _, ok := order[l]; !ok {
			order[l] = next
			next++
		}
	}
	if liveness {
		order[LaneLiveness] = next
	}
	return order
}

type tracker struct {
	open  map[string]*Period // lane + "\x00" + kind
	timed []Period           // periods with their own end (clog, loss, slow disk)
	done  []Period
	bugs  map[string]bool
}

func key(lane, kind string) string { return lane + "\x00" + kind }

func (t *tracker) isOpen(lane, kind string) bool { return t.open[key(lane, kind)] != nil }

func (t *tracker) start(lane, kind string, at time.Duration, label, detail string) {
	if p := t.open[key(lane, kind)]; p != nil {
		p.Detail += "; " + detail // a second partition on top of the first
		return
	}
	t.open[key(lane, kind)] = &Period{Lane: lane, Kind: kind, Start: at, Label: label, Detail: detail}
}

// startUntil records a period with a known end (0: until the next heal).
// Timed periods may overlap (two loss rules at once); a heal cuts them.
func (t *tracker) startUntil(lane, kind string, at, until time.Duration, label, detail string) {
	if until == 0 {
		t.start(lane, kind, at, label, detail)
		return
	}
	t.timed = append(t.timed, Period{Lane: lane, Kind: kind, Start: at, End: until, Label: label, Detail: detail})
}

// close ends an open period at at and reports whether there was one.
func (t *tracker) close(lane, kind string, at time.Duration, why string) bool {
	k := key(lane, kind)
	p := t.open[k]
	if p == nil {
		return false
	}
	delete(t.open, k)
	p.End = at
	if why != "" {
		p.Detail += "; ended by " + why
	}
	t.done = append(t.done, *p)
	return true
}

func (t *tracker) closeKind(kind string, at time.Duration, why string) {
	for i := range t.timed {
		p := &t.timed[i]
		if p.Kind == kind && p.Start <= at && at < p.End {
			p.End = at
			p.Detail += "; ended by " + why
		}
	}
	for _, k := range sortedKeys(t.open) {
		p := t.open[k]
		if p.Kind == kind {
			t.close(p.Lane, kind, at, why)
		}
	}
}

func (t *tracker) point(lane, kind string, at time.Duration, label, detail string) {
	t.done = append(t.done, Period{Lane: lane, Kind: kind, Start: at, End: at, Point: true, Label: label, Detail: detail})
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m { //detlint:allow sorted below
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// cutOff lists the nodes that cuts separate from more than half of the
// other nodes the cuts name (the isolated node, the minority side, the
// sender of a one-way cut), in the run's node order; the network lane
// shows every cut in full.
func cutOff(cuts []sim.Cut, nodes []sim.NodeID) []sim.NodeID {
	involved := map[sim.NodeID]bool{}
	blocked := map[sim.NodeID]map[sim.NodeID]bool{}
	mark := func(a, b sim.NodeID) {
		if a == b {
			return
		}
		if blocked[a] == nil {
			blocked[a] = map[sim.NodeID]bool{}
		}
		blocked[a][b] = true
	}
	for _, c := range cuts {
		for _, a := range c.From {
			involved[a] = true
			for _, b := range c.To {
				involved[b] = true
				mark(a, b)
				mark(b, a)
			}
		}
	}
	order := append([]sim.NodeID(nil), nodes...)
	var extra []string
	known := map[sim.NodeID]bool{}
	for _, n := range nodes {
		known[n] = true
	}
	for n := range involved { //detlint:allow sorted below
		if !known[n] {
			extra = append(extra, string(n))
		}
	}
	sort.Strings(extra)
	for _, n := range extra {
		order = append(order, sim.NodeID(n))
	}
	var out []sim.NodeID
	for _, n := range order {
		if involved[n] && 2*len(blocked[n]) > len(involved)-1 {
			out = append(out, n)
		}
	}
	return out
}

func signed(d time.Duration) string {
	if d >= 0 {
		return "+" + d.String()
	}
	return d.String()
}

// Annotations turns timeline periods into porcupine annotations, one row
// (tag) per lane, in the history's time (virtual nanoseconds).
func Annotations(periods []Period) []porcupine.Annotation {
	out := make([]porcupine.Annotation, 0, len(periods))
	for _, p := range periods {
		out = append(out, porcupine.Annotation{
			Tag:             p.Tag(),
			Start:           int64(p.Start),
			End:             int64(p.End),
			Description:     p.Label,
			Details:         fmt.Sprintf("%s %v–%v: %s", p.Kind, p.Start, p.End, p.Detail),
			BackgroundColor: periodColors[p.Kind],
			TextColor:       "#000",
		})
	}
	return out
}
