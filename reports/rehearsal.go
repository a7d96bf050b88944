package reports

import (
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/sofasim/sofasim/rehearsal"
)

//go:embed templates/rehearsal.gohtml
var rehearsalTmpl string

var rehearsalPage = template.Must(template.New("rehearsal").Funcs(template.FuncMap{
	"pct":  func(f float64) string { return strconv.FormatFloat(100*f, 'f', 2, 64) + "%" },
	"msf":  func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) + " ms" },
	"f1":   func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
	"plus": func(a, b int) int { return a + b },
}).Parse(rehearsalTmpl))

// rehearsalView is what the rehearsal page shows.
type rehearsalView struct {
	Style    template.CSS
	Runs     []runView
	Compare  bool
	Title    string
	Services []string // compare: service names in order
}

type runView struct {
	R        *rehearsal.Result
	Label    string
	Rate     template.HTML
	Services []serviceView
	System   []template.HTML
}

type serviceView struct {
	S      rehearsal.ServiceSeries
	Charts []template.HTML
}

func newRunView(r *rehearsal.Result, label string) runView {
	v := runView{R: r, Label: label}
	d := marksOf(r)
	var offered []float64
	for _, s := range r.Services {
		if s.Entry {
			offered = ints(s.Offered)
		}
	}
	v.Rate = chart("traffic profile and offered load", "req/s", r.Seconds, []line{
		{Name: "profile", Color: "#888", Values: r.Rate, Dash: true},
		{Name: "offered", Color: "#1f77b4", Values: offered},
	}, d)
	for _, s := range r.Services {
		sv := serviceView{S: s}
		sv.Charts = []template.HTML{
			chart(s.Name+": offered, goodput, failed", "req/s", r.Seconds, []line{
				{Name: "offered", Color: "#1f77b4", Values: ints(s.Offered)},
				{Name: "goodput", Color: "#2ca02c", Values: ints(s.Goodput)},
				{Name: "failed", Color: "#d62728", Values: ints(s.Failed)},
			}, d),
			chart(s.Name+": latency (band p50..p99.9, line p99)", "ms", r.Seconds, []line{
				{Name: "p50..p99.9", Color: "#9467bd", Values: s.P999, Lo: s.P50},
				{Name: "p99", Color: "#4b2a7a", Values: s.P99},
				{Name: "p50", Color: "#9467bd", Values: s.P50, Dash: true},
			}, d),
			chart(s.Name+": worker utilisation and queue", "% / requests", r.Seconds, []line{
				{Name: "utilisation %", Color: "#ff7f0e", Values: scale(s.Util, 100)},
				{Name: "queued", Color: "#8c564b", Values: s.Queue},
				{Name: "busiest instance's queue", Color: "#c49c94", Values: ints(s.MaxQueue), Dash: true},
			}, d),
			chart(s.Name+": mesh resilience", "per s", r.Seconds, []line{
				{Name: "retries", Color: "#17becf", Values: ints(s.Retries)},
				{Name: "breaker trips", Color: "#e377c2", Values: ints(s.Trips)},
				{Name: "ejections", Color: "#7f7f7f", Values: ints(s.Ejections)},
			}, d),
		}
		v.Services = append(v.Services, sv)
	}
	sys := r.System
	v.System = []template.HTML{
		chart("coordinator: global transactions", "per s", r.Seconds, []line{
			{Name: "commits", Color: "#2ca02c", Values: ints(sys.Commits)},
			{Name: "rollbacks", Color: "#d62728", Values: ints(sys.Rollbacks)},
			{Name: "unknown", Color: "#7f7f7f", Values: ints(sys.Unknown)},
		}, d),
		chart("coordinator: begin-to-commit latency", "ms", r.Seconds, []line{
			{Name: "p50..p99", Color: "#9467bd", Values: sys.CommitP99, Lo: sys.CommitP50},
			{Name: "p99", Color: "#4b2a7a", Values: sys.CommitP99},
		}, d),
		chart("registry: push delay p99 (probe)", "ms", r.Seconds, []line{
			{Name: "push p99", Color: "#bcbd22", Values: sys.PushP99},
		}, d),
		chart("mesh control plane: xDS responses and ack delay p99", "per s / ms", r.Seconds, []line{
			{Name: "responses", Color: "#17becf", Values: ints(sys.XDSPushes)},
			{Name: "ack p99 ms", Color: "#1f77b4", Values: sys.XDSP99},
		}, d),
	}
	return v
}

