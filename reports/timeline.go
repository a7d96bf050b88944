package reports

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/sim"
)

// Lanes of the fault timeline besides one per node.
const (
	LaneNetwork  = "network"
	LaneLiveness = "liveness"
	lanePrefixFP = "failpoint "
)

// The timeline's own period kinds; the others are the kernel's
// (sim.PeriodDown, ...).
const (
	PeriodBug      = "bug"      // a planted bug's failpoint armed
	PeriodLiveness = "liveness" // the liveness phase
	PeriodDrill    = "drill"    // an ops drill of the system's own (Drilled)
)

// Drilled is a history that adds spans of its own to the timeline, such as
// the registry's ops drills; they go on their nodes' lanes.
type Drilled interface{ TimelinePeriods() []sim.Period }

// WithDrills adds a Drilled history's spans to a run's periods.
func WithDrills(periods []Period, h checkers.Recorded, end time.Duration) []Period {
	d, ok := h.(Drilled)
	if !ok {
		return periods
	}
	var own []Period
	for _, p := range d.TimelinePeriods() {
		own = append(own, Period{Lane: string(p.Node), Kind: string(p.Kind), Start: p.Start, End: min(p.End, end), Point: p.Point, Label: p.Label, Detail: p.Detail})
	}
	assignRows(own, end)
	return append(periods, own...)
}

// kindColors are the background colours of the timeline and of
// porcupine's annotations, in legend order; a kind not listed gets
// defaultColor and comes last in the legend.
var kindColors = []struct{ kind, color string }{
	{PeriodFailingOp, "#b8002e"},
	{string(sim.PeriodDown), "#e45756"},
	{string(sim.PeriodRestart), "#2ca02c"},
	{string(sim.PeriodPaused), "#f58518"},
	{string(sim.PeriodPartitioned), "#9d6fd0"},
	{string(sim.PeriodClogged), "#eeca3b"},
	{string(sim.PeriodLossy), "#d8b5a5"},
	{string(sim.PeriodClockSkew), "#4c78a8"},
	{string(sim.PeriodClockJump), "#4c78a8"},
	{string(sim.PeriodDiskSlow), "#9d755d"},
	{string(sim.PeriodDiskFault), "#9d755d"},
	{string(sim.PeriodFailpoint), "#72b7b2"},
	{PeriodBug, "#b279a2"},
	{PeriodLiveness, "#a6d9a0"},
	{PeriodDrill, "#54a24b"},
}

const defaultColor = "#bab0ac"

func colorOf(kind string) string {
	for _, kc := range kindColors {
		if kc.kind == kind {
			return kc.color
		}
	}
	return defaultColor
}

// legendOrder lists the kinds present in legend order.
func legendOrder(present map[string]bool) []string {
	var out, other []string
	for _, kc := range kindColors {
		if present[kc.kind] {
			out = append(out, kc.kind)
		}
	}
	for k := range present { //detlint:allow sorted below
		if colorOf(k) == defaultColor {
			other = append(other, k)
		}
	}
	sort.Strings(other)
	return append(out, other...)
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
	return Periods(r.Faults, ids, r.Bugs, time.Duration(r.HealAt), time.Duration(r.Virtual))
}

// Periods lays out the kernel's periods of a run's applied faults
// (sim.Periods) on the timeline's lanes, sorted by lane order (nodes in the
// given order, then the network, failpoints and the liveness phase) and
// start. A planted bug's failpoint shows as a bug; the liveness phase runs
// from healAt to end.
func Periods(faults []Fault, nodes []sim.NodeID, bugs []string, healAt, end time.Duration) []Period {
	applied := make([]sim.AppliedFault, len(faults))
	for i, f := range faults {
		applied[i] = sim.AppliedFault{At: time.Duration(f.At), Fault: f.Fault, Note: f.Note}
	}
	var out []Period
	for _, p := range sim.Periods(applied, nodes, end) {
		q := Period{Lane: LaneNetwork, Kind: string(p.Kind), Start: p.Start, End: p.End, Point: p.Point, Label: p.Label, Detail: p.Detail}
		switch {
		case p.Node != "":
			q.Lane = string(p.Node)
		case p.Failpoint != "":
			q.Lane = lanePrefixFP + p.Failpoint
			if slices.Contains(bugs, p.Failpoint) && p.Kind == sim.PeriodFailpoint {
				q.Kind, q.Label = PeriodBug, "planted bug"
			}
		}
		out = append(out, q)
	}
	if healAt > 0 || end > 0 {
		out = append(out, Period{Lane: LaneLiveness, Kind: PeriodLiveness, Start: min(healAt, end), End: end,
			Label: "liveness phase", Detail: fmt.Sprintf("faults healed at %v; the system must finish its work by %v", healAt, end)})
	}
	order := laneOrder(nodes, out)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if order[a.Lane] != order[b.Lane] {
			return order[a.Lane] < order[b.Lane]
		}
		if a.Start != b.Start {
			return a.Start < b.Start
		}
		return a.Kind < b.Kind
	})
	assignRows(out, end)
	return out
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
		case p.Lane == LaneFailingOps:
			order[LaneFailingOps] = -1 // on top: what failed, then the faults around it
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
			BackgroundColor: colorOf(p.Kind),
			TextColor:       "#000",
		})
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m { //detlint:allow sorted below
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
