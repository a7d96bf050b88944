package reports

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/sim"
)

//go:embed templates
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"verdictClass": func(v checkers.Verdict) string { return "v-" + string(v) },
	"upper":        strings.ToUpper,
	"fmtFloat":     func(f float64, digits int) string { return strconv.FormatFloat(f, 'f', digits, 64) },
	"join":         strings.Join,
	"px":           func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
	"subf":         func(a, b float64) float64 { return a - b },
	"dur":          func(d sim.Duration) string { return FormatTime(time.Duration(d)) },
}).ParseFS(templateFS, "templates/*.tmpl"))

func style() template.CSS {
	b, err := templateFS.ReadFile("templates/style.css")
	if err != nil {
		panic(err)
	}
	return template.CSS(b)
}

// Run is what the HTML report of one run shows: the result, plus what the
// JSON does not hold (the history and porcupine's evidence), when known.
type Run struct {
	Result  *Result
	History checkers.Recorded // nil: not known
	// Linearization is the linearizability checker's porcupine evidence
	// (nil: no porcupine visualisation).
	Linearization *checkers.Linearization
	// Logs are the run's node logs (nil: none were kept). With them the
	// report names the node that answered each failing operation and shows
	// the involved nodes' lines around the failure; LogFiles are linked.
	Logs     *Logs
	LogFiles []LogFile
	LogsNote string // why there are no node logs, when they were wanted
}

// MaxVisualizedOps bounds the history shown by porcupine's visualisation
// of a run whose linearizability check passed (a failing check's keys are
// always shown): beyond it the page would be slow to open.
const MaxVisualizedOps = 3000

type runPage struct {
	Style       template.CSS
	R           *Result
	Title       string
	Build       string
	Views       []timelineView
	Failures    []failureLine
	Failing     []failingCheck
	Excerpts    []logExcerpt
	LogOf       map[string]string // node -> its log file
	LogFiles    []LogFile
	LogsNote    string
	Porcupine   string // porcupine's page, for the iframe's srcdoc
	PorcupineH  int
	PorcupineNo string // why there is none
	Plan        string
}

// timelineView is the fault timeline over one window of the run.
type timelineView struct {
	ID, Title string
	Checked   bool
	TL        svgTimeline
}

// failureLine is one line of the failures list: its first line, linking
// to where it is explained (each explanation is shown once).
type failureLine struct {
	Text, Anchor string
}

type failingCheck struct {
	checkers.Result
	Anchor  string
	Rows    []opRow
	Missing []int // op ids not in the history
}

type opRow struct {
	ID       int
	Client   int
	Key      string
	Call     string
	Return   string
	Op       string
	Result   string
	Unknown  bool
	Answered string // the node whose message completed it, when the logs say
}

type logExcerpt struct {
	Node, File, Why string
	Lines           []logLine
	More            bool
}

type logLine struct{ Sev, Text string }

// Excerpts show at most this many lines a node around the failure.
const maxExcerptLines = 120

