package reports

import (
	"fmt"
	"html/template"
	"io"
	"math"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/checkers/elle"
)

// CheckPage is what `sofasim check --out` shows for a check without
// porcupine's page: the verdict, the semantics applied and, for a
// transactional check, each anomaly with its cycle drawn.
type CheckPage struct {
	History     string
	Model       string
	Verdict     checkers.Verdict
	Explanation string
	Semantics   string
	Elle        *elle.Result // nil for a multi-register check
	Txns        []elle.Txn
}

type checkPage struct {
	Style     template.CSS
	P         CheckPage
	Anomalies []anomalyView
}

type anomalyView struct {
	elle.Anomaly
	Cycle *cycleSVG
	Txns  []string // each involved transaction, printed
}

type cycleSVG struct {
	Size  float64
	Nodes []cycleNode
	Edges []cycleEdge
}

type cycleNode struct {
	X, Y  float64
	Label string
	Title string
}

type cycleEdge struct {
	X1, Y1, X2, Y2 float64 // shortened to end at the node circles
	CX, CY         float64 // the curve's control point
	LX, LY         float64 // label position
	Label          string
	Class          string // rel-ww, rel-wr, rel-rw, rel-rt
	Title          string
}

// maxDrawn bounds the anomalies drawn, so a page with thousands stays light.
const maxDrawn = 50

// WriteCheckHTML writes a self-contained page (inline CSS and SVG).
func WriteCheckHTML(w io.Writer, p CheckPage) error {
	page := checkPage{Style: style(), P: p}
	if p.Elle != nil {
		for i, a := range p.Elle.Anomalies {
			if i == maxDrawn {
				break
			}
			v := anomalyView{Anomaly: a}
			for _, id := range a.Txns {
				if id >= 0 && id < len(p.Txns) {
					t := p.Txns[id]
					v.Txns = append(v.Txns, fmt.Sprintf("T%d = %s (process %d, %s)", t.ID, t, t.Process, t.Status))
				}
			}
			if len(a.Cycle) > 0 {
				v.Cycle = layoutCycle(a.Cycle, p.Elle.Model, p.Txns)
			}
			page.Anomalies = append(page.Anomalies, v)
		}
	}
	return templates.ExecuteTemplate(w, "check.html.tmpl", page)
}

// layoutCycle places a cycle's transactions on a circle, clockwise from
// the top, with an arrow for each dependency labelled by kind and key.
func layoutCycle(cycle []elle.Edge, model elle.Model, txns []elle.Txn) *cycleSVG {
	const nodeR = 22.0
	n := len(cycle)
	radius := math.Max(70, float64(n)*28)
	size := 2*radius + 2*nodeR + 120
	c := size / 2
	svg := &cycleSVG{Size: size}
	pos := make([][2]float64, n)
	for i, e := range cycle {
		angle := -math.Pi/2 + 2*math.Pi*float64(i)/float64(n)
		x, y := c+radius*math.Cos(angle), c+radius*math.Sin(angle)
		pos[i] = [2]float64{x, y}
		title := fmt.Sprintf("T%d", e.From)
		if e.From >= 0 && e.From < len(txns) {
			title = fmt.Sprintf("T%d = %s (process %d, %s)", e.From, txns[e.From], txns[e.From].Process, txns[e.From].Status)
		}
		svg.Nodes = append(svg.Nodes, cycleNode{X: x, Y: y, Label: fmt.Sprintf("T%d", e.From), Title: title})
	}
	for i, e := range cycle {
		a, b := pos[i], pos[(i+1)%n]
		dx, dy := b[0]-a[0], b[1]-a[1]
		d := math.Hypot(dx, dy)
		// A curve bowed to the arrow's left, so that the two arrows of a
		// two-transaction cycle do not overlap.
		px, py := dy/d, -dx/d
		bow := d * 0.15
		if n == 2 {
			bow = d * 0.3
		}
		cx, cy := (a[0]+b[0])/2+px*bow, (a[1]+b[1])/2+py*bow
		toward := func(from [2]float64, r float64) (float64, float64) {
			vx, vy := cx-from[0], cy-from[1]
			l := math.Hypot(vx, vy)
			return from[0] + vx/l*r, from[1] + vy/l*r
		}
		x1, y1 := toward(a, nodeR)
		x2, y2 := toward(b, nodeR+4)
		label := e.Rel.String()
		if e.Key != "" {
			label += " " + e.Key
		}
		svg.Edges = append(svg.Edges, cycleEdge{
			X1: x1, Y1: y1, X2: x2, Y2: y2, CX: cx, CY: cy,
			LX: 0.25*x1 + 0.5*cx + 0.25*x2 + px*14, LY: 0.25*y1 + 0.5*cy + 0.25*y2 + py*14 + 4,
			Label: label, Class: "rel-" + e.Rel.String(), Title: e.Describe(model),
		})
	}
	return svg
}
