package reports

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

func renderRun(t testing.TB, run Run) string {
	var b bytes.Buffer
	require.NoError(t, WriteHTML(&b, run))
	return b.String()
}

var wallRE = regexp.MustCompile(`(<[a-z]+ data-wall>)[^<]*`)

// withoutWall blanks the wall-time fields of a page.
func withoutWall(page string) string { return wallRE.ReplaceAllString(page, "$1") }

func TestRunHTMLIsDeterministic(t *testing.T) {
	a := renderRun(t, sampleRun(t))
	b := renderRun(t, sampleRun(t))
	assert.Equal(t, a, b)

	// Only the wall-time fields depend on the wall clock.
	run := sampleRun(t)
	run.Result.WallSeconds, run.Result.Speedup = 9.75, 3.5
	c := renderRun(t, run)
	assert.NotEqual(t, a, c)
	assert.Equal(t, withoutWall(a), withoutWall(c))
}

// externalRef matches anything that would make a browser fetch: a URL in
// src or href, a stylesheet link, a CSS url() or @import.
var externalRef = regexp.MustCompile(`(?i)(\b(src|href)\s*=\s*["']?\s*(https?:|//|file:))|<link\b|url\(|@import`)

func TestHTMLIsSelfContained(t *testing.T) {
	page := renderRun(t, sampleRun(t))
	assert.Empty(t, externalRef.FindAllString(page, -1))
	assert.NotContains(t, page, "<script src")
	var b bytes.Buffer
	require.NoError(t, WriteSweepHTML(&b, shardSweep(1, 1)))
	assert.Empty(t, externalRef.FindAllString(b.String(), -1))
}

func TestRunHTMLContents(t *testing.T) {
	page := renderRun(t, sampleRun(t))
	for _, want := range []string{
		"demo · seed 42", "FAIL", "00000000deadbeef", "sofasim replay out/demo/42/failure.json",
		`aria-label="fault timeline"`, "failpoint bug/demo/stale", "liveness phase",
		"Why <code>linearizable</code> failed", `get(&#34;x&#34;)`, `&#34;1&#34;`,
		`id="porcupine"`, "panic</b> in <code>n1</code>", "goroutine N [running]", "n2:wal@17",
	} {
		assert.True(t, strings.Contains(page, want), "the page lacks %q", want)
	}
	// A run without porcupine's evidence says why.
	run := sampleRun(t)
	run.Linearization = nil
	assert.True(t, strings.Contains(renderRun(t, run), "This run has no linearizability check."))
}

// chromium finds a headless browser; the test skips without one.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SOFASIM_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("SKIPPED: no headless chromium found (apt-get install -y chromium, or set SOFASIM_CHROMIUM): the HTML reports are not rendered in a browser")
	return ""
}

// browse loads file in headless chromium, lets its scripts run, and
// returns the DOM; with screenshot set it also saves a PNG there.
func browse(t *testing.T, bin, file, screenshot string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
		"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=5000", "--window-size=1300,2400"}
	if screenshot != "" {
		args = append(args, "--screenshot="+screenshot)
	} else {
		args = append(args, "--dump-dom")
	}
	cmd := exec.CommandContext(ctx, bin, append(args, "file://"+file)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	require.NoError(t, cmd.Run(), "chromium: %s", errb.String())
	return out.String()
}

