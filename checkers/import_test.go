package checkers

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sofasim/sofasim/checkers/elle"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

const jepsenSample = `INFO  jepsen.core - Running test
INFO  jepsen.util - 0	:invoke	:read	nil
INFO  jepsen.util - 1	:invoke	:write	4
INFO  jepsen.util - 2	:invoke	:cas	[4 1]
INFO  jepsen.util - 0	:ok	:read	nil
INFO  jepsen.util - 1	:info	:write	:timed-out
INFO  jepsen.util - 2	:fail	:cas	[4 1]
INFO  jepsen.util - :nemesis	:info	:start	nil
INFO  jepsen.util - 6	:invoke	:read	nil
INFO  jepsen.util - 6	:ok	:read	4
3	:invoke	:cas	[nil 2]
`

func TestParseJepsen(t *testing.T) {
	h, err := ParseJepsen(strings.NewReader(jepsenSample))
	require.NoError(t, err)
	want := History{Model: "cas-register", Ops: []Op{
		{ID: 0, Client: 0, Input: Input{Kind: KindRead}, Call: 2, Return: 5},
		{ID: 1, Client: 1, Input: Input{Kind: KindWrite, Value: "4"}, Call: 3, Return: 6, Unknown: true},
		// the failed cas did not happen: dropped
		{ID: 2, Client: 6, Input: Input{Kind: KindRead}, Output: Output{Value: "4", Found: true}, Call: 9, Return: 10},
		{ID: 3, Client: 3, Input: Input{Kind: KindCAS, ExpectAbsent: true, Value: "2"}, Call: 11, Unknown: true},
	}}
	assert.Equal(t, want, h)
	assert.Equal(t, Pass, Linearizable{}.Check(h, Options{}).Verdict)
}

func TestParseJepsenErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"INFO  jepsen.util - 0\t:ok\t:read\t3\n", "jepsen: line 1: process 0 completes :read (:ok) but has no pending invocation"},
		{"INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:invoke\t:read\tnil\n", "line 2: process 0 invokes :read while its :read from line 1 is still pending"},
		{"0 :invoke :read nil\n0 :ok :write 3\n", "line 2: process 0 completes :write but invoked :read at line 1"},
		{"0 :invoke :txn [[:r 1 nil]]\n", "line 1: unsupported :f :txn"},
		{"0 :begin :read nil\n", "line 1: unknown type :begin"},
		{"0 :invoke :cas [1]\n", "line 1: :cas value must be [expected new], not [1]"},
		{"0 :invoke :write [1 2\n", "line 1: column 22: missing ']'"},
		{"\n\nINFO  jepsen.util - 0\t:invoke\t:write\t\"abc\n", `line 3: column 38: unterminated string`},
		{"0 :invoke :write 1 2\n", "line 1: column 20: unexpected text after the value"},
		{"0 :invoke :write nil\n", "line 1: :write value: want a value, not nil"},
		{"-1 :invoke :read nil\n", "jepsen: no operation lines"},
		{"99999999999 :invoke :read nil\n", "line 1: process must be a non-negative integer"},
		{`{"version":1,"ops":[]}` + "\n", "no operation lines"},
	} {
		_, err := ParseJepsen(strings.NewReader(c.in))
		if assert.Error(t, err, c.in) {
			assert.Contains(t, err.Error(), c.want, c.in)
		}
	}
}

