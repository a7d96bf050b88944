package rehearsal

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/sim"
)

func series(n int, p99 float64) ServiceSeries {
	s := ServiceSeries{Name: "cart", Entry: true}
	for range n {
		s.Offered = append(s.Offered, 100)
		s.Goodput = append(s.Goodput, 100)
		s.Failed = append(s.Failed, 0)
		s.Success = append(s.Success, 1)
		s.P50 = append(s.P50, p99/4)
		s.P99 = append(s.P99, p99)
		s.P999 = append(s.P999, p99*2)
	}
	return s
}

func TestJudgeNamesTheFirstViolationAndSkipsGrace(t *testing.T) {
	f := &File{SLO: SLO{Grace: sim.Duration(3 * time.Second), CommitP99: sim.Duration(100 * time.Millisecond),
		Services: []ServiceSLO{{Service: "cart", SuccessPPM: 990_000, P99: sim.Duration(200 * time.Millisecond)}}}}
	r := &Result{Seconds: 10, Services: []ServiceSeries{series(10, 50)},
		System: SystemSeries{CommitP99: make([]float64, 10), PushP99: make([]float64, 10)},
		Drills: []DrillMark{{At: 2 * time.Second}}}
	require.True(t, judge(f, r).Met)

	// In the grace after the drill (seconds 2..4): not judged.
	r.Services[0].Success[3] = 0.5
	require.True(t, judge(f, r).Met)
	// After it: the success rate at second 6, then p99 at 7, commit at 8.
	r.Services[0].Success[6] = 0.98
	r.Services[0].P99[7] = 250
	r.System.CommitP99[8] = 150
	v := judge(f, r)
	require.False(t, v.Met)
	require.Equal(t, Violation{Service: "cart", Second: 6, Metric: "success rate", Got: 98, Limit: 99, Unit: "%"}, *v.First)
	require.Equal(t, "cart at second 6: success rate 98.000% < 99.000%", v.First.String())
	require.Len(t, v.Violations, 3)
	require.Equal(t, "coordinator", v.Violations[2].Service)
	require.Equal(t, 8, v.Violations[2].Second)
}
