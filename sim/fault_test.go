package sim_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/sim"
)

// Failpoint names the chaos workload evaluates (see chatter).
const (
	fpSkip  = "test/skip"  // the node skips one round of sends
	fpPanic = "test/panic" // the node panics
	fpValue = "test/value" // the node records the value
)

// genNodes draws a small set of node names.
func genNodes(min, max int) *rapid.Generator[[]sim.NodeID] {
	return rapid.Custom(func(t *rapid.T) []sim.NodeID {
		n := rapid.IntRange(min, max).Draw(t, "nodes")
		out := make([]sim.NodeID, n)
		for i := range out {
			out[i] = sim.NodeID(fmt.Sprintf("n%d", i))
		}
		return out
	})
}

// genSubset draws a non-empty subset of nodes, in node order.
func genSubset(nodes []sim.NodeID, label string) *rapid.Generator[[]sim.NodeID] {
	return rapid.Custom(func(t *rapid.T) []sim.NodeID {
		var out []sim.NodeID
		for _, n := range nodes {
			if rapid.Bool().Draw(t, label+"/"+string(n)) {
				out = append(out, n)
			}
		}
		if len(out) == 0 {
			out = []sim.NodeID{rapid.SampledFrom(nodes).Draw(t, label+"/one")}
		}
		return out
	})
}

// genCuts draws a partition: either one of the helper shapes or 1-3
// arbitrary cuts.
func genCuts(nodes []sim.NodeID, allowEmpty bool) *rapid.Generator[[]sim.Cut] {
	return rapid.Custom(func(t *rapid.T) []sim.Cut {
		var cuts []sim.Cut
		switch rapid.IntRange(0, 5).Draw(t, "shape") {
		case 0:
			cuts = sim.Isolate(rapid.SampledFrom(nodes).Draw(t, "isolated"), nodes)
		case 1:
			cuts = sim.OneWay(genSubset(nodes, "from").Draw(t, "from"), genSubset(nodes, "to").Draw(t, "to"))
		case 2:
			cuts = sim.MajorityMinority(nodes, sim.NewStream(rapid.Uint64().Draw(t, "mm"), "mm"))
		case 3:
			cuts = sim.Ring(nodes)
		default:
			k := rapid.IntRange(1, 3).Draw(t, "ncuts")
			for i := 0; i < k; i++ {
				cuts = append(cuts, sim.Cut{From: genSubset(nodes, "from").Draw(t, "from"), To: genSubset(nodes, "to").Draw(t, "to")})
			}
		}
		if len(cuts) == 0 && !allowEmpty {
			cuts = sim.OneWay(nodes[:1], nodes)
		}
		if allowEmpty && rapid.IntRange(0, 3).Draw(t, "all-links") == 0 {
			cuts = nil
		}
		return cuts
	})
}