func TestParseEDN(t *testing.T) {
	in := `{:process 0, :type :invoke, :f :put, :key "a", :value "x"}
; a comment line

{:process 1, :type :invoke, :f :get, :key "a", :value nil}
{:process 0, :type :ok, :f :put, :key "a", :value "x"}
{:process 1, :type :ok, :f :get, :key "a", :value "x", :index 7, :extra #{1 2} #_ :discarded}
{:process :nemesis, :type :info, :f :start, :value nil}
{:process 2, :type :invoke, :f :append, :key 5, :value "y"}
{:process 2, :type :fail, :f :append, :key 5, :value "y"}
{:process 3, :type :invoke, :f :get, :key "a", :value nil}
{:process 3, :type :info, :f :get, :key "a", :value nil}
{:process 3, :type :invoke, :f :get, :key "b", :value nil}
`
	h, err := ParseEDN(strings.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, History{Model: "kv", Init: strp(""), Ops: []Op{
		{ID: 0, Client: 0, Key: "a", Input: Input{Kind: KindPut, Value: "x"}, Call: 1, Return: 3},
		{ID: 1, Client: 1, Key: "a", Input: Input{Kind: KindGet}, Output: Output{Value: "x", Found: true}, Call: 2, Return: 4},
		{ID: 2, Client: 3, Key: "a", Input: Input{Kind: KindGet}, Call: 7, Return: 8, Unknown: true},
		{ID: 3, Client: 3, Key: "b", Input: Input{Kind: KindGet}, Call: 9, Unknown: true},
	}}, h)
}

// Stamps are places in the history, not :time: Jepsen writes histories in
// real-time order, while :time is not monotonic across processes.
func TestParseEDNIgnoresTime(t *testing.T) {
	in := `{:type :invoke, :f :write, :value 3, :process 0, :time 1000}
{:type :ok, :f :write, :value 3, :process 0, :time 2500}
{:type :invoke, :f :cas, :value [3 4], :process 1, :time 900}
{:type :ok, :f :cas, :value [3 4], :process 1, :time 4000}
`
	h, err := ParseEDN(strings.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, History{Model: "cas-register", Ops: []Op{
		{ID: 0, Input: Input{Kind: KindWrite, Value: "3"}, Call: 1, Return: 2},
		{ID: 1, Client: 1, Input: Input{Kind: KindCAS, Expected: "3", Value: "4"}, Output: Output{OK: true}, Call: 3, Return: 4},
	}}, h)
}

func TestParseEDNErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{:process 0, :type :invoke, :f :get}` + "\n" + `[1 2]`, "edn: line 2: want a map like"},
		{`{:process 0, :type :invoke :f :get :key "k"`, "line 1: column 44: missing '}'"},
		{"[{:process 0, :type :invoke\n :f :get :key \"k\"]", "line 2: column 18: unexpected ']'"},
		{"[{:process 0, :type :invoke, :f :read}\n {:process 0, :type :ok, :f :read, :value 1}", "line 2: column 45: missing ']' at the end of the history"},
		{"{:process 0,\n :process 1, :type :invoke, :f :get}", "line 2: column 37: duplicate key :process"},
		{`{:process 0, :type :invoke, :f :get} {:process 0}`, "line 1: missing :type"},
		{`{:type :invoke}`, "line 1: missing :f"},
		{`{:process "p", :type :invoke, :f :get}`, `line 1: :process must be a non-negative integer or :nemesis, not "p"`},
		{`{:process 0, :type "invoke", :f :get}`, `line 1: :type must be a keyword, not "invoke"`},
		{`{:process 0, :type :invoke, :f :get, :value "\q"}`, `line 1: column 46: bad escape \q in string`},
		{"\n\n  {:process 0, :type :invoke,\n :f :get, :value 12abc}", `line 4: column 18: bad number "12abc"`},
		{`{:process 0, :type :invoke, :f :get, :value` + strings.Repeat("[", 100) + `}`, "nesting deeper than 64"},
		{`{:process 0 :type :ok :f :get :value "v"}`, "line 1: process 0 completes :get (:ok) but has no pending invocation"},
		{`{:a 1 :b}`, "line 1: column 10: map has a key without a value"},
		{`{:a #_ }`, "line 1: column 8: unexpected '}'"},
		{`]`, "line 1: column 1: unexpected ']'"},
		{`[{:process 0, :type :invoke, :f :txn, :value [[:r :x nil]]} {:process 1, :type :invoke, :f :read}]`, "line 1: a history cannot mix :txn with other operations (:read)"},
		{`{:process 0, :type :invoke, :f :txn, :value [[:inc :x 1]]}`, "line 1: micro-op [:inc :x 1]: unknown function :inc"},
		{`{:process 0, :type :invoke, :f :txn, :value [:r :x 1]}`, "line 1: a micro-op must be [f key value]"},
		{`{:process 0, :type :invoke, :f :txn, :value [[:r :x 1]]} {:process 0, :type :ok, :f :txn, :value []}`, "the :ok :txn has 0 micro-ops but its invocation at line 1 has 1"},
	} {
		_, err := Import(strings.NewReader(c.in), ImportOptions{Format: "edn"})
		if assert.Error(t, err, c.in) {
			assert.Contains(t, err.Error(), c.want, c.in)
		}
	}
}