func TestHTMLInChromium(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	if keep := os.Getenv("SOFASIM_KEEP_HTML"); keep != "" {
		dir = keep // to look at the pages and the screenshot afterwards
		require.NoError(t, os.MkdirAll(dir, 0o755))
	}
	run := sampleRun(t)

	page := renderRun(t, run)
	runPage := filepath.Join(dir, "index.html")
	require.NoError(t, os.WriteFile(runPage, []byte(page), 0o644))
	// A copy of the page with a probe that reads what porcupine drew in
	// its frame once everything has loaded.
	probe := `<script>window.addEventListener("load", function () {
  var d = document.getElementById("porcupine").contentDocument;
  var line = d && d.querySelector("line.divider");
  var p = document.createElement("pre");
  p.id = "probe";
  p.textContent = "divider=" + (line ? line.getAttribute("x1") : "none") + " ops=" + (d ? d.querySelectorAll(".history-rect").length : -1) +
    " annotations=" + (d ? d.querySelectorAll(".client-annotation-rect").length : -1);
  document.body.appendChild(p);
  setTimeout(function () {
    var svg = d.querySelector("#canvas svg"), q = document.createElement("pre");
    q.id = "fit";
    q.textContent = "frame=" + document.getElementById("porcupine").offsetHeight + " drawn=" + Math.ceil(svg.getBoundingClientRect().bottom);
    document.body.appendChild(q);
  }, 2000);
});</script></body>`
	probed := filepath.Join(dir, "probed.html")
	require.NoError(t, os.WriteFile(probed, []byte(strings.Replace(page, "</body>", probe, 1)), 0o644))
	dom := browse(t, bin, probed, "")
	assert.Contains(t, dom, `id="verdict">FAIL`)
	assert.Contains(t, dom, `aria-label="fault timeline"`)
	assert.Contains(t, dom, "Operations involved")
	m := regexp.MustCompile(`<pre id="probe">divider=([0-9.]+) ops=(\d+) annotations=(\d+)</pre>`).FindStringSubmatch(dom)
	require.NotNil(t, m, "porcupine drew nothing in the report's frame")
	x, _ := strconv.ParseFloat(m[1], 64)
	assert.Greater(t, x, 100.0, "porcupine measured its lane names in the report's frame (the longest is a failpoint's)")
	assert.Equal(t, "3", m[2], "the failing key's three operations")
	assert.NotEqual(t, "0", m[3])
	m = regexp.MustCompile(`<pre id="fit">frame=(\d+) drawn=(\d+)</pre>`).FindStringSubmatch(dom)
	require.NotNil(t, m, "the frame was not measured")
	frame, _ := strconv.Atoi(m[1])
	drawn, _ := strconv.Atoi(m[2])
	assert.GreaterOrEqual(t, frame, drawn, "porcupine's view is not clipped")
	assert.Less(t, frame, drawn+120, "nor padded with empty space")

	// Porcupine's page on its own: it renders the history and measures its
	// row labels (the annotation lanes), which needs a laid-out document.
	var porc bytes.Buffer
	require.NoError(t, run.Linearization.Visualize(&porc, Annotations(PeriodsOf(run.Result))...))
	porcPage := filepath.Join(dir, "porcupine.html")
	require.NoError(t, os.WriteFile(porcPage, porc.Bytes(), 0o644))
	dom = browse(t, bin, porcPage, "")
	assert.Contains(t, dom, "history-rect")
	assert.Contains(t, dom, "client-annotation-rect")
	m = regexp.MustCompile(`<line x1="([0-9.]+)"[^>]*class="divider"`).FindStringSubmatch(dom)
	require.NotNil(t, m, "porcupine drew no time axis")
	x, _ = strconv.ParseFloat(m[1], 64)
	assert.Greater(t, x, 100.0, "porcupine measured the lane names (the longest is a failpoint's)")

	var sw bytes.Buffer
	require.NoError(t, WriteSweepHTML(&sw, shardSweep(1, 1)))
	sweepPage := filepath.Join(dir, "sweep.html")
	require.NoError(t, os.WriteFile(sweepPage, sw.Bytes(), 0o644))
	dom = browse(t, bin, sweepPage, "")
	assert.Contains(t, dom, `aria-label="verdict per seed"`)
	assert.Equal(t, 10, strings.Count(dom, `width="9" height="9"`))
	assert.Contains(t, dom, `href="4/index.html"`)

	shot := filepath.Join(dir, "report.png")
	browse(t, bin, runPage, shot)
	st, err := os.Stat(shot)
	require.NoError(t, err)
	assert.Greater(t, st.Size(), int64(10_000))
	t.Logf("screenshot of the run report: %s", shot)
}

func TestTimelineHidesQuietNodesOfBigRuns(t *testing.T) {
	var nodes []sim.NodeID
	for i := 0; i < 15; i++ {
		nodes = append(nodes, sim.NodeID(fmt.Sprintf("n%d", i)))
	}
	periods := []Period{{Lane: "n3", Kind: string(sim.PeriodDown), Start: 0, End: time.Second, Label: "down"}}
	tl := layoutTimeline(nodes, periods, 0, 2*time.Second, time.Second)
	require.Len(t, tl.Lanes, 1)
	assert.Equal(t, "n3", tl.Lanes[0].Label)
	assert.Len(t, tl.Quiet, 14)
	tl = layoutTimeline(nodes[:5], periods, 0, 2*time.Second, time.Second)
	assert.Len(t, tl.Lanes, 5, "a small run shows every node")
	assert.Empty(t, tl.Quiet)
}

