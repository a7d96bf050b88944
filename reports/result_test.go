package reports

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/sim"
)

const ms = time.Millisecond

// staleHistory is a register history with a stale read: op 2 reads "1"
// after op 1 wrote "2" and returned.
func staleHistory() checkers.History {
	return checkers.History{Model: "kv", Ops: []checkers.Op{
		{ID: 0, Client: 0, Key: "x", Input: checkers.Input{Kind: "put", Value: "1"}, Call: int64(10 * ms), Return: int64(20 * ms)},
		{ID: 1, Client: 1, Key: "x", Input: checkers.Input{Kind: "put", Value: "2"}, Call: int64(30 * ms), Return: int64(40 * ms)},
		{ID: 2, Client: 0, Key: "x", Input: checkers.Input{Kind: "get"}, Output: checkers.Output{Value: "1", Found: true}, Call: int64(50 * ms), Return: int64(60 * ms)},
		{ID: 3, Client: 2, Key: "y", Input: checkers.Input{Kind: "put", Value: "3"}, Call: int64(55 * ms), Return: 0, Unknown: true},
	}}
}

const testPlan = `{"version":2,"scenario":"demo","seed":42,"duration":"1s","liveness":"1s","ops":[],"faults":[]}`

// sampleRun is a failing run with faults of every kind and a finding.
func sampleRun(t testing.TB) Run {
	h := staleHistory()
	lin := checkers.Linearizable{}.Check(h, checkers.Options{})
	require.Equal(t, checkers.Fail, lin.Verdict)
	nodes := []Node{{ID: "n1", Stats: sim.NodeStats{Sent: 5, Starts: 2, Crashes: 1}}, {ID: "n2"}, {ID: "n3"}, {ID: "c0"}}
	f := func(at time.Duration, fault sim.Fault, note string) sim.AppliedFault {
		fault.At = sim.Duration(at)
		return sim.AppliedFault{At: at, Fault: fault, Note: note}
	}
	faults := []sim.AppliedFault{
		f(0, sim.Fault{Op: sim.ArmFailpoint{Failpoint: "bug/demo/stale"}}, ""),
		f(5*ms, sim.Fault{Op: sim.Crash{Nodes: []sim.NodeID{"n1"}}}, ""),
		f(8*ms, sim.Fault{Op: sim.Pause{Nodes: []sim.NodeID{"n2"}}}, ""),
		f(12*ms, sim.Fault{Op: sim.Partition{Cuts: sim.Isolate("n3", []sim.NodeID{"n1", "n2", "n3", "c0"})}}, ""),
		f(15*ms, sim.Fault{Op: sim.Loss{LossPPM: 1000, For: sim.Duration(30 * ms)}}, ""),
		f(16*ms, sim.Fault{Op: sim.Loss{LossPPM: 2000, For: sim.Duration(5 * ms)}}, ""),
		f(18*ms, sim.Fault{Op: sim.ClockJump{Nodes: []sim.NodeID{"n2"}, Jump: sim.Duration(-2 * time.Second)}}, ""),
		f(20*ms, sim.Fault{Op: sim.Restart{Nodes: []sim.NodeID{"n1"}}}, ""),
		f(22*ms, sim.Fault{Op: sim.ClockSkew{Nodes: []sim.NodeID{"n3"}, DriftPPM: 50_000}}, ""),
		f(25*ms, sim.Fault{Op: sim.DiskSlow{Nodes: []sim.NodeID{"n3"}, Delay: sim.Duration(ms), For: sim.Duration(10 * ms)}}, ""),
		f(26*ms, sim.Fault{Op: sim.DiskCorrupt{Nodes: []sim.NodeID{"n2"}}}, "n2:wal@17"),
		f(28*ms, sim.Fault{Op: sim.ArmFailpoint{Failpoint: "raftkv/slow-apply", ProbabilityPPM: 10_000}}, ""),
		f(30*ms, sim.Fault{Op: sim.Resume{Nodes: []sim.NodeID{"n2"}}}, ""),
		f(34*ms, sim.Fault{Op: sim.DisarmFailpoint{Failpoint: "raftkv/slow-apply"}}, ""),
		f(40*ms, sim.Fault{Op: sim.Heal{}}, ""),
		f(40*ms, sim.Fault{Op: sim.ClockSkew{Nodes: []sim.NodeID{"n3"}}}, ""),
	}
	stack := "goroutine 7 [running]:\nruntime/debug.Stack()\n\t/go/src/runtime/debug/stack.go:26 +0x5e\nmain.(*node).Message(0xc000123456, {0x1, 0x2})\n\t/src/node.go:10 +0x1f\n"
	res := &Result{Version: Version, Scenario: "demo", Seed: 42, Plan: json.RawMessage(testPlan), Bugs: []string{"bug/demo/stale"},
		Fingerprint: FormatFingerprint(0xdeadbeef), Events: 1234, Virtual: sim.Duration(70 * ms), VirtualSeconds: 0.07,
		HealAt: sim.Duration(40 * ms), WallSeconds: 0.003, SimWallSeconds: 0.002, Speedup: 35, Nodes: nodes,
		Replay: "sofasim replay out/demo/42/failure.json", RunCommand: "sofasim run demo --seed 42 --bug bug/demo/stale"}
	res.SetFindings([]sim.Finding{{Kind: "panic", Node: "n1", At: 5 * ms, Seed: 42, Value: "boom", Stack: stack}})
	res.SetFaults(faults)
	res.Judge([]checkers.Result{lin, {Checker: "liveness", Verdict: checkers.Pass, Explanation: "all done"}})
	return Run{Result: res, History: h, Linearization: lin.Linearization}
}

