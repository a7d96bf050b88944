package reports

import (
	"fmt"
	"html/template"
	"math"
	"strings"

	"github.com/sofasim/sofasim/rehearsal"
)

// line is one series of a chart; a band fills between Lo and Values.
type line struct {
	Name   string
	Color  string
	Values []float64
	Lo     []float64 // band: filled from Lo up to Values
	Dash   bool
}

const (
	chartW, chartH = 560.0, 170.0
	padL, padR     = 48.0, 10.0
	padT, padB     = 20.0, 22.0
)

// marks are what every chart of a run shows besides its lines: the drills
// (shaded and numbered as in the page's drill list) and the first SLO
// violation (a red line), so a reader sees cause and effect on one axis.
type marks struct {
	drills    []rehearsal.DrillMark
	violation int // second of the first violation; -1 none
}

func marksOf(r *rehearsal.Result) marks {
	m := marks{drills: r.Drills, violation: -1}
	if r.Verdict.First != nil {
		m.violation = r.Verdict.First.Second
	}
	return m
}

// chart draws a time-series chart as inline SVG: seconds on x, the marks,
// one path per line, a legend.
func chart(title, unit string, seconds int, lines []line, m marks) template.HTML {
	ymax := 0.0
	for _, l := range lines {
		for _, v := range l.Values {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				ymax = max(ymax, v)
			}
		}
	}
	ymax = niceCeil(ymax)
	pw, ph := chartW-padL-padR, chartH-padT-padB
	n := max(seconds, 1)
	x := func(s float64) float64 { return padL + pw*s/float64(n) }
	y := func(v float64) float64 { return padT + ph - ph*min(v, ymax)/ymax }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="%s">`, chartW, chartH, chartW, chartH, template.HTMLEscapeString(title))
	fmt.Fprintf(&b, `<text x="%.0f" y="13" class="ct">%s</text>`, padL, template.HTMLEscapeString(title))
	for i, d := range m.drills {
		end := float64(n)
		if d.Until > 0 {
			end = min(end, d.Until.Seconds())
		}
		x0 := x(d.At.Seconds())
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.0f" width="%.1f" height="%.0f" class="drill"><title>%s at %s</title></rect>`,
			x0, padT, max(x(end)-x0, 1.5), ph, template.HTMLEscapeString(d.What), d.At)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.0f" y2="%.0f" class="drill-at"/>`, x0, x0, padT, padT+ph)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" class="drill-n">%d</text>`, x0+2, padT+ph-3, i+1)
	}
	if m.violation >= 0 {
		xv := x(float64(m.violation) + 0.5)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.0f" y2="%.0f" class="violation"><title>first SLO violation, second %d</title></line>`, xv, xv, padT, padT+ph, m.violation)
	}
	for i := 0; i <= 4; i++ {
		v := ymax * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" class="grid"/><text x="%.0f" y="%.1f" class="ax" text-anchor="end">%s</text>`,
			padL, padL+pw, y(v), y(v), padL-4, y(v)+3, axisLabel(v))
	}
	step := 10
	if n > 150 {
		step = 30
	}
	for s := 0; s <= n; s += step {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" class="ax" text-anchor="middle">%ds</text>`, x(float64(s)), chartH-6, s)
	}
	for _, l := range lines {
		if l.Lo != nil {
			var pts []string
			for i, v := range l.Values {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(float64(i)+0.5), y(v)))
			}
			for i := len(l.Lo) - 1; i >= 0; i-- {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(float64(i)+0.5), y(l.Lo[i])))
			}
			fmt.Fprintf(&b, `<polygon points="%s" fill="%s" fill-opacity="0.25" stroke="none"/>`, strings.Join(pts, " "), l.Color)
			continue
		}
		var d strings.Builder
		for i, v := range l.Values {
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%.1f %.1f", cmd, x(float64(i)+0.5), y(v))
		}
		dash := ""
		if l.Dash {
			dash = ` stroke-dasharray="4 3"`
		}
		fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="1.4"%s/>`, d.String(), l.Color, dash)
	}
	lx := padL + 8
	for _, l := range lines {
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="9" height="9" fill="%s"/><text x="%.0f" y="%.0f" class="lg">%s</text>`, lx, padT+2, l.Color, lx+12, padT+10, template.HTMLEscapeString(l.Name))
		lx += 16 + 6.2*float64(len(l.Name))
	}
	if unit != "" {
		fmt.Fprintf(&b, `<text x="%.0f" y="13" class="ax" text-anchor="end">%s</text>`, chartW-padR, template.HTMLEscapeString(unit))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// axisLabel writes an axis value briefly: 12k, 350, 0.25.
func axisLabel(v float64) string {
	switch {
	case v >= 10_000:
		return fmt.Sprintf("%.0fk", v/1000)
	case v >= 100 || v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.2g", v)
	}
}

func ints(v []int64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func scale(v []float64, k float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x * k
	}
	return out
}