func TestEDNReaderValues(t *testing.T) {
	for in, want := range map[string]string{
		`{:a [1 -2 +3 4N] :b (x y) :c #{"s"} :d \a :e \newline :f 1.5e3M :g #inst "2020" :h true :i nil}`: `{:a [1 -2 +3 4N] :b (x y) :c #{"s"} :d \a :e \newline :f 1.5e3M :g #inst "2020" :h true :i nil}`,
		`"tab\there \u00e9 \"q\""`: `"tab\there é \"q\""`,
		`my.ns/sym`:                `my.ns/sym`,
		`:ns/kw`:                   `:ns/kw`,
		`[1, 2 ; comment`:          `error: column 16: missing ']'`,
	} {
		rd := &ednReader{s: in}
		v, err := rd.value()
		got := v.String()
		if err != nil {
			got = "error: " + err.Error()
		}
		assert.Equal(t, want, got, in)
	}
}

func TestParseJSONErrors(t *testing.T) {
	op := `{"id":0,"client":0,"key":"k","input":{"kind":"get"},"output":{},"call":1,"return":2}`
	for _, c := range []struct{ in, want string }{
		{``, "json: line 1: unexpected end of input"},
		{`[]`, `json: line 1: want "{", not [`},
		{`{"version":2,"ops":[]}`, "json: line 1: unsupported version 2 (this build reads version 1)"},
		{`{"ops":[]}`, `json: missing "version"`},
		{`{"version":1}`, `json: missing "ops"`},
		{`{"version":1,"ops":[],"extra":1}`, `json: line 1: unknown field "extra"`},
		{`{"version":1,"version":1,"ops":[]}`, `json: line 1: repeated field "version"`},
		{"{\"version\":1,\"ops\":[\n" + op + ",\n" + op + "\n]}", "json: line 3: op at index 1 has id 0 (ids must be indexes)"},
		{"{\"version\":1,\"ops\":[\n" + op + ",\n" + `{"id":1,"input":{"kind":"get"},"bogus":1}` + "\n]}", `json: line 3: op 1: json: unknown field "bogus"`},
		{"{\"version\":1,\"ops\":[\n" + `{"id":0,"input":{"kind":"get"},"call":5,"return":1}` + "\n]}", "line 2: op 0 returns at 1 before its call at 5"},
		{"{\"version\":1,\"ops\":[\n" + `{"id":0,"input":{"kind":"get"},"call":5}` + "\n]}", `line 2: op 0 has no "return": give the time it returned, or "unknown": true if its outcome is unknown`},
		{"{\"version\":1,\"ops\":[\n" + `{"id":0,"input":{}}` + "\n]}", "line 2: op 0 has no kind"},
		{"{\"version\":1,\"ops\":[\n" + `{"id":0,"input":{"kind":"get"},"call":"x"}` + "\n]}", "line 2: op 0: json: cannot unmarshal string"},
		{"{\"version\":1,\"model\":\"cas-register\",\"ops\":[\n" + op + "\n]}", `json: line 2: op 0: model cas-register has no operation "get"`},
		{"{\"version\":1,\n\"model\":\"nope\",\"ops\":[]}", `json: line 2: unknown model "nope"`},
		{`{"version":1,"ops":[]} {}`, "json: line 1: unexpected data after the history"},
		{`{"version":1,"ops":[}`, "json: line 1: invalid character '}'"},
	} {
		_, err := ParseJSON(strings.NewReader(c.in))
		if assert.Error(t, err, c.in) {
			assert.Contains(t, err.Error(), c.want, c.in)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	h := hist("kv", strp(""),
		put(3, "k", "<v>", 100, 250),
		get(1, "k", "v", true, 120, 300),
		unknown(Op{Client: 2, Key: "k", Input: Input{Kind: KindAppend, Value: "w"}, Call: 130}))
	var buf bytes.Buffer
	require.NoError(t, WriteJSON(&buf, h))
	assert.Equal(t, `{"version":1,"model":"kv","init":"","ops":[
{"id":0,"client":3,"key":"k","input":{"kind":"put","value":"<v>"},"output":{},"call":100,"return":250},
{"id":1,"client":1,"key":"k","input":{"kind":"get"},"output":{"value":"v","found":true},"call":120,"return":300},
{"id":2,"client":2,"key":"k","input":{"kind":"append","value":"w"},"output":{},"call":130,"return":0,"unknown":true}
]}
`, buf.String())

	buf.Reset()
	require.NoError(t, WriteJSON(&buf, History{}))
	assert.Equal(t, "{\"version\":1,\"ops\":[\n]}\n", buf.String())
	back, err := ParseJSON(&buf)
	require.NoError(t, err)
	assert.Equal(t, History{}, back)

	err = WriteJSON(&buf, hist("", nil, put(0, "\xff", "v", 0, 1)))
	assert.ErrorContains(t, err, "not valid UTF-8")
}

func TestDetectFormat(t *testing.T) {
	for in, want := range map[string]string{
		"{\"version\":1,\"ops\":[]}":                          "json",
		"\xef\xbb\xbf\n  {\n  \"version\": 1}":                "json",
		"{}":                                                  "json",
		"{:process 0, :type :invoke}":                         "edn",
		"; comment\n\n{ :process 0}":                          "edn",
		"INFO  jepsen.util - 3\t:invoke\t:cas\t[1 4]":         "jepsen",
		"INFO  jepsen.core - start\nWARN x - y\n3 :invoke :r": "jepsen",
		"2015-05-27 14:26:04,915{GMT}\tINFO\t[worker] jepsen.util: 3\t:invoke\t:read\tnil": "jepsen",
		"hello":      "error: line 1: cannot tell the history format (json, jepsen or edn) from \"hello\"",
		"{ 12 }":     "error: line 1: cannot tell the history format: a map that is neither JSON nor EDN with keywords",
		"{":          `error: cannot tell the history format: input ends after "{"`,
		" \n\t\n":    "error: cannot tell the history format of blank input",
		"INFO a - b": "error: cannot tell the history format of blank input",
	} {
		got, err := DetectFormat([]byte(in))
		if err != nil {
			got = "error: " + err.Error()
		}
		assert.Equal(t, want, got, in)
	}
}

func TestParse(t *testing.T) {
	h, err := Parse(strings.NewReader(jepsenSample), "")
	require.NoError(t, err)
	assert.Len(t, h.Ops, 4)
	h2, err := Parse(strings.NewReader(jepsenSample), "jepsen")
	require.NoError(t, err)
	assert.Equal(t, h, h2)

	h, err = Parse(strings.NewReader("\n \n"), "auto")
	require.NoError(t, err)
	assert.Empty(t, h.Ops)

	_, err = Parse(strings.NewReader(""), "yaml")
	assert.EqualError(t, err, `unknown history format "yaml" (available: json, jepsen, edn)`)
	assert.Equal(t, []string{"json", "jepsen", "edn"}, Formats())
}

// A corpus history survives the trip through our JSON form exactly.
func TestCorpusJSONRoundTrip(t *testing.T) {
	dir := filepath.Join(corpusDir(t), "porcupine")
	for _, name := range []string{"kv/c10-bad.txt", "jepsen/etcd_004.log"} {
		h := parseFile(t, filepath.Join(dir, name), "")
		var buf bytes.Buffer
		require.NoError(t, WriteJSON(&buf, h))
		back, err := Parse(bytes.NewReader(buf.Bytes()), "")
		require.NoError(t, err)
		require.Equal(t, h, back)
		assert.Equal(t, Linearizable{}.Check(h, Options{}).Explanation, Linearizable{}.Check(back, Options{}).Explanation)
	}
	_ = os.Stdout
}

// Every layout Jepsen and Knossos write reads to the same history: one
// vector or list, maps spanning lines, comments and discards, records,
// nemesis events with any value, extra keys.
func TestParseEDNLayouts(t *testing.T) {
	want := History{Model: "cas-register", Ops: []Op{
		{ID: 0, Client: 0, Input: Input{Kind: KindWrite, Value: "1"}, Call: 1, Return: 3},
		{ID: 1, Client: 1, Input: Input{Kind: KindRead}, Output: Output{Value: "1", Found: true}, Call: 2, Return: 4},
		{ID: 2, Client: 2, Input: Input{Kind: KindCAS, Expected: "1", Value: "2"}, Call: 5, Unknown: true, Return: 6},
	}}
	for name, in := range map[string]string{
		"lines": `{:process 0, :type :invoke, :f :write, :value 1}
{:process 1, :type :invoke, :f :read, :value nil}
{:process 0, :type :ok, :f :write, :value 1}
{:process 1, :type :ok, :f :read, :value 1}
{:process 2, :type :invoke, :f :cas, :value [1 2]}
{:process 2, :type :info, :f :cas, :value [1 2], :error :timeout}`,
		"vector, pretty-printed": `; a Knossos history
[{:type :invoke,
  :f :write,
  :value 1,
  :process 0,
  :time 7686455705}
 {:type :invoke, :f :read, :value nil, :process 1} ; a comment { with [ brackets "
 {:process :nemesis, :type :info, :f :start, :value {"n1" #{"n2" "n3"}, :at #inst "2020-01-01T00:00:00Z"}}
 {:type :ok, :f :write, :value 1, :process 0, :index 2, :node "n1", :error nil}
 #_ {:type :ok, :f :write, :value 9, :process 7}
 {:type :ok, :f :read, :value 1 :process 1}
 {:process 2, :type :invoke, :f :cas, :value [1 2]}
 {:process 2, :type :info, :f :cas, :value [1 2], :error [:timeout "the \"leader\" went \\away"]}]`,
		"list of records": `(#jepsen.history.Op{:index 0, :time 1, :type :invoke, :process 0, :f :write, :value 1}
#jepsen.history.Op{:index 1, :time 2, :type :invoke, :process 1, :f :read, :value nil}
#jepsen.history.Op{:index 2, :time 3, :type :ok, :process 0, :f :write, :value 1}
#jepsen.history.Op{:index 3, :time 4, :type :ok, :process 1, :f :read, :value 1}
#jepsen.history.Op {:index 4, :time 5, :type :invoke, :process 2, :f :cas, :value [1 2]}
{:process :nemesis :type :info :f :kill :value [:a \x "s" 1.5M 7N]}
#jepsen.history.Op{:index 5, :time 6, :type :info, :process 2, :f :cas, :value [1 2]})`,
		"one line": `[{:process 0, :type :invoke, :f :write, :value 1} {:process 1, :type :invoke, :f :read, :value nil} {:process 0, :type :ok, :f :write, :value 1} {:process 1, :type :ok, :f :read, :value 1} {:process 2, :type :invoke, :f :cas, :value [1 2]} {:process 2, :type :info, :f :cas, :value [1 2]}]`,
	} {
		t.Run(name, func(t *testing.T) {
			for _, format := range []string{"edn", ""} {
				h, err := Parse(strings.NewReader(in), format)
				require.NoError(t, err)
				assert.Equal(t, want, h)
			}
		})
	}
}

// An :ok read of nil is unknown in EDN (Knossos: legal in every state) and
// absent in Jepsen logs (porcupine's etcd tests), unless chosen.
func TestNilReads(t *testing.T) {
	edn := `[{:process 0, :type :invoke, :f :write, :value 0}
{:process 0, :type :ok, :f :write, :value 0}
{:process 1, :type :invoke, :f :read, :value nil}
{:process 1, :type :ok, :f :read, :value nil}]`
	orphan, err := Import(strings.NewReader(`{:process 3, :type :info, :f :read, :value nil}`), ImportOptions{})
	require.NoError(t, err)
	assert.Empty(t, orphan.History.Ops)

	im, err := Import(strings.NewReader(edn), ImportOptions{})
	require.NoError(t, err)
	assert.Equal(t, 1, im.NilReads)
	require.Len(t, im.History.Ops, 1)
	assert.Equal(t, Pass, Linearizable{}.Check(im.History, Options{}).Verdict)

	im, err = Import(strings.NewReader(edn), ImportOptions{NilRead: NilAbsent})
	require.NoError(t, err)
	require.Len(t, im.History.Ops, 2)
	assert.Equal(t, Fail, Linearizable{}.Check(im.History, Options{}).Verdict)

	log := "0 :invoke :write 0\n0 :ok :write 0\n1 :invoke :read nil\n1 :ok :read nil\n"
	im, err = Import(strings.NewReader(log), ImportOptions{})
	require.NoError(t, err)
	assert.Equal(t, "jepsen", im.Format)
	assert.Equal(t, Fail, Linearizable{}.Check(im.History, Options{}).Verdict)
	im, err = Import(strings.NewReader(log), ImportOptions{NilRead: NilUnknown})
	require.NoError(t, err)
	assert.Equal(t, Pass, Linearizable{}.Check(im.History, Options{}).Verdict)
}

func TestImportTxn(t *testing.T) {
	in := `; Elle's form, and Knossos's multi-register spelling
{:index 0 :type :invoke :value [[:append 1 3] [:r 1 nil]]}
{:index 1 :type :ok     :value [[:append 1 3] [:r 1 [3]]]}
{:process 4, :type :invoke, :f :txn, :value [[:read :x nil] [:write :y 2]]}
{:process 5, :type :invoke, :f :txn, :value [[:w :x 1]]}
{:process 5, :type :fail, :f :txn, :value [[:w :x 1]]}
{:process 6, :type :ok, :f :txn, :value [[:r :x 1] [:r :y nil]]}
{:process 4, :type :info, :f :txn, :value [[:read :x nil] [:write :y 2]]}`
	im, err := Import(strings.NewReader(in), ImportOptions{})
	require.NoError(t, err)
	require.True(t, im.Transactional())
	_, err = Parse(strings.NewReader(in), "")
	assert.ErrorContains(t, err, "transactional model")
	assert.Equal(t, []elle.Txn{
		{ID: 0, Process: -1, Status: elle.OK, Call: 1, Return: 2, Mops: []elle.Mop{{Kind: elle.Append, Key: "1", Value: "3"}, {Kind: elle.Read, Key: "1", List: []string{"3"}}}},
		{ID: 1, Process: 4, Status: elle.Info, Call: 3, Mops: []elle.Mop{{Kind: elle.Read, Key: "x", Nil: true}, {Kind: elle.Write, Key: "y", Value: "2"}}},
		{ID: 2, Process: 5, Status: elle.Fail, Call: 4, Mops: []elle.Mop{{Kind: elle.Write, Key: "x", Value: "1"}}},
		{ID: 3, Process: 6, Status: elle.OK, Return: 6, Mops: []elle.Mop{{Kind: elle.Read, Key: "x", Value: "1"}, {Kind: elle.Read, Key: "y", Nil: true}}},
	}, im.Txns)
}

// writeRegisterHistory writes a linearizable EDN history of n events over
// keys registers, one map a line as Jepsen's kv logs have them: clients
// read, write and cas random keys, each op taking effect when it
// completes, with some :fail and :info completions.
func writeRegisterHistory(w io.Writer, events, keys int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	rng := rand.New(rand.NewPCG(seed, 1))
	const clients = 50
	type pending struct {
		f, key, value string
		busy          bool
	}
	procs := make([]pending, clients)
	proc := make([]int, clients) // process number of each client (new after :info)
	for i := range proc {
		proc[i] = i
	}
	next := clients
	state := make([]int, keys)
	for i := 0; i < events; i++ {
		c := rng.IntN(clients)
		p := &procs[c]
		if !p.busy {
			k := rng.IntN(keys)
			p.busy, p.key = true, strconv.Itoa(k)
			switch r := rng.IntN(10); {
			case r < 5:
				p.f, p.value = "read", "nil"
			case r < 8:
				p.f, p.value = "write", strconv.Itoa(rng.IntN(5))
			default:
				p.f, p.value = "cas", fmt.Sprintf("[%d %d]", rng.IntN(5), rng.IntN(5))
			}
			fmt.Fprintf(bw, "{:process %d, :type :invoke, :f :%s, :key %q, :value %s}\n", proc[c], p.f, p.key, p.value)
			continue
		}
		p.busy = false
		k, _ := strconv.Atoi(p.key)
		typ, value := "ok", p.value
		switch p.f {
		case "read":
			value = strconv.Itoa(state[k])
		case "write":
			if rng.IntN(50) == 0 {
				typ = "info" // it may have happened: here it did
			}
			state[k], _ = strconv.Atoi(p.value)
		case "cas":
			var from, to int
			fmt.Sscanf(p.value, "[%d %d]", &from, &to)
			if state[k] == from {
				state[k] = to
			} else {
				typ = "fail"
			}
		}
		fmt.Fprintf(bw, "{:process %d, :type :%s, :f :%s, :key %q, :value %s}\n", proc[c], typ, p.f, p.key, value)
		if typ == "info" {
			proc[c], next = next, next+1
		}
	}
	return bw.Flush()
}

// BenchmarkCheckRegisterHistory imports and checks a generated history of
// 2.4M events, about 1M ops, on 1,000 registers (150 MB of EDN) as
// `sofasim check` does.
// SOFASIM_KEEP_HISTORY=path keeps the file, to time the CLI on it.
func BenchmarkCheckRegisterHistory(b *testing.B) {
	path := os.Getenv("SOFASIM_KEEP_HISTORY")
	if path == "" {
		path = filepath.Join(b.TempDir(), "history.edn")
	}
	f, err := os.Create(path)
	require.NoError(b, err)
	require.NoError(b, writeRegisterHistory(f, 2_400_000, 1000, 1))
	require.NoError(b, f.Close())
	init := "0"
	for b.Loop() {
		f, err := os.Open(path)
		require.NoError(b, err)
		im, err := Import(f, ImportOptions{})
		f.Close()
		require.NoError(b, err)
		im.History.Init = &init
		res := Linearizable{}.Check(im.History, Options{})
		require.Equal(b, Pass, res.Verdict, res.Explanation)
	}
}

func TestGeneratedRegisterHistoryPasses(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, writeRegisterHistory(&buf, 20_000, 20, 7))
	im, err := Import(&buf, ImportOptions{})
	require.NoError(t, err)
	init := "0"
	im.History.Init = &init
	res := Linearizable{}.Check(im.History, Options{})
	require.Equal(t, Pass, res.Verdict, res.Explanation)
	require.Greater(t, len(im.History.Ops), 5000)
}

// Jepsen's independent register tests record [key value] tuples.
func TestParseEDNIndependentTuples(t *testing.T) {
	in := `[{:type :invoke, :f :write, :value [1 3], :process 0, :index 0}
{:type :ok, :f :write, :value [1 3], :process 0, :index 1}
{:type :invoke, :f :cas, :value [2 [nil 4]], :process 1, :index 2}
{:type :ok, :f :cas, :value [2 [nil 4]], :process 1, :index 3}
{:type :invoke, :f :read, :value #jepsen.independent.Tuple{:key 1, :value nil}, :process 2, :index 4}
{:type :ok, :f :read, :value #jepsen.independent.Tuple{:key 1, :value 3}, :process 2, :index 5}]`
	h, err := ParseEDN(strings.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, History{Model: "cas-register", Ops: []Op{
		{ID: 0, Client: 0, Key: "1", Input: Input{Kind: KindWrite, Value: "3"}, Call: 1, Return: 2},
		{ID: 1, Client: 1, Key: "2", Input: Input{Kind: KindCAS, ExpectAbsent: true, Value: "4"}, Output: Output{OK: true}, Call: 3, Return: 4},
		{ID: 2, Client: 2, Key: "1", Input: Input{Kind: KindRead}, Output: Output{Value: "3", Found: true}, Call: 5, Return: 6},
	}}, h)
	assert.Equal(t, Pass, Linearizable{}.Check(h, Options{}).Verdict)
}

// Knossos's mutex: acquiring a held lock is illegal; an acquire whose
// outcome is unknown may not have happened.
func TestMutex(t *testing.T) {
	ok := `[{:process 0, :type :invoke, :f :acquire}
{:process 0, :type :ok, :f :acquire}
{:process 1, :type :invoke, :f :acquire}
{:process 1, :type :info, :f :acquire}
{:process 0, :type :invoke, :f :release}
{:process 0, :type :ok, :f :release}
{:process 2, :type :invoke, :f :acquire}
{:process 2, :type :ok, :f :acquire}]`
	h, err := ParseEDN(strings.NewReader(ok))
	require.NoError(t, err)
	assert.Equal(t, "mutex", h.Model)
	assert.Equal(t, Pass, Linearizable{}.Check(h, Options{}).Verdict)
	bad := strings.Replace(ok, "{:process 0, :type :ok, :f :release}", "{:process 0, :type :fail, :f :release}", 1)
	h, err = ParseEDN(strings.NewReader(bad))
	require.NoError(t, err)
	res := Linearizable{}.Check(h, Options{})
	assert.Equal(t, Fail, res.Verdict)
	assert.Contains(t, res.Explanation, "The lock: no order")
}

// Knossos's multi-register: transactions that take effect atomically
// inside their intervals are linearizable, whatever crashed (:info, with
// or without effect) or failed around them; a read of a value that was
// already overwritten when the read began is not.
func TestMultiRegisterProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		regs := map[string]string{"x": "0", "y": "0"}
		var txns []elle.Txn
		next := 0
		for i := range rapid.IntRange(1, 12).Draw(rt, "n") {
			var mops []elle.Mop
			for range rapid.IntRange(1, 3).Draw(rt, "mops") {
				k := rapid.SampledFrom([]string{"x", "y"}).Draw(rt, "key")
				if rapid.Bool().Draw(rt, "write") {
					next++
					mops = append(mops, elle.Mop{Kind: elle.Write, Key: k, Value: strconv.Itoa(next)})
				} else {
					mops = append(mops, elle.Mop{Kind: elle.Read, Key: k})
				}
			}
			status := rapid.SampledFrom([]elle.Status{elle.OK, elle.OK, elle.Info, elle.Fail}).Draw(rt, "status")
			applied := status == elle.OK || status == elle.Info && rapid.Bool().Draw(rt, "crashed after")
			for j, m := range mops {
				switch {
				case m.Kind == elle.Write && applied:
					regs[m.Key] = m.Value
				case m.Kind == elle.Read && status == elle.OK:
					mops[j].Value = regs[m.Key]
				case m.Kind == elle.Read:
					mops[j].Nil = true
				}
			}
			// Each overlaps the next; taking effect in list order is legal.
			txns = append(txns, elle.Txn{ID: i, Process: i, Status: status, Call: int64(3*i + 1), Return: int64(3*i + 5), Mops: mops})
			if status == elle.Info {
				txns[i].Return = 0
			}
		}
		init := "0"
		res := MultiRegister{Init: &init}.Check(txns, Options{})
		require.Equal(rt, Pass, res.Verdict, res.Explanation)
	})
	stale := []elle.Txn{
		{ID: 0, Process: 0, Status: elle.OK, Call: 1, Return: 2, Mops: []elle.Mop{{Kind: elle.Write, Key: "x", Value: "1"}}},
		{ID: 1, Process: 1, Status: elle.OK, Call: 3, Return: 4, Mops: []elle.Mop{{Kind: elle.Read, Key: "x", Value: "0"}}},
	}
	init := "0"
	res := MultiRegister{Init: &init}.Check(stale, Options{})
	assert.Equal(t, Fail, res.Verdict)
	assert.Contains(t, res.Explanation, "txn 1 (process 1) [[:r x 0]]")
}