// drawOp draws one valid payload of the given kind.
func drawOp(t *rapid.T, nodes []sim.NodeID, kind sim.FaultKind) sim.FaultOp {
	dur := func(label string, lo, hi time.Duration) sim.Duration {
		return sim.Duration(rapid.Int64Range(int64(lo), int64(hi)).Draw(t, label))
	}
	some := func() []sim.NodeID { return genSubset(nodes, "nodes").Draw(t, "nodes") }
	failpoint := func() string { return rapid.SampledFrom([]string{fpSkip, fpPanic, fpValue}).Draw(t, "failpoint") }
	switch kind {
	case sim.FaultCrash:
		return sim.Crash{Nodes: some(), Torn: rapid.Bool().Draw(t, "torn")}
	case sim.FaultRestart:
		return sim.Restart{Nodes: some(), Torn: rapid.Bool().Draw(t, "torn")}
	case sim.FaultPause:
		return sim.Pause{Nodes: some()}
	case sim.FaultResume:
		return sim.Resume{Nodes: some()}
	case sim.FaultPartition:
		return sim.Partition{Cuts: genCuts(nodes, false).Draw(t, "cuts")}
	case sim.FaultHeal:
		return sim.Heal{}
	case sim.FaultClog:
		return sim.Clog{Cuts: genCuts(nodes, true).Draw(t, "cuts"), For: dur("for", time.Millisecond, time.Second)}
	case sim.FaultLoss:
		return sim.Loss{Cuts: genCuts(nodes, true).Draw(t, "cuts"), LossPPM: rapid.Int64Range(0, 1_000_000).Draw(t, "loss_ppm"),
			DupPPM: rapid.Int64Range(0, 1_000_000).Draw(t, "dup_ppm"), For: dur("for", 0, time.Second)}
	case sim.FaultClockJump:
		return sim.ClockJump{Nodes: some(), Jump: dur("jump", -time.Hour, time.Hour)}
	case sim.FaultClockSkew:
		return sim.ClockSkew{Nodes: some(), DriftPPM: rapid.Int64Range(-500_000, 999_999).Draw(t, "drift_ppm")}
	case sim.FaultDiskCorrupt:
		return sim.DiskCorrupt{Nodes: some(), File: rapid.SampledFrom([]string{"", "log", "missing"}).Draw(t, "file")}
	case sim.FaultDiskSlow:
		return sim.DiskSlow{Nodes: some(), Delay: dur("delay", time.Microsecond, 100*time.Millisecond), For: dur("for", time.Millisecond, time.Second)}
	case sim.FaultDiskFail:
		return sim.DiskFail{Nodes: some(), Count: rapid.IntRange(0, 3).Draw(t, "count")}
	case sim.FaultDiskHeal:
		return sim.DiskHeal{Nodes: some()}
	case sim.FaultArm:
		f := sim.ArmFailpoint{Failpoint: failpoint(), Value: rapid.SampledFrom([]string{"", "true", "7", `"x"`}).Draw(t, "value"),
			ProbabilityPPM: rapid.Int64Range(0, 1_000_000).Draw(t, "probability_ppm"), Count: rapid.IntRange(0, 5).Draw(t, "count")}
		if rapid.Bool().Draw(t, "some-nodes") {
			f.Nodes = some()
		}
		return f
	case sim.FaultDisarm:
		return sim.DisarmFailpoint{Failpoint: failpoint()}
	}
	t.Fatalf("drawOp: kind %q has no generator: add one", kind)
	return nil
}

// genFault draws one valid fault of the given kind, at a time in [0, horizon].
func genFault(nodes []sim.NodeID, horizon time.Duration, kind sim.FaultKind) *rapid.Generator[sim.Fault] {
	return rapid.Custom(func(t *rapid.T) sim.Fault {
		at := sim.Duration(rapid.Int64Range(0, int64(horizon/time.Millisecond)).Draw(t, "at_ms")) * sim.Duration(time.Millisecond)
		return sim.Fault{At: at, Op: drawOp(t, nodes, kind)}
	})
}

// genPlan draws a fault plan over nodes using every kind in sim.FaultKinds,
// sorted by time (stable, so same-time faults keep their drawn order, which
// is the order Schedule applies them in).
func genPlan(nodes []sim.NodeID, horizon time.Duration, maxFaults int) *rapid.Generator[[]sim.Fault] {
	return rapid.Custom(func(t *rapid.T) []sim.Fault {
		n := rapid.IntRange(0, maxFaults).Draw(t, "faults")
		plan := make([]sim.Fault, 0, n)
		for i := 0; i < n; i++ {
			kind := rapid.SampledFrom(sim.FaultKinds()).Draw(t, "kind")
			plan = append(plan, genFault(nodes, horizon, kind).Draw(t, "fault"))
		}
		sort.SliceStable(plan, func(i, j int) bool { return plan[i].At < plan[j].At })
		return plan
	})
}

// Every generated fault is valid, and the generator knows every kind.
func TestGenFaultCoversEveryKind(t *testing.T) {
	nodes := ids("a", "b", "c")
	require.Len(t, sim.FaultKinds(), 16)
	for _, kind := range sim.FaultKinds() {
		assert.NotEmpty(t, kind.About(), kind)
		rapid.Check(t, func(rt *rapid.T) {
			f := genFault(nodes, time.Second, kind).Draw(rt, "fault")
			require.Equal(rt, kind, f.Kind())
			known := func(id sim.NodeID) bool { return id == "a" || id == "b" || id == "c" }
			require.NoError(rt, f.Validate(known), "%s", f)
		})
	}
}