// TestRunHTMLFailureDetails: the failing operations are on the timeline,
// each explanation appears once, times read in one format, and with node
// logs the node that answered a failing operation is named.
func TestRunHTMLFailureDetails(t *testing.T) {
	run := sampleRun(t)
	logs := NewLogs()
	_, err := logs.Write(traceLines(t,
		sim.TraceRecord{T: int64(60 * ms), Kind: "deliver", Node: "client-0", Peer: "n2", Conn: 3, Msg: "reply"},
		sim.TraceRecord{T: int64(61 * ms), Kind: "trace", Node: "n2", Event: "served"}))
	require.NoError(t, err)
	run.Logs = logs
	run.LogFiles, err = logs.WriteFiles(t.TempDir())
	require.NoError(t, err)
	page := renderRun(t, run)

	lin := run.Result.Checks[0]
	require.Equal(t, "linearizable", lin.Checker)
	assert.Equal(t, 1, strings.Count(page, template.HTMLEscapeString(lin.Explanation)), "the explanation is shown once")
	assert.Equal(t, len(lin.Ops), strings.Count(page, `class="bar failing-op"`), "each failing op is on the timeline")
	assert.Contains(t, page, `<td class="mono nowrap">n2</td>`, "op 2 was answered by n2")
	assert.Contains(t, page, `href="logs/n2.log"`)
	assert.Contains(t, page, `<td class="num">0.050s</td>`, "times in seconds")
	assert.NotRegexp(t, `<td class="num[^"]*">[0-9.]+(ms|µs)`, page, "no Go duration formats in the tables")
}

func TestFailureWindows(t *testing.T) {
	op := func(id int, from, to time.Duration) Period {
		return Period{Lane: LaneFailingOps, Kind: PeriodFailingOp, Start: from, End: to, Label: fmt.Sprintf("op %d get", id)}
	}
	r := &Result{}
	end := time.Minute
	ws := failureWindows(r, []Period{op(3, time.Second, 1200*ms), op(4, 1500*ms, 1600*ms), op(9, 30*time.Second, 30*time.Second)}, end)
	require.Len(t, ws, 2, "ops 3 and 4 are close; op 9 is far")
	assert.Equal(t, window{from: 850 * ms, to: 1750 * ms, what: "ops 3, 4"}, ws[0], "padded by a quarter of the 600ms")
	assert.Equal(t, window{from: 30*time.Second - 100*ms, to: 30*time.Second + 100*ms, what: "op 9"}, ws[1])

	r.Findings = []Finding{{Kind: "panic", At: sim.Duration(45 * time.Second)}}
	ws = failureWindows(r, nil, end)
	require.Len(t, ws, 1)
	assert.Equal(t, "panic", ws[0].what)

	assert.Empty(t, failureWindows(&Result{}, []Period{op(1, time.Second, 59*time.Second)}, end), "a failure as long as the run has no window of its own")
	assert.Empty(t, failureWindows(&Result{}, nil, end))
}

// TestSweepHTMLSaysHowItRan: the sweep page shows the command, the build,
// the start, and colours a seed out of time apart from a passing one.
func TestSweepHTMLSaysHowItRan(t *testing.T) {
	s := shardSweep(1, 1)
	s.Command, s.Started = "sofasim sweep demo --seeds 1..10", "2026-12-01T15:00:00Z"
	s.Build = &Build{Version: "(devel)", Revision: "0123456789abcdef0123", Modified: true, Go: "go1.26.8"}
	var b bytes.Buffer
	require.NoError(t, WriteSweepHTML(&b, s))
	page := b.String()
	assert.Contains(t, page, `<pre id="command">sofasim sweep demo --seeds 1..10</pre>`)
	assert.Contains(t, page, "(devel) commit 0123456789ab (modified), go1.26.8")
	assert.Contains(t, page, "2026-12-01T15:00:00Z")
	assert.Contains(t, page, `fill="`+colorOutOfTime+`"><title>seed 7: out of time (not a finding)`)
	assert.Equal(t, 8, strings.Count(page, `fill="`+colorPass+`"><title>`))
	assert.NotEqual(t, colorPass, colorOutOfTime)
	assert.NotEqual(t, colorPass, colorNoVerdict)
}