func TestResultRoundTrip(t *testing.T) {
	r := sampleRun(t).Result
	data := r.Marshal()
	back, err := ParseResult(data)
	require.NoError(t, err)
	assert.Equal(t, string(data), string(back.Marshal()))
	assert.Equal(t, "00000000deadbeef", back.Fingerprint)
	assert.Equal(t, 0.07, back.VirtualSeconds)
	assert.Equal(t, "panic", back.Primary())
	require.Len(t, back.Failures, 2)
	assert.True(t, strings.HasPrefix(back.Failures[1], "linearizable: not linearizable"))
	assert.NotContains(t, string(data), "0xc000123456", "heap addresses are blanked")
	assert.NotContains(t, string(data), "goroutine 7")

	var fields map[string]any
	require.NoError(t, json.Unmarshal(data, &fields))
	for _, k := range []string{"version", "scenario", "seed", "verdict", "fingerprint", "events", "virtual_seconds",
		"wall_seconds", "failures", "checks", "findings", "faults", "nodes", "replay", "plan", "bugs", "heal_at"} {
		assert.Contains(t, fields, k)
	}
}

func TestParseResultIsStrict(t *testing.T) {
	good := string(sampleRun(t).Result.Marshal())
	cases := map[string]string{
		"not JSON":          "{",
		"empty":             "",
		"unknown field":     strings.Replace(good, `"version": 2,`, `"version": 2, "colour": "red",`, 1),
		"version":           strings.Replace(good, `"version": 2,`, `"version": 1,`, 1),
		"fingerprint":       strings.Replace(good, `"00000000deadbeef"`, `"deadbeef"`, 1),
		"verdict":           strings.Replace(good, `"verdict": "fail"`, `"verdict": "failed"`, 1),
		"plan for another":  replaceLast(good, `"seed": 42`, `"seed": 43`),
		"no plan":           strings.Replace(good, `"plan": {`, `"plan": [{`, 1) + "]",
		"trailing":          good + "{}",
		"scenario mismatch": strings.Replace(good, `"scenario": "demo"`, `"scenario": "other"`, 1),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseResult([]byte(data))
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "\n", "errors are one line")
		})
	}
}

func TestCleanStack(t *testing.T) {
	in := "goroutine 12 [running]:\nmain.f(0xc000010000, 0x3, {0x1, 0x2})\n\t/x.go:3 +0x1d\n" +
		"panic({0xad2280?, 0x20d9620c4670?})\n\t/go/src/runtime/panic.go:860 +0x13a\n" +
		"main.(*T).g(0x20d961d30000?, {0x20d96206ab9c?, 0x2?})\n\t/x.go:9 +0x2\ncreated by main.h in goroutine 1\n\t/x.go:20 +0x4c5\n"
	out := CleanStack(in)
	assert.Equal(t, "goroutine N [running]:\nmain.f(...)\n\t/x.go:3 +0x1d\n"+
		"panic(...)\n\t/go/src/runtime/panic.go:860 +0x13a\n"+
		"main.(*T).g(...)\n\t/x.go:9 +0x2\ncreated by main.h in goroutine N\n\t/x.go:20 +0x4c5\n", out)
}

func replaceLast(s, old, new string) string {
	i := strings.LastIndex(s, old)
	return s[:i] + new + s[i+len(old):]
}