// A plan survives a trip through JSON exactly.
func TestParseFaultsRoundTrip(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		nodes := genNodes(1, 5).Draw(rt, "nodes")
		plan := genPlan(nodes, time.Hour, 12).Draw(rt, "plan")
		// Durations at full nanosecond precision, to check the text form is exact.
		for i := range plan {
			if rapid.Bool().Draw(rt, "ns") {
				plan[i].At += sim.Duration(rapid.Int64Range(0, 999_999).Draw(rt, "ns_at"))
			}
		}
		data, err := json.Marshal(plan)
		require.NoError(rt, err)
		back, err := sim.ParseFaults(data)
		require.NoError(rt, err, "%s", data)
		if len(plan) == 0 {
			assert.Empty(rt, back)
			return
		}
		require.Equal(rt, plan, back, "%s", data)

		// And pretty-printed, as people save plans.
		data, err = json.MarshalIndent(plan, "", "  ")
		require.NoError(rt, err)
		back, err = sim.ParseFaults(data)
		require.NoError(rt, err)
		require.Equal(rt, plan, back)
	})
}

// Durations are written as Go duration text, and read back exactly at the
// extremes of their range.
func TestDurationText(t *testing.T) {
	for _, d := range []time.Duration{0, 1, -1, 999, time.Microsecond + 1, 1500 * time.Millisecond,
		time.Hour + time.Nanosecond, 1<<63 - 1, -1 << 63} {
		b, err := sim.Duration(d).MarshalText()
		require.NoError(t, err)
		assert.Equal(t, d.String(), string(b))
		var back sim.Duration
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, sim.Duration(d), back, "%s", b)
	}
	var d sim.Duration
	assert.Error(t, d.UnmarshalText([]byte("soon")))
	assert.Error(t, d.UnmarshalText([]byte("")))
	assert.Error(t, d.UnmarshalText([]byte("5")), "a bare number has no unit")
}

func TestParseFaultsRejects(t *testing.T) {
	cases := map[string]string{
		"not json":             `crash at 1s`,
		"empty input":          ``,
		"object, not list":     `{"at":"1s","kind":"crash","nodes":["a"]}`,
		"unknown kind":         `[{"at":"1s","kind":"meteor","nodes":["a"]}]`,
		"empty kind":           `[{"at":"1s","nodes":["a"]}]`,
		"unknown field":        `[{"at":"1s","kind":"crash","nodes":["a"],"color":"red"}]`,
		"misspelt field":       `[{"at":"1s","kind":"crash","node":["a"]}]`,
		"bad duration":         `[{"at":"soon","kind":"heal"}]`,
		"number duration":      `[{"at":1000,"kind":"heal"}]`,
		"negative time":        `[{"at":"-1s","kind":"heal"}]`,
		"crash without nodes":  `[{"at":"1s","kind":"crash"}]`,
		"partition no cuts":    `[{"at":"1s","kind":"partition"}]`,
		"clog without for":     `[{"at":"1s","kind":"clog"}]`,
		"loss ppm too big":     `[{"at":"1s","kind":"loss","loss_ppm":1000001}]`,
		"loss ppm negative":    `[{"at":"1s","kind":"loss","loss_ppm":-1}]`,
		"dup ppm too big":      `[{"at":"1s","kind":"loss","dup_ppm":1000001}]`,
		"skew ppm too small":   `[{"at":"1s","kind":"clock-skew","nodes":["a"],"drift_ppm":-1000000}]`,
		"arm ppm too big":      `[{"at":"1s","kind":"failpoint-arm","failpoint":"x/y","probability_ppm":1000001}]`,
		"another kind's field": `[{"at":"1s","kind":"crash","nodes":["a"],"for":"1s"}]`,
		"field in capitals":    `[{"at":"1s","kind":"crash","Nodes":["a"]}]`,
		"no at":                `[{"kind":"heal"}]`,
		"null fault":           `[null]`,
		"fault not an object":  `["crash"]`,
		"old loss ppm":         `[{"at":"1s","kind":"loss","ppm":1000}]`,
		"old skew ppm":         `[{"at":"1s","kind":"clock-skew","nodes":["a"],"ppm":1000}]`,
		"old arm ppm":          `[{"at":"1s","kind":"failpoint-arm","failpoint":"x/y","ppm":1000}]`,
		"slow without delay":   `[{"at":"1s","kind":"disk-slow","nodes":["a"],"for":"1s"}]`,
		"arm without name":     `[{"at":"1s","kind":"failpoint-arm"}]`,
		"arm negative count":   `[{"at":"1s","kind":"failpoint-arm","failpoint":"x/y","count":-1}]`,
		"wrong type":           `[{"at":"1s","kind":"crash","nodes":"a"}]`,
		"truncated":            `[{"at":"1s","kind":"heal"}`,
		"trailing garbage":     `[{"at":"1s","kind":"heal"}] and then some`,
		"two lists":            `[] []`,
		"trailing bracket":     `[{"at":"1s","kind":"heal"}]]`,
	}
	names := make([]string, 0, len(cases))
	for name := range cases {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			fs, err := sim.ParseFaults([]byte(cases[name]))
			assert.Error(t, err, "accepted %s as %v", cases[name], fs)
			assert.Nil(t, fs)
		})
	}
}

