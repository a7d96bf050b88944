package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRehearseOutputsAndExitCodes(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join("..", "..", "rehearsal", "testdata", "small.yaml")
	var out, errb bytes.Buffer
	code := run([]string{"rehearse", small, "--out", filepath.Join(dir, "a"), "--progress", "never"}, &out, &errb)
	require.Equal(t, exitPass, code, "%s%s", out.String(), errb.String())
	require.Contains(t, out.String(), "PASS small seed 3")
	require.Contains(t, out.String(), "SLOs met")
	for _, f := range []string{"result.json", "series.csv", "index.html"} {
		require.FileExists(t, filepath.Join(dir, "a", f))
	}
	page, err := os.ReadFile(filepath.Join(dir, "a", "index.html"))
	require.NoError(t, err)
	require.Contains(t, string(page), "<svg")
	require.Contains(t, string(page), `class="drill"`)
	require.Contains(t, string(page), `class="drill-n">2</text>`, "drills are numbered on the charts as in the list")
	require.NotContains(t, string(page), `class="violation"`)
	require.Regexp(t, `cart +2 +\d+ .* ~\d+\n`, out.String(), "the needed-instances estimate")
	csv, err := os.ReadFile(filepath.Join(dir, "a", "series.csv"))
	require.NoError(t, err)
	require.Contains(t, string(csv), "0,cart,offered,")

	// Another seed, then the two side by side.
	out.Reset()
	require.Equal(t, exitPass, run([]string{"rehearse", small, "--seed", "4", "--out", filepath.Join(dir, "b"), "--progress", "never"}, &out, &errb))
	out.Reset()
	cmp := filepath.Join(dir, "cmp.html")
	require.Equal(t, exitPass, run([]string{"rehearse", "compare", filepath.Join(dir, "a"), filepath.Join(dir, "b"), "--out", cmp}, &out, &errb))
	require.Contains(t, out.String(), "cart success")
	require.FileExists(t, cmp)

	// An SLO the run cannot meet: exit 1, the first violation named.
	text, err := os.ReadFile(small)
	require.NoError(t, err)
	strict := filepath.Join(dir, "strict.yaml")
	require.NoError(t, os.WriteFile(strict, []byte(strings.Replace(string(text), "p99: 1s}", "p99: 1ms}", 1)), 0o644))
	out.Reset()
	require.Equal(t, exitFinding, run([]string{"rehearse", strict, "--out", filepath.Join(dir, "c"), "--progress", "never"}, &out, &errb))
	require.Contains(t, out.String(), "SLO violated first: cart at second 0: p99")
	page, err = os.ReadFile(filepath.Join(dir, "c", "index.html"))
	require.NoError(t, err)
	require.Contains(t, string(page), `<title>first SLO violation, second 0</title>`)

	// The capacity search: a count per service and a report per run.
	out.Reset()
	errb.Reset()
	require.Equal(t, exitPass, run([]string{"rehearse", small, "--find-capacity", "order", "--out", filepath.Join(dir, "cap"), "--progress", "never"}, &out, &errb), "%s%s", out.String(), errb.String())
	require.Regexp(t, `order: \d+ instances? needed \(the file has 2\)`, out.String())
	require.Contains(t, errb.String(), "run 1: order=2 meets the SLOs")
	require.FileExists(t, filepath.Join(dir, "cap", "capacity", "run-1", "index.html"))

	// Bad input: exit 2 and one line.
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("version: 1\nzones: [a]\nservices: []\n"), 0o644))
	errb.Reset()
	require.Equal(t, exitUsage, run([]string{"rehearse", bad}, &out, &errb))
	require.Equal(t, 1, strings.Count(strings.TrimSpace(errb.String()), "\n")+1)
	require.Contains(t, errb.String(), "services: at least one service is needed")
}