// WriteHTML writes the self-contained HTML report of a run: no network
// fetches, every style and script inline.
func WriteHTML(w io.Writer, run Run) error {
	r := run.Result
	page := runPage{Style: style(), R: r, LogFiles: run.LogFiles, LogsNote: run.LogsNote, LogOf: map[string]string{},
		Title: fmt.Sprintf("%s seed %d: %s", r.Scenario, r.Seed, strings.ToUpper(string(r.Verdict)))}
	if r.Build != nil {
		page.Build = r.Build.String()
	}
	for _, f := range run.LogFiles {
		page.LogOf[f.Node] = f.File
	}
	var ids []sim.NodeID
	for _, n := range r.Nodes {
		ids = append(ids, n.ID)
	}
	end := time.Duration(r.Virtual)
	periods := WithDrills(PeriodsOf(r), run.History, end)

	var opPeriods []Period
	involved := map[string]string{} // node -> why it is shown
	for _, c := range r.Checks {
		if c.Verdict != checkers.Fail {
			continue
		}
		fc := failingCheck{Result: c, Anchor: "why-" + c.Checker}
		for _, id := range c.Ops {
			if run.History == nil || id < 0 || id >= run.History.Len() {
				fc.Missing = append(fc.Missing, id)
				continue
			}
			e := run.History.Entry(id)
			row := row(e)
			client := fmt.Sprintf("client-%d", e.Client)
			if run.Logs != nil && !e.Unknown {
				row.Answered = run.Logs.AnsweredBy(client, e.Return)
			}
			if row.Answered != "" {
				involved[row.Answered] = "answered a failing operation"
			}
			if _, ok := involved[client]; !ok {
				involved[client] = "issued a failing operation"
			}
			fc.Rows = append(fc.Rows, row)
			opPeriods = append(opPeriods, opPeriod(e, row.Answered, end))
		}
		page.Failing = append(page.Failing, fc)
		page.Failures = append(page.Failures, failureLine{Text: c.Checker + ": " + headline(c.Explanation), Anchor: fc.Anchor})
	}
	for _, f := range r.Findings {
		page.Failures = append(page.Failures, failureLine{Text: headline(f.String()), Anchor: "findings"})
		involved[string(f.Node)] = "had a " + f.Kind
	}
	assignRows(opPeriods, end)
	all := append(slices.Clone(periods), opPeriods...)

	whole := timelineView{ID: "tl-whole", Title: "whole run (0–" + FormatTime(end) + ")",
		TL: layoutTimeline(ids, all, 0, end, time.Duration(r.HealAt))}
	windows := failureWindows(r, opPeriods, end)
	for i, w := range windows {
		page.Views = append(page.Views, timelineView{ID: fmt.Sprintf("tl-failure-%d", i+1), Checked: i == 0,
			Title: fmt.Sprintf("%s · %s–%s", w.what, FormatTime(w.from.Round(time.Millisecond)), FormatTime(w.to.Round(time.Millisecond))),
			TL:    layoutTimeline(ids, all, w.from, w.to, time.Duration(r.HealAt))})
	}
	whole.Checked = len(windows) == 0
	page.Views = append(page.Views, whole)
	if run.Logs != nil && len(windows) > 0 {
		page.Excerpts = excerpts(run.Logs, involved, page.LogOf, windows)
	}

	page.Porcupine, page.PorcupineNo = porcupinePage(run, periods)
	if page.Porcupine != "" {
		page.PorcupineH = porcupineHeight(run, periods)
	}
	var plan bytes.Buffer
	if err := json.Indent(&plan, r.Plan, "", "  "); err == nil {
		page.Plan = plan.String()
	} else {
		page.Plan = string(r.Plan)
	}
	return templates.ExecuteTemplate(w, "run.html.tmpl", page)
}

// PeriodFailingOp is the timeline's kind for a failing operation, from its
// call to its return (to the end of the run when it never returned).
const PeriodFailingOp = "failing op"

// LaneFailingOps is the timeline lane of the failing operations.
const LaneFailingOps = "failing ops"

func opPeriod(e checkers.Entry, answered string, end time.Duration) Period {
	stop := time.Duration(e.Return)
	if e.Unknown || stop < time.Duration(e.Call) {
		stop = end
	}
	p := Period{Lane: LaneFailingOps, Kind: PeriodFailingOp, Start: time.Duration(e.Call), End: stop,
		Label:  fmt.Sprintf("op %d %s", e.ID, e.Op),
		Detail: fmt.Sprintf("op %d by client %d: %s -> %s, called %s, returned %s", e.ID, e.Client, e.Op, e.Result, FormatTime(time.Duration(e.Call)), e.When())}
	if answered != "" {
		p.Detail += ", answered by " + answered
	}
	return p
}

// window is a part of the run to zoom to, around failing operations or
// findings.
type window struct {
	from, to time.Duration
	what     string
}

// MaxFailureWindows bounds the zoomed timeline views of a report.
const MaxFailureWindows = 4

// failureWindows groups the failing operations and the findings into
// clusters (moments closer than a twentieth of the run, at least a
// second, go together) and pads each by a quarter of its length, at least
// 100ms, on each side: the timeline's zoomed views, the first one shown
// by default, so that a 100ms partition next to the failure is not a
// one-pixel tick on a 60s axis.
func failureWindows(r *Result, ops []Period, end time.Duration) []window {
	type span struct {
		lo, hi time.Duration
		what   string
	}
	var spans []span
	for _, p := range ops {
		id, _, _ := strings.Cut(strings.TrimPrefix(p.Label, "op "), " ")
		spans = append(spans, span{p.Start, p.End, id})
	}
	for _, f := range r.Findings {
		spans = append(spans, span{time.Duration(f.At), time.Duration(f.At), f.Kind})
	}
	if len(spans) == 0 || end <= 0 {
		return nil
	}
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].lo < spans[j].lo })
	gap := max(end/20, time.Second)
	var out []window
	cur, names := spans[0], []string{spans[0].what}
	flush := func() {
		pad := max((cur.hi-cur.lo)/4, 100*time.Millisecond)
		what := strings.Join(names, ", ")
		if len(names) > 3 {
			what = strings.Join(names[:3], ", ") + fmt.Sprintf(" and %d more", len(names)-3)
		}
		if _, err := strconv.Atoi(names[0]); err == nil {
			what = plural(len(names), "op ", "ops ") + what
		}
		out = append(out, window{from: max(cur.lo-pad, 0), to: min(cur.hi+pad, end), what: what})
	}
	for _, s := range spans[1:] {
		if s.lo <= cur.hi+gap {
			cur.hi = max(cur.hi, s.hi)
			names = append(names, s.what)
			continue
		}
		flush()
		cur, names = s, []string{s.what}
	}
	flush()
	if len(out) == 1 && out[0].to-out[0].from > end*8/10 {
		return nil // the whole run is the window
	}
	return out[:min(len(out), MaxFailureWindows)]
}

