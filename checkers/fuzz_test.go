package checkers

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sofasim/sofasim/checkers/elle"
)

// The fuzz targets check that no input makes an importer panic, that what
// an importer accepts is a valid history that survives our JSON form, and
// that checking it does not panic either.

func fuzzAccepted(t *testing.T, h History) {
	if err := h.validateStructure(); err != nil {
		t.Fatalf("importer accepted an invalid history: %v", err)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, h); err != nil {
		return // strings that are not UTF-8 cannot go to JSON
	}
	first := buf.String()
	back, err := ParseJSON(&buf)
	if err != nil {
		t.Fatalf("our own JSON does not parse: %v\n%s", err, first)
	}
	var again bytes.Buffer
	if err := WriteJSON(&again, back); err != nil || again.String() != first {
		t.Fatalf("JSON round trip changed the history (%v):\n%s\n%s", err, first, again.String())
	}
	opts := Options{TimeLimit: 100 * time.Millisecond}
	Linearizable{}.Check(h, opts)
	Liveness{HealedAt: 3, Bound: 5, End: 20}.Check(h, opts)
}

func FuzzParseJepsen(f *testing.F) {
	f.Add([]byte(jepsenSample))
	f.Add([]byte("INFO  jepsen.util - 3\t:invoke\t:cas\t[1 4]\nINFO  jepsen.util - 3\t:fail\t:cas\t[1 4]\n"))
	f.Add([]byte("INFO  jepsen.util - 3\t:invoke\t:write\t4\nINFO  jepsen.util - 3\t:info\t:write\t:timed-out\n7 :invoke :read nil\n7 :ok :read 4\n"))
	f.Add([]byte("0 :invoke :read nil\n0 :fail :read :timed-out\n"))
	f.Add([]byte("0 :invoke :write \"a\\u00e9\"\n0 :ok :write #_x \"a\"\n"))
	f.Add([]byte("0 :invoke :cas [nil 1] ; comment\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseJepsen(bytes.NewReader(data))
		if err == nil {
			fuzzAccepted(t, h)
		}
	})
}

func FuzzParseEDN(f *testing.F) {
	f.Add([]byte(`{:process 9, :type :invoke, :f :append, :key "0", :value "x 9 0 y"}` + "\n" +
		`{:process 9, :type :ok, :f :append, :key "0", :value "x 9 0 y"}`))
	f.Add([]byte(`{:process 1, :type :invoke, :f :get, :key "9", :value nil}` + "\n" +
		`{:process 1, :type :ok, :f :get, :key "9", :value ""}`))
	f.Add([]byte(`{:type :invoke, :f :cas, :value [3 4], :process 1, :time 3000}` + "\n" +
		`{:type :info, :f :cas, :value [3 4], :process 1, :time 4000, :error [:timeout "x"]}`))
	f.Add([]byte(`{:process :nemesis, :type :info, :f :start, :value #{"n1"} :x #inst "2020-01-01" :y \c :z 1.5M}`))
	f.Add([]byte(`{:process 0, :type :invoke, :f :put, :key 5, :value "\"\t"} ; c` + "\n" + `{:process 0 :type :fail :f :put}`))
	f.Add([]byte("[{:type :invoke,\n :f :read, :value nil, :process 1} ; x\n {:type :ok, :f :read, :value 3, :process 1}]"))
	f.Add([]byte(`(#jepsen.history.Op{:index 0, :type :invoke, :process 0, :f :write, :value 1} #_ {:a} #jepsen.history.Op{:index 1, :type :ok, :process 0, :f :write, :value 1})`))
	f.Add([]byte(`[{:process 3 :type :invoke :f :txn :value [[:read :x nil] [:write :y 2]]} {:process 3 :type :ok :f :txn :value [[:read :x 0] [:write :y 2]]}]`))
	f.Add([]byte(`{:index 0 :type :invoke :value [[:append 253 1] [:r 253 nil]]} {:index 1 :type :ok :value [[:append 253 1] [:r 253 [1]]]}`))
	f.Add([]byte(`[{:process 0 :type :invoke :f :cas :value [nil "a"]} {:process 0 :type :ok :f :cas :value [nil "a"]} {:process 1 :type :invoke :f :read} {:process 1 :type :ok :f :read :value nil}]`))
	f.Add([]byte("[\\] \\; \\( \"x\\\"\" {:a \\newline}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseEDN(bytes.NewReader(data))
		if err == nil {
			fuzzAccepted(t, h)
		} else if strings.Contains(err.Error(), "\n") {
			t.Fatalf("an error spans lines: %q", err)
		}
		im, err := Import(bytes.NewReader(data), ImportOptions{Format: "edn", NilRead: NilAbsent})
		if err == nil && !im.Transactional() {
			fuzzAccepted(t, im.History)
		}
		if err == nil && im.Transactional() {
			for i, txn := range im.Txns {
				if txn.ID != i || txn.Status == 0 {
					t.Fatalf("bad transaction %d: %+v", i, txn)
				}
			}
			// The transactional checkers judge or refuse, never panic.
			for _, m := range []elle.Model{elle.ListAppend, elle.RWRegister} {
				res, err := elle.Check(im.Txns, elle.Options{Model: m, WFRKeys: true})
				if err == nil && res.Valid != !slices.Contains(res.RuledOut, res.Consistency) {
					t.Fatalf("verdict disagrees with the models ruled out: %+v", res)
				}
			}
			MultiRegister{}.Check(im.Txns, Options{TimeLimit: 100 * time.Millisecond})
		}
	})
}

func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`{"version":1,"model":"kv","init":"","ops":[
{"id":0,"client":3,"key":"k","input":{"kind":"put","value":"v"},"output":{},"call":100,"return":250},
{"id":1,"client":1,"key":"k","input":{"kind":"get"},"output":{"value":"v","found":true},"call":120,"return":300},
{"id":2,"client":2,"key":"k","input":{"kind":"append","value":"w"},"output":{},"call":130,"return":0,"unknown":true}
]}`))
	f.Add([]byte(`{"version":1,"ops":[]}`))
	f.Add([]byte(`{"version":1,"model":"cas-register","ops":[{"id":0,"input":{"kind":"cas","expect_absent":true,"value":"1"},"output":{"ok":true},"call":-5,"return":9223372036854775807}]}`))
	f.Add([]byte(`{"version":1,"ops":[{"id":0,"input":{"kind":"read"},"output":{"err":"x"},"call":1,"return":1}],"init":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ParseJSON(bytes.NewReader(data))
		if err == nil {
			fuzzAccepted(t, h)
		}
		if h, err := Parse(bytes.NewReader(data), ""); err == nil {
			fuzzAccepted(t, h)
		}
	})
}