// A plan written for the old flat layout, where "ppm" meant a loss rate, a
// drift or a probability by kind, is refused with an error that names the
// field and the kind's own fields, never read with a different meaning.
func TestParseFaultsRefusesTheOldLayoutClearly(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`[{"at":"1s","kind":"loss","ppm":1000,"for":"2s"}]`, `fault loss @1s: unknown field "ppm" (loss takes cuts, loss_ppm, dup_ppm, for)`},
		{`[{"at":"1s","kind":"clock-skew","nodes":["a"],"ppm":5}]`, `fault clock-skew @1s: unknown field "ppm" (clock-skew takes nodes, drift_ppm)`},
		{`[{"at":"2s","kind":"failpoint-arm","failpoint":"x/y","ppm":5}]`, `unknown field "ppm" (failpoint-arm takes failpoint, value, probability_ppm, count, nodes)`},
		{`[{"at":"1s","kind":"heal","nodes":["a"]}]`, `fault heal @1s: unknown field "nodes" (heal takes no fields)`},
		{`[{"at":"1s","kind":"meteor"}]`, `unknown kind "meteor" (known: [clock-jump clock-skew clog crash`},
	} {
		_, err := sim.ParseFaults([]byte(c.in))
		require.Error(t, err, c.in)
		assert.Contains(t, err.Error(), c.want)
	}
}

func TestParseFaultsAccepts(t *testing.T) {
	fs, err := sim.ParseFaults([]byte(`
	  [ {"at": "1.5s", "kind": "partition", "cuts": [{"from": ["a"], "to": ["b", "c"]}]},
	    {"at": "2s",   "kind": "heal"} ]
	`))
	require.NoError(t, err)
	require.Equal(t, []sim.Fault{
		{At: at(1500 * time.Millisecond), Op: sim.Partition{Cuts: []sim.Cut{{From: ids("a"), To: ids("b", "c")}}}},
		{At: at(2 * time.Second), Op: sim.Heal{}},
	}, fs)

	fs, err = sim.ParseFaults([]byte(`[]`))
	require.NoError(t, err)
	assert.Empty(t, fs)
}

