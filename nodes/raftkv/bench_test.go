package raftkv

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkScenario measures the budget scenario: 5 members, 10 clients,
// 60 virtual seconds, at several client think times (0: idle cluster).
func BenchmarkScenario(b *testing.B) {
	for _, think := range []time.Duration{0, 100 * time.Millisecond, 20 * time.Millisecond, 5 * time.Millisecond} {
		b.Run(fmt.Sprintf("think=%v", think), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				clients := 10
				if think == 0 {
					clients = 0
				}
				c := newCluster(uint64(i+1), clusterOpts{members: 5, clients: clients, think: think})
				c.run(60 * time.Second)
				b.ReportMetric(float64(60*time.Second)/float64(c.w.Wall()), "x-realtime")
				b.ReportMetric(float64(c.okOps), "ops")
				b.ReportMetric(float64(c.w.Events()), "events")
			}
		})
	}
}
