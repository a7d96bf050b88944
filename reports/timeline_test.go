package reports

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

func TestPeriods(t *testing.T) {
	r := sampleRun(t).Result
	nodes := []sim.NodeID{"n1", "n2", "n3", "c0"}
	ps := Periods(r.Faults, nodes, r.Bugs, time.Duration(r.HealAt), time.Duration(r.Virtual))
	var got []string
	for _, p := range ps {
		s := fmt.Sprintf("%s %s %v-%v", p.Lane, p.Kind, p.Start, p.End)
		if p.Point {
			s = fmt.Sprintf("%s %s @%v %s", p.Lane, p.Kind, p.Start, p.Label)
		}
		got = append(got, s)
	}
	want := []string{
		"n1 down 5ms-20ms",
		"n2 paused 8ms-30ms",
		"n2 clock-jump @18ms clock -2s",
		"n2 disk-fault @26ms corrupt",
		"n3 partitioned 12ms-40ms",
		"n3 clock-skew 22ms-40ms",
		"n3 disk-slow 25ms-35ms",
		"network partitioned 12ms-40ms",
		"network lossy 15ms-40ms", // cut short by the heal
		"network lossy 16ms-21ms", // overlapping, ends on its own
		"failpoint bug/demo/stale bug 0s-70ms",
		"failpoint raftkv/slow-apply failpoint 28ms-34ms",
		"liveness liveness 40ms-70ms",
	}
	assert.Equal(t, want, got)
	assert.Equal(t, []string{"n1", "n2", "n3", "c0", "network", "failpoint bug/demo/stale", "failpoint raftkv/slow-apply", "liveness"},
		Lanes(nodes, ps))

	ann := Annotations(ps)
	require.Len(t, ann, len(ps))
	assert.Equal(t, "n1", ann[0].Tag)
	assert.Equal(t, int64(5*time.Millisecond), ann[0].Start)
	assert.Equal(t, int64(20*time.Millisecond), ann[0].End)
	assert.NotEmpty(t, ann[0].BackgroundColor)
	assert.True(t, strings.Contains(ann[0].Details, "crash @5ms"), ann[0].Details)
}

func TestPeriodsRestartOfARunningNodeIsAMoment(t *testing.T) {
	faults := []Fault{{At: sim.Duration(time.Second), Fault: sim.Fault{At: sim.Duration(time.Second), Op: sim.Restart{Nodes: []sim.NodeID{"a"}}}}}
	ps := Periods(faults, []sim.NodeID{"a"}, nil, 2*time.Second, 3*time.Second)
	require.Len(t, ps, 2)
	assert.True(t, ps[0].Point)
	assert.Equal(t, string(sim.PeriodRestart), ps[0].Kind)
	assert.Equal(t, "restart", ps[0].Label)
	assert.Equal(t, PeriodLiveness, ps[1].Kind)
}

// A node that died by itself is listed by the kernel as a crash with a
// note, and shows down until its restart.
func TestPeriodsShowDeathsAsDown(t *testing.T) {
	crash := sim.Fault{At: sim.Duration(5 * time.Millisecond), Op: sim.Crash{Nodes: []sim.NodeID{"n1"}}}
	restart := sim.Fault{At: sim.Duration(20 * time.Millisecond), Op: sim.Restart{Nodes: []sim.NodeID{"n1"}}}
	faults := []Fault{{At: crash.At, Fault: crash, Note: "panic: boom"}, {At: restart.At, Fault: restart}}
	ps := Periods(faults, []sim.NodeID{"n1"}, nil, 0, 70*time.Millisecond)
	assert.Equal(t, Period{Lane: "n1", Kind: string(sim.PeriodDown), Start: 5 * time.Millisecond, End: 20 * time.Millisecond, Label: "down",
		Detail: "crash @5ms [n1] (panic: boom); ended by restart @20ms [n1]"}, ps[0])
}

// A kind the timeline has no colour for still gets one, and a legend entry.
func TestUnknownPeriodKindsGetAColour(t *testing.T) {
	assert.Equal(t, defaultColor, colorOf("meteor"))
	assert.NotEqual(t, defaultColor, colorOf(string(sim.PeriodDown)))
	assert.Equal(t, []string{string(sim.PeriodDown), PeriodLiveness, "meteor"},
		legendOrder(map[string]bool{"meteor": true, PeriodLiveness: true, string(sim.PeriodDown): true}))
}

func TestTickStep(t *testing.T) {
	for _, c := range []struct {
		end, step time.Duration
	}{
		{10 * time.Second, time.Second},
		{70 * time.Millisecond, 10 * time.Millisecond},
		{90 * time.Second, 10 * time.Second},
		{3 * time.Minute, 20 * time.Second},
		{time.Nanosecond, time.Nanosecond},
	} {
		assert.Equal(t, c.step, tickStep(c.end), "end %v", c.end)
		assert.LessOrEqual(t, int64(c.end/tickStep(c.end)), int64(12))
	}
}