// Whatever the bytes, ParseFaults returns an error or a valid plan; it never
// panics.
func TestParseFaultsNeverPanics(t *testing.T) {
	valid, err := json.Marshal([]sim.Fault{
		{At: at(time.Second), Op: sim.Crash{Nodes: ids("a"), Torn: true}},
		{At: at(2 * time.Second), Op: sim.Loss{LossPPM: 10, For: at(time.Second)}},
		{At: at(3 * time.Second), Op: sim.ArmFailpoint{Failpoint: "x/y", Value: "1", Count: 2}},
	})
	require.NoError(t, err)
	rapid.Check(t, func(rt *rapid.T) {
		var data []byte
		if rapid.Bool().Draw(rt, "mutate") {
			// Mutate a valid plan: flip, insert and delete bytes.
			data = append([]byte(nil), valid...)
			for i, n := 0, rapid.IntRange(1, 8).Draw(rt, "edits"); i < n && len(data) > 0; i++ {
				pos := rapid.IntRange(0, len(data)-1).Draw(rt, "pos")
				switch rapid.IntRange(0, 2).Draw(rt, "edit") {
				case 0:
					data[pos] = rapid.SampledFrom([]byte(`[]{}",:-0123456789.abcdefghijklmnopqrstuvwxyz `)).Draw(rt, "byte")
				case 1:
					data = append(data[:pos], data[pos+1:]...)
				default:
					data = append(data[:pos], append([]byte{rapid.Byte().Draw(rt, "ins")}, data[pos:]...)...)
				}
			}
		} else {
			data = rapid.SliceOfN(rapid.Byte(), 0, 64).Draw(rt, "bytes")
		}
		fs, err := sim.ParseFaults(data)
		if err != nil {
			assert.Nil(rt, fs)
			return
		}
		for _, f := range fs {
			assert.NoError(rt, f.Validate(nil))
		}
	})
}

