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
}

// MaxVisualizedOps bounds the history shown by porcupine's visualisation
// of a run whose linearizability check passed (a failing check's keys are
// always shown): beyond it the page would be slow to open.
const MaxVisualizedOps = 3000

type runPage struct {
	Style       template.CSS
	R           *Result
	Title       string
	Timeline    svgTimeline
	Failing     []failingCheck
	Porcupine   string // porcupine's page, for the iframe's srcdoc
	PorcupineH  int
	PorcupineNo string // why there is none
	Plan        string
	Params      string
}

type failingCheck struct {
	checkers.Result
	Rows    []opRow
	Missing []int // op ids not in the history
}

type opRow struct {
	ID      int
	Client  int
	Key     string
	Call    string
	Return  string
	Op      string
	Result  string
	Unknown bool
}

// WriteHTML writes the self-contained HTML report of a run: no network
// fetches, every style and script inline.
func WriteHTML(w io.Writer, run Run) error {
	r := run.Result
	page := runPage{Style: style(), R: r,
		Title: fmt.Sprintf("%s seed %d: %s", r.Scenario, r.Seed, strings.ToUpper(string(r.Verdict)))}
	var ids []sim.NodeID
	for _, n := range r.Nodes {
		ids = append(ids, n.ID)
	}
	end := time.Duration(r.Virtual)
	periods := PeriodsOf(r)
	page.Timeline = layoutTimeline(ids, periods, end, time.Duration(r.HealAt))
	for _, c := range r.Checks {
		if c.Verdict != checkers.Fail {
			continue
		}
		fc := failingCheck{Result: c}
		for _, id := range c.Ops {
			if run.History == nil || id < 0 || id >= run.History.Len() {
				fc.Missing = append(fc.Missing, id)
				continue
			}
			fc.Rows = append(fc.Rows, row(run.History.Entry(id)))
		}
		page.Failing = append(page.Failing, fc)
	}
	page.Porcupine, page.PorcupineNo = porcupinePage(run, periods)
	if page.Porcupine != "" {
		page.PorcupineH = porcupineHeight(run.History, periods)
	}
	var plan bytes.Buffer
	if err := json.Indent(&plan, r.Plan, "", "  "); err == nil {
		page.Plan = plan.String()
	} else {
		page.Plan = string(r.Plan)
	}
	return templates.ExecuteTemplate(w, "run.html.tmpl", page)
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

// porcupineHeight sizes the iframe to porcupine's canvas: one 45px row per
// client and per annotation lane, plus the legend.
func porcupineHeight(h checkers.Recorded, periods []Period) int {
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
	return opRow{ID: e.ID, Client: e.Client, Key: e.Key, Call: time.Duration(e.Call).String(), Return: e.When(),
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
	AxisY         float64
	Empty         bool
	Quiet         []string // nodes without faults, not drawn
	Legend        []legendItem
}

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

func layoutTimeline(nodes []sim.NodeID, periods []Period, end, healAt time.Duration) svgTimeline {
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
	if end <= 0 {
		end = time.Second
	}
	x := func(d time.Duration) float64 {
		return left + (t.Right-left)*float64(d)/float64(end)
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
	kinds := map[string]bool{}
	for _, p := range periods {
		y, ok := laneY[p.Lane]
		if !ok {
			continue
		}
		y += float64(p.Row) * tlRowH
		kinds[p.Kind] = true
		b := svgBar{Y: y + 2, H: tlLaneH - 4, Fill: colorOf(p.Kind), Point: p.Point,
			Title: fmt.Sprintf("%s %s: %v", p.Lane, p.Kind, p.Start)}
		if !p.Point {
			b.Title += fmt.Sprintf(" – %v", p.End)
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
			b.W = math.Max(x(p.End)-b.X, 2)
			if 7*float64(len(p.Label))+8 <= b.W {
				b.Label = p.Label
				b.TextX, b.TextY = b.X+4, y+tlLaneH/2+4
			}
		}
		t.Bars = append(t.Bars, b)
	}
	t.Empty = len(periods) == 0
	t.Quiet = quiet
	step := tickStep(end)
	for d := time.Duration(0); d <= end; d += step {
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

func tickLabel(d, step time.Duration) string {
	switch {
	case step >= time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
	case step >= time.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64) + "ms"
	}
	return d.String()
}

// sweepPage is the data of a sweep summary page.
type sweepPage struct {
	Style    template.CSS
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

// MaxStripSeeds bounds the per-seed strip of a sweep page.
const MaxStripSeeds = 20000

// WriteSweepHTML writes a sweep's summary page. Its links are relative to
// the page's folder, as the summary's paths are.
func WriteSweepHTML(w io.Writer, s *Sweep) error {
	p := sweepPage{Style: style(), S: s, Verdict: s.Verdict(),
		Title: fmt.Sprintf("%s seeds %v: %s", s.Scenario, s.Range, strings.ToUpper(string(s.Verdict())))}
	if s.Shard.Count > 1 {
		p.Title = fmt.Sprintf("%s seeds %v shard %v: %s", s.Scenario, s.Range, s.Shard, strings.ToUpper(string(s.Verdict())))
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
		c := stripCell{X: float64(i%perRow) * cell, Y: float64(i/perRow) * cell, Fill: "#54a24b",
			Title: fmt.Sprintf("seed %d: %s", r.Seed, r.Verdict)}
		switch r.Verdict {
		case checkers.Fail:
			c.Fill = "#e45756"
		case checkers.Unknown:
			c.Fill = "#bab0ac"
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