// WriteRehearsal writes a rehearsal's outputs into dir: result.json,
// series.csv and index.html.
func WriteRehearsal(dir string, r *rehearsal.Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "result.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "series.csv"), func(w io.Writer) error { return RehearsalCSV(w, r) }); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, "index.html"), func(w io.Writer) error { return RehearsalHTML(w, r) })
}

func writeFile(path string, fn func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := fn(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// RehearsalHTML writes the self-contained report of one rehearsal.
func RehearsalHTML(w io.Writer, r *rehearsal.Result) error {
	return rehearsalPage.Execute(w, rehearsalView{Style: style(), Title: r.Name, Runs: []runView{newRunView(r, "")}})
}

// RehearsalCompareHTML shows two rehearsals side by side.
func RehearsalCompareHTML(w io.Writer, a, b *rehearsal.Result, la, lb string) error {
	return rehearsalPage.Execute(w, rehearsalView{Style: style(), Compare: true, Title: la + " vs " + lb,
		Runs: []runView{newRunView(a, la), newRunView(b, lb)}})
}

// RehearsalCSV writes every series in long form: second, scope, metric, value.
func RehearsalCSV(w io.Writer, r *rehearsal.Result) error {
	c := csv.NewWriter(w)
	_ = c.Write([]string{"second", "scope", "metric", "value"})
	put := func(scope, metric string, vals []float64) {
		for i, v := range vals {
			_ = c.Write([]string{strconv.Itoa(i), scope, metric, strconv.FormatFloat(v, 'g', 8, 64)})
		}
	}
	put("traffic", "profile_rate", r.Rate)
	for _, s := range r.Services {
		put(s.Name, "offered", ints(s.Offered))
		put(s.Name, "goodput", ints(s.Goodput))
		put(s.Name, "failed", ints(s.Failed))
		put(s.Name, "success", s.Success)
		put(s.Name, "p50_ms", s.P50)
		put(s.Name, "p99_ms", s.P99)
		put(s.Name, "p999_ms", s.P999)
		put(s.Name, "queue", s.Queue)
		put(s.Name, "utilisation", s.Util)
		put(s.Name, "retries", ints(s.Retries))
		put(s.Name, "breaker_trips", ints(s.Trips))
		put(s.Name, "ejections", ints(s.Ejections))
	}
	sy := r.System
	put("coordinator", "commits", ints(sy.Commits))
	put("coordinator", "rollbacks", ints(sy.Rollbacks))
	put("coordinator", "unknown", ints(sy.Unknown))
	put("coordinator", "commit_p50_ms", sy.CommitP50)
	put("coordinator", "commit_p99_ms", sy.CommitP99)
	put("registry", "push_p99_ms", sy.PushP99)
	put("mesh", "xds_responses", ints(sy.XDSPushes))
	put("mesh", "xds_ack_p99_ms", sy.XDSP99)
	c.Flush()
	return c.Error()
}

// ReadRehearsal reads a result.json (or the folder holding one).
func ReadRehearsal(path string) (*rehearsal.Result, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "result.json")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r rehearsal.Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: not a rehearsal result: %v", path, err)
	}
	if r.Format != rehearsal.ResultFormat {
		return nil, fmt.Errorf("%s: rehearsal result format %d, this build reads %d", path, r.Format, rehearsal.ResultFormat)
	}
	return &r, nil
}