// excerpts are the lines of the involved nodes' logs in the windows, but
// for bare timer firings.
func excerpts(l *Logs, involved map[string]string, files map[string]string, windows []window) []logExcerpt {
	in := func(t time.Duration) bool {
		for _, w := range windows {
			if t >= w.from && t <= w.to {
				return true
			}
		}
		return false
	}
	var out []logExcerpt
	for _, node := range sortedKeys(involved) {
		b := l.nodes[node]
		if b == nil {
			continue
		}
		ex := logExcerpt{Node: node, File: files[node], Why: involved[node]}
		for _, line := range strings.Split(b.String(), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			t, err := time.ParseDuration(f[0])
			if err != nil || !in(t) || (len(f) == 3 && f[2] == "timer") {
				continue // bare timer firings are noise beside the messages
			}
			if len(ex.Lines) == maxExcerptLines {
				ex.More = true
				break
			}
			ex.Lines = append(ex.Lines, logLine{Sev: f[1], Text: line})
		}
		out = append(out, ex)
	}
	return out
}

func headline(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func porcupinePage(run Run, periods []Period) (page, why string) {
	lin := run.Linearization
	if lin == nil {
		return "", "This run has no linearizability check."
	}
	failed := false
	for _, c := range run.Result.Checks {
		if c.Checker == "linearizable" && c.Verdict == checkers.Fail {
			failed = true
		}
	}
	if n := run.History.Len(); !failed && n > MaxVisualizedOps {
		return "", fmt.Sprintf("The linearizability check passed; its %d operations are too many to draw here.", n)
	}
	var buf bytes.Buffer
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("porcupine's visualisation failed: %v", p)
			}
		}()
		return lin.Visualize(&buf, Annotations(periods)...)
	}()
	if err != nil {
		return "", err.Error()
	}
	return buf.String(), ""
}

// porcupineHeight is the iframe's first height: one 45px row per client
// and per annotation lane, plus the legend. Once porcupine has drawn, a
// script in the page fits the frame to what it drew.
func porcupineHeight(run Run, periods []Period) int {
	h := run.History
	clients := map[int]bool{}
	for i := 0; i < h.Len(); i++ {
		clients[h.Entry(i).Client] = true
	}
	lanes := map[string]bool{}
	for _, p := range periods {
		lanes[p.Tag()] = true
	}
	rows := len(clients) + len(lanes)
	return min(max(100+45*rows, 240), 2400)
}

func row(e checkers.Entry) opRow {
	ret := FormatTime(time.Duration(e.Return))
	switch {
	case e.Unknown && e.Return == 0:
		ret = "never"
	case e.Unknown:
		ret += " (gave up)"
	}
	return opRow{ID: e.ID, Client: e.Client, Key: e.Key, Call: FormatTime(time.Duration(e.Call)), Return: ret,
		Op: e.Op, Result: e.Result, Unknown: e.Unknown}
}

// svgTimeline is the fault timeline laid out for the template.
type svgTimeline struct {
	Width, Height float64
	Left, Right   float64
	Lanes         []svgLane
	Bars          []svgBar
	Ticks         []svgTick
	HealX         float64
	HealShown     bool
	Marks         []svgMark // the failing operations, shaded across every lane
	AxisY         float64
	Empty         bool
	Quiet         []string // nodes without faults, not drawn
	Legend        []legendItem
}

type svgMark struct{ X, W float64 }

type svgLane struct {
	Y, H  float64
	Label string
	Odd   bool
}

type svgBar struct {
	X, Y, W, H float64
	Fill       string
	Label      string
	TextX      float64
	TextY      float64
	Title      string
	Point      bool
	Op         bool   // a failing operation
	Beside     bool   // the label is beside the bar, not on it
	Points     string // the marker of a moment
}

type svgTick struct {
	X     float64
	Label string
}

