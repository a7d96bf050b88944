package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const examples = "../../docs/examples/"

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

// Knossos's register semantics: --init as a number, nil reads unknown in
// EDN unless --nil-read absent, :fail dropped, :info open to the end.
func TestCheckKnossosRegister(t *testing.T) {
	h := examples + "register.edn"
	code, out, errOut := cli(t, "check", "--history", h, "--init", "0", "--json")
	require.Equal(t, 0, code, out+errOut)
	m := parseJSON(t, out)
	assert.Equal(t, "pass", m["verdict"])
	assert.Equal(t, "cas-register", m["model"])
	assert.Equal(t, 4.0, m["ops"])
	assert.Equal(t, 1.0, m["nil_reads_unknown"])
	assert.Contains(t, m["semantics"], "nil reads unknown")

	dir := t.TempDir()
	code, out, _ = cli(t, "check", "--history", h, "--init", "0", "--out", dir)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "report  "+filepath.Join(dir, "index.html"))
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	require.NoError(t, err)
	assert.Contains(t, string(page), "<html") // porcupine's page

	code, out, _ = cli(t, "check", "--history", h) // read 0, never written, absent at the start
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, `read() -> "0"`)

	code, out, _ = cli(t, "check", "--history", h, "--init", "0", "--nil-read", "absent")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "read() -> nil")
}

func TestCheckMultiRegister(t *testing.T) {
	ok := `; Knossos's multi-register, (multi-register {:x 0 :y 0})
[{:process 0, :type :invoke, :f :txn, :value [[:write :x 1] [:write :y 1]]}
 {:process 1, :type :invoke, :f :txn, :value [[:read :x nil] [:read :y nil]]}
 {:process 0, :type :ok, :f :txn, :value [[:write :x 1] [:write :y 1]]}
 {:process 1, :type :ok, :f :txn, :value [[:read :x 0] [:read :y 0]]}
 {:process 1, :type :invoke, :f :txn, :value [[:read :x nil] [:read :y nil]]}
 {:process 1, :type :ok, :f :txn, :value [[:read :x 1] [:read :y nil]]}]`
	code, out, errOut := cli(t, "check", "--history", writeTemp(t, "ok.edn", ok), "--init", "0")
	require.Equal(t, 0, code, out+errOut)
	assert.Contains(t, out, "PASS (3 transactions, model multi-register")

	bad := strings.Replace(ok, "[[:read :x 0] [:read :y 0]]", "[[:read :x 1] [:read :y 0]]", 1)
	code, out, _ = cli(t, "check", "--history", writeTemp(t, "bad.edn", bad), "--init", "0", "--json")
	assert.Equal(t, 1, code, out)
	assert.Equal(t, "fail", parseJSON(t, out)["verdict"])
}

func TestCheckListAppend(t *testing.T) {
	h := examples + "list-append.edn"
	dir := t.TempDir()
	code, out, errOut := cli(t, "check", "--history", h, "--consistency", "serializable", "--out", dir, "--json")
	require.Equal(t, 1, code, out+errOut)
	m := parseJSON(t, out)
	assert.Equal(t, "list-append", m["model"]) // from the appends
	assert.Equal(t, []any{"G-single"}, m["anomaly_types"])
	assert.Equal(t, []any{"repeatable-read", "snapshot-isolation", "serializable", "strict-serializable"}, m["ruled_out"])
	assert.Contains(t, m["explanation"], "not serializable")
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	require.NoError(t, err)
	assert.Contains(t, string(page), "<svg class=\"cycle\"")
	assert.Contains(t, string(page), "T2 read x = [1], without 2, which T1 appended next")
	assert.NotContains(t, string(page), "<script src") // self-contained

	code, out, _ = cli(t, "check", "--history", h, "--consistency", "read-committed")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "G-single allowed by read-committed")
}

func TestCheckRWRegister(t *testing.T) {
	lost := `{:process 0, :type :invoke, :f :txn, :value [[:r :x nil] [:w :x 1]]}
{:process 1, :type :invoke, :f :txn, :value [[:r :x nil] [:w :x 2]]}
{:process 0, :type :ok, :f :txn, :value [[:r :x nil] [:w :x 1]]}
{:process 1, :type :ok, :f :txn, :value [[:r :x nil] [:w :x 2]]}`
	code, out, errOut := cli(t, "check", "--history", writeTemp(t, "lost.edn", lost), "--consistency", "snapshot-isolation")
	require.Equal(t, 1, code, out+errOut)
	assert.Contains(t, out, "model rw-register")
	assert.Contains(t, out, "lost-update: T0 and T1 both read x = nil and then wrote x")
	code, out, _ = cli(t, "check", "--history", writeTemp(t, "lost.edn", lost), "--consistency", "read-committed")
	assert.Equal(t, 0, code, out)
}

func TestCheckBadInput(t *testing.T) {
	reg := examples + "register.edn"
	txn := examples + "list-append.edn"
	for _, args := range [][]string{
		{"--history", reg, "--consistency", "linearizable"},
		{"--history", reg, "--nil-read", "maybe"},
		{"--history", reg, "--model", "bank"},
		{"--history", reg, "--model", "list-append"},
		{"--history", txn, "--model", "kv"},
		{"--history", txn, "--init", "0"},
		{"--history", txn, "--model", "multi-register", "--consistency", "serializable"},
		{"--history", txn, "--html", filepath.Join(t.TempDir(), "p.html")},
		{"--history", writeTemp(t, "bad.edn", "[{:process 0,\n :type :invoke, :f :read, :value \"x}]")},
		{"--history", writeTemp(t, "mixed.edn", "[{:process 0, :type :invoke, :f :txn, :value [[:r :x nil]]}\n{:process 1, :type :invoke, :f :read}]")},
		{"--history", writeTemp(t, "dup.edn", "{:type :ok, :value [[:append :x 1]]} {:type :ok, :value [[:append :x 1]]}")},
		{"--history", reg, "--bogus"},
	} {
		code, stdout, stderr := cli(t, append([]string{"check"}, args...)...)
		assert.Equal(t, 2, code, "%v: %s%s", args, stdout, stderr)
		assert.True(t, oneLine(stderr), "%v: not one line: %q", args, stderr)
		assert.True(t, strings.HasPrefix(stderr, "sofasim: "), "%v: %q", args, stderr)
	}
}

func TestCheckHelpStatesSemantics(t *testing.T) {
	code, out, _ := cli(t, "check", "--help")
	require.Equal(t, 0, code)
	for _, s := range []string{":fail", ":info", "--nil-read unknown", "(cas-register 0)", "list-append", "G-single", "--consistency"} {
		assert.Contains(t, out, s)
	}
}

func TestCheckProgress(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, time.Now().Add(-5*time.Second))
	p.say("read %d events", 100000)
	p.say("read %d events", 200000) // within two seconds of the last: quiet
	assert.Equal(t, "check: read 100000 events (5s)\n", buf.String())
}