func TestScheduleValidatesAgainstTheWorld(t *testing.T) {
	w := sim.NewWorld(sim.Config{Seed: 1})
	w.AddNode("a", func() sim.Node { return &probe{tp: &tape{w: w}, h: &hooks{}} })

	err := w.Schedule([]sim.Fault{
		{At: at(time.Second), Op: sim.Crash{Nodes: ids("a")}},
		{At: at(2 * time.Second), Op: sim.Crash{Nodes: ids("ghost")}},
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ghost")
	err = w.Schedule([]sim.Fault{{At: at(time.Second), Op: sim.Partition{Cuts: []sim.Cut{{From: ids("a"), To: ids("ghost")}}}}})
	require.Error(t, err, "cuts name nodes too")
	require.Error(t, w.Inject(sim.Pause{Nodes: ids("ghost")}))

	// Nothing of a rejected plan was scheduled.
	w.Run(sim.Limits{Until: 5 * time.Second})
	assert.True(t, w.Up("a"))
	assert.Empty(t, w.Faults())
}

// Faults at the same time apply in the order given, and Faults reports
// them as applied.
func TestFaultsReportedInOrder(t *testing.T) {
	w, tp := newWorld(sim.Config{Seed: 3})
	addProbe(w, tp, "a", &hooks{})
	addProbe(w, tp, "b", &hooks{})
	plan := []sim.Fault{
		{At: at(ms(20)), Op: sim.Heal{}},
		{At: at(ms(10)), Op: sim.Crash{Nodes: ids("a")}},
		{At: at(ms(10)), Op: sim.Restart{Nodes: ids("a")}},
		{At: at(ms(10)), Op: sim.Pause{Nodes: ids("b")}},
	}
	require.NoError(t, w.Schedule(plan))
	w.Run(sim.Limits{Until: time.Second})
	got := w.Faults()
	require.Len(t, got, 4)
	kinds := make([]sim.FaultKind, len(got))
	for i, f := range got {
		kinds[i] = f.Fault.Kind()
	}
	assert.Equal(t, []sim.FaultKind{sim.FaultCrash, sim.FaultRestart, sim.FaultPause, sim.FaultHeal}, kinds)
	assert.Equal(t, ms(10), got[0].At)
	assert.Equal(t, ms(20), got[3].At)
	assert.True(t, w.Up("a"))
	assert.True(t, w.Paused("b"))
	assert.Equal(t, uint64(2), w.Stats("a").Starts)
	assert.Equal(t, uint64(1), w.Stats("a").Crashes)
}

func TestFaultString(t *testing.T) {
	f := sim.Fault{At: at(1500 * time.Millisecond), Op: sim.Partition{Cuts: sim.OneWay(ids("a"), ids("b"))}}
	s := f.String()
	assert.True(t, strings.HasPrefix(s, "partition @1.5s"), s)
	assert.Contains(t, s, "[a] -/-> [b]")
}

func TestAimedRetargetsKindsThatTakeATarget(t *testing.T) {
	all := ids("a", "b", "c")
	f, ok := sim.Fault{At: at(time.Second), Op: sim.Pause{}}.Aimed("b", all)
	require.True(t, ok)
	assert.Equal(t, sim.Fault{At: at(time.Second), Op: sim.Pause{Nodes: ids("b")}}, f)

	f, ok = sim.Fault{Op: sim.Partition{}}.Aimed("a", all)
	require.True(t, ok)
	assert.Equal(t, sim.Partition{Cuts: sim.Isolate("a", all)}, f.Op)

	f, ok = sim.Fault{Op: sim.ArmFailpoint{Failpoint: "x/y", Nodes: ids("c")}}.Aimed("a", all)
	require.True(t, ok)
	assert.Equal(t, ids("a"), f.Op.(sim.ArmFailpoint).Nodes)

	for _, op := range []sim.FaultOp{sim.Heal{}, sim.DisarmFailpoint{Failpoint: "x/y"}, nil} {
		_, ok = sim.Fault{Op: op}.Aimed("a", all)
		assert.False(t, ok, "%T takes no target", op)
	}
}

// periodLines prints periods one a line: scope kind span (or @moment label).
func periodLines(ps []sim.Period) []string {
	var out []string
	for _, p := range ps {
		scope := "network"
		switch {
		case p.Node != "":
			scope = string(p.Node)
		case p.Failpoint != "":
			scope = "fp " + p.Failpoint
		}
		if p.Point {
			out = append(out, fmt.Sprintf("%s %s @%v %s", scope, p.Kind, p.Start, p.Label))
		} else {
			out = append(out, fmt.Sprintf("%s %s %v-%v %s", scope, p.Kind, p.Start, p.End, p.Label))
		}
	}
	return out
}

func applied(faults ...sim.Fault) []sim.AppliedFault {
	out := make([]sim.AppliedFault, len(faults))
	for i, f := range faults {
		out[i] = sim.AppliedFault{At: time.Duration(f.At), Fault: f}
	}
	return out
}

// A partition marks the nodes it cuts off from most of the others (the
// isolated node, the minority, the sender of a one-way cut), besides the
// network.
func TestPeriodsOfAPartitionMarkTheNodesCutOff(t *testing.T) {
	members := ids("n1", "n2", "n3", "n4", "n5")
	all := append(slices.Clone(members), "c0", "c1")
	cutOff := func(cuts []sim.Cut, nodes []sim.NodeID) []string {
		var out []string
		for _, p := range sim.Periods(applied(sim.Fault{Op: sim.Partition{Cuts: cuts}}), nodes, time.Second) {
			require.Equal(t, sim.PeriodPartitioned, p.Kind)
			if p.Node != "" {
				out = append(out, string(p.Node))
			}
		}
		return out
	}
	assert.Equal(t, []string{"n3"}, cutOff(sim.Isolate("n3", all), all))
	assert.Equal(t, []string{"n4", "n5"}, cutOff(sim.Split(ids("n1", "n2", "n3"), ids("n4", "n5")), all))
	assert.Equal(t, []string{"n1"}, cutOff(sim.OneWay(ids("n1"), ids("n2", "n3", "n4", "n5")), all))
	assert.Empty(t, cutOff(sim.Ring(members), all), "a ring cuts every node off from a minority only")
	assert.Equal(t, []string{"x"}, cutOff(sim.Isolate("x", ids("x", "n1", "n2")), members), "unknown nodes come last")
}

// The kernel's rules, stated once: a clog of every link stalls every node,
// loss on every link is the network's; a heal ends partitions and loss,
// timed or not, but not a clog (what it held arrives at its end); a disk heal ends slow spells; a skew lasts until the
// next; a restart ends a crash, and of a running node is a moment.
func TestPeriodsFollowTheKernelsRules(t *testing.T) {
	nodes := ids("a", "b", "c")
	ps := sim.Periods(applied(
		sim.Fault{At: at(ms(10)), Op: sim.Clog{For: at(ms(20))}},
		sim.Fault{At: at(ms(10)), Op: sim.Loss{LossPPM: 1000}},
		sim.Fault{At: at(ms(15)), Op: sim.Loss{LossPPM: 1000, For: at(ms(100)), Cuts: sim.Isolate("b", nodes)}},
		sim.Fault{At: at(ms(20)), Op: sim.DiskSlow{Nodes: ids("a"), Delay: at(ms(1)), For: at(ms(100))}},
		sim.Fault{At: at(ms(25)), Op: sim.ClockSkew{Nodes: ids("b"), DriftPPM: 10}},
		sim.Fault{At: at(ms(30)), Op: sim.Crash{Nodes: ids("a")}},
		sim.Fault{At: at(ms(35)), Op: sim.ClockSkew{Nodes: ids("b"), DriftPPM: -20}},
		sim.Fault{At: at(ms(40)), Op: sim.Restart{Nodes: ids("a", "b")}},
		sim.Fault{At: at(ms(50)), Op: sim.Heal{}},
		sim.Fault{At: at(ms(60)), Op: sim.DiskHeal{Nodes: ids("a")}},
		sim.Fault{At: at(ms(70)), Op: sim.ClockJump{Nodes: ids("a"), Jump: at(-time.Second)}},
	), nodes, ms(80))
	assert.Equal(t, []string{
		"network clogged 10ms-30ms clogged",
		"a clogged 10ms-30ms clogged",
		"b clogged 10ms-30ms clogged",
		"c clogged 10ms-30ms clogged",
		"network lossy 10ms-50ms lossy",
		"network lossy 15ms-50ms lossy",
		"b lossy 15ms-50ms lossy",
		"a disk-slow 20ms-60ms slow disk",
		"b clock-skew 25ms-35ms skew +10ppm",
		"a down 30ms-40ms down",
		"b clock-skew 35ms-80ms skew -20ppm",
		"b restart @40ms restart",
		"a clock-jump @70ms clock -1s",
	}, periodLines(ps))
	down := ps[slices.IndexFunc(ps, func(p sim.Period) bool { return p.Kind == sim.PeriodDown })]
	assert.Equal(t, "crash @30ms [a]; ended by restart @40ms [a b]", down.Detail)
}

// Periods of a real run: a death by panic shows the node down until its
// restart, like a crash, with the panic in the detail; an armed failpoint
// shows on its own scope until disarmed.
func TestPeriodsOfARunShowDeaths(t *testing.T) {
	w, tp := newWorld(sim.Config{Seed: 7, Network: quietNet()})
	all := ids("a", "b", "c")
	for _, id := range all {
		addProbe(w, tp, id, chatter(all, ms(10)))
	}
	require.NoError(t, w.Schedule([]sim.Fault{
		{At: at(ms(50)), Op: sim.ArmFailpoint{Failpoint: fpPanic, Nodes: ids("b"), Count: 1}},
		{At: at(ms(100)), Op: sim.Partition{Cuts: sim.Isolate("c", all)}},
		{At: at(ms(150)), Op: sim.DisarmFailpoint{Failpoint: fpPanic}},
		{At: at(ms(200)), Op: sim.Restart{Nodes: ids("b")}},
	}))
	w.Run(sim.Limits{Until: ms(300)})
	ps := sim.Periods(w.Faults(), w.NodeIDs(), ms(300))
	lines := periodLines(ps)
	require.Len(t, lines, 4, "%v", lines)
	assert.Equal(t, "fp test/panic failpoint 50ms-150ms armed", lines[0])
	assert.Regexp(t, `^b down [5-6][\d.]*ms-200ms down$`, lines[1])
	assert.Equal(t, []string{"c partitioned 100ms-300ms cut off", "network partitioned 100ms-300ms partition"}, lines[2:])
	assert.Contains(t, ps[1].Detail, "(panic: failpoint test/panic)")
}