type legendItem struct {
	Kind, Color string
}

const (
	tlWidth   = 1100.0
	tlLeft    = 190.0
	tlRight   = 20.0
	tlLaneH   = 24.0
	tlLaneGap = 4.0
	tlRowH    = 20.0
	tlTop     = 8.0
)

// MaxQuietLanes is how many nodes the timeline shows without faults; in a
// bigger run the nodes nothing happened to are named below it instead.
const MaxQuietLanes = 12

// layoutTimeline lays out the periods over the window [from, to] of the
// run: periods outside it are left out, those crossing its edges clipped.
func layoutTimeline(nodes []sim.NodeID, periods []Period, from, to, healAt time.Duration) svgTimeline {
	var quiet []string
	if len(nodes) > MaxQuietLanes {
		busy := map[string]bool{}
		for _, p := range periods {
			busy[p.Lane] = true
		}
		var shown []sim.NodeID
		for _, n := range nodes {
			if busy[string(n)] {
				shown = append(shown, n)
			} else {
				quiet = append(quiet, string(n))
			}
		}
		nodes = shown
	}
	lanes := Lanes(nodes, periods)
	left := tlLeft
	for _, l := range lanes {
		left = max(left, 16+6.6*float64(len(l)))
	}
	left = min(left, 360)
	t := svgTimeline{Width: tlWidth, Left: left, Right: tlWidth - tlRight}
	if to <= from {
		to = from + time.Second
	}
	span := to - from
	x := func(d time.Duration) float64 {
		d = min(max(d, from), to)
		return left + (t.Right-left)*float64(d-from)/float64(span)
	}
	rows := map[string]int{}
	for _, p := range periods {
		rows[p.Lane] = max(rows[p.Lane], p.Row+1)
	}
	laneY := map[string]float64{}
	y := tlTop
	for i, l := range lanes {
		h := tlLaneH + float64(max(rows[l], 1)-1)*tlRowH
		laneY[l] = y
		t.Lanes = append(t.Lanes, svgLane{Y: y, H: h, Label: l, Odd: i%2 == 1})
		y += h + tlLaneGap
	}
	t.AxisY = y - tlLaneGap + 2
	t.Height = t.AxisY + 24
	t.HealX = x(healAt)
	t.HealShown = healAt >= from && healAt <= to
	kinds := map[string]bool{}
	for _, p := range periods {
		y, ok := laneY[p.Lane]
		if !ok {
			continue
		}
		if p.Start > to || (!p.Point && p.End < from) || (p.Point && p.Start < from) {
			continue
		}
		y += float64(p.Row) * tlRowH
		kinds[p.Kind] = true
		b := svgBar{Y: y + 2, H: tlLaneH - 4, Fill: colorOf(p.Kind), Point: p.Point, Op: p.Kind == PeriodFailingOp,
			Title: fmt.Sprintf("%s %s: %s", p.Lane, p.Kind, FormatTime(p.Start))}
		if !p.Point {
			b.Title += " – " + FormatTime(p.End)
		}
		if b.Op {
			t.Marks = append(t.Marks, svgMark{X: x(p.Start), W: math.Max(x(p.End)-x(p.Start), 2)})
		}
		b.Title += "\n" + p.Detail
		if p.Point {
			cx, cy := x(p.Start), y+tlLaneH/2
			b.X, b.W = cx-5, 10
			b.Points = fmt.Sprintf("%s,%s %s,%s %s,%s %s,%s", f1(cx), f1(cy-8), f1(cx+5), f1(cy), f1(cx), f1(cy+8), f1(cx-5), f1(cy))
			b.Label = p.Label
			b.TextX, b.TextY = cx+8, cy+4
			if b.TextX+7*float64(len(b.Label)) > t.Right {
				b.Label = ""
			}
		} else {
			b.X = x(p.Start)
			b.W = math.Max(x(p.End)-b.X, 4) // a 100ms fault on a 60s axis stays visible
			switch {
			case 7*float64(len(p.Label))+8 <= b.W:
				b.Label = p.Label
				b.TextX, b.TextY = b.X+4, y+tlLaneH/2+4
			case b.Op && b.X+b.W+7*float64(len(p.Label))+8 <= t.Right:
				b.Label, b.Beside = p.Label, true // a short operation: its name beside it
				b.TextX, b.TextY = b.X+b.W+4, y+tlLaneH/2+4
			}
		}
		t.Bars = append(t.Bars, b)
	}
	t.Empty = len(periods) == 0
	t.Quiet = quiet
	step := tickStep(span)
	for d := (from + step - 1) / step * step; d <= to; d += step {
		t.Ticks = append(t.Ticks, svgTick{X: x(d), Label: tickLabel(d, step)})
	}
	for _, k := range legendOrder(kinds) {
		t.Legend = append(t.Legend, legendItem{Kind: k, Color: colorOf(k)})
	}
	return t
}

func f1(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// tickStep picks 1, 2 or 5 times a power of ten so that the axis has at
// most 12 ticks.
func tickStep(end time.Duration) time.Duration {
	step := time.Duration(1)
	for {
		for _, m := range []time.Duration{1, 2, 5} {
			if end/(step*m) <= 12 {
				return step * m
			}
		}
		step *= 10
	}
}

// tickLabel writes an axis time in seconds, as every time in the reports,
// with no more decimals than it has (decimal arithmetic on nanoseconds: a
// float would print 4.5600000000000005).
func tickLabel(d, _ time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	s := strconv.FormatInt(int64(d/time.Second), 10)
	if frac := int64(d % time.Second); frac != 0 {
		f := strconv.FormatInt(frac+1e9, 10)[1:] // nine digits
		s += "." + strings.TrimRight(f, "0")
	}
	if neg {
		s = "-" + s
	}
	return s + "s"
}

// sweepPage is the data of a sweep summary page.
type sweepPage struct {
	Style    template.CSS
	Build    string
	Colors   map[string]string
	S        *Sweep
	Title    string
	Verdict  checkers.Verdict
	Strip    []stripCell
	StripH   float64
	StripCut uint64
	Params   string
	Events   uint64
	Virtual  float64
}

type stripCell struct {
	X, Y  float64
	Fill  string
	Title string
	Link  string
}

// The sweep strip's colours: a seed without a verdict must not pass for a
// green one at a glance.
const (
	colorPass      = "#54a24b"
	colorFail      = "#e45756"
	colorOutOfTime = "#f2b701"
	colorNoVerdict = "#3b3b3b"
)

// MaxStripSeeds bounds the per-seed strip of a sweep page.
const MaxStripSeeds = 20000

// WriteSweepHTML writes a sweep's summary page. Its links are relative to
// the page's folder, as the summary's paths are.
func WriteSweepHTML(w io.Writer, s *Sweep) error {
	p := sweepPage{Style: style(), S: s, Verdict: s.Verdict(),
		Colors: map[string]string{"pass": colorPass, "fail": colorFail, "out": colorOutOfTime, "none": colorNoVerdict},
		Title:  fmt.Sprintf("%s seeds %v: %s", s.Scenario, s.Range, strings.ToUpper(string(s.Verdict())))}
	if s.Shard.Count > 1 {
		p.Title = fmt.Sprintf("%s seeds %v shard %v: %s", s.Scenario, s.Range, s.Shard, strings.ToUpper(string(s.Verdict())))
	}
	if s.Build != nil {
		p.Build = s.Build.String()
	}
	var params []string
	for _, k := range sortedKeys(s.Params) {
		params = append(params, k+"="+s.Params[k])
	}
	p.Params = strings.Join(params, " ")
	const perRow, cell = 100, 10.0
	for i, r := range s.Results {
		p.Events += r.Events
		p.Virtual += r.VirtualSeconds
		if i >= MaxStripSeeds {
			p.StripCut = uint64(len(s.Results) - MaxStripSeeds)
			continue
		}
		c := stripCell{X: float64(i%perRow) * cell, Y: float64(i/perRow) * cell, Fill: colorPass,
			Title: fmt.Sprintf("seed %d: %s", r.Seed, r.Verdict)}
		switch {
		case r.Verdict == checkers.Pass:
		case r.Verdict == checkers.Fail:
			c.Fill = colorFail
		case r.Cause == CauseOutOfTime:
			c.Fill, c.Title = colorOutOfTime, fmt.Sprintf("seed %d: out of time (not a finding)", r.Seed)
		default:
			c.Fill, c.Title = colorNoVerdict, fmt.Sprintf("seed %d: no verdict", r.Seed)
		}
		if r.Report != "" {
			c.Link = filepath.ToSlash(r.Report)
		}
		if len(r.Failures) > 0 {
			c.Title += "\n" + r.Failures[0]
		} else if r.Error != "" {
			c.Title += "\n" + r.Error
		}
		p.Strip = append(p.Strip, c)
	}
	rows := (min(len(s.Results), MaxStripSeeds) + perRow - 1) / perRow
	p.StripH = float64(rows) * cell
	return templates.ExecuteTemplate(w, "sweep.html.tmpl", p)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
