package rehearsal

import (
	"fmt"
	"time"
)

func fmtViolation(v Violation, format string) string {
	return fmt.Sprintf(format, v.Service, v.Second, v.Metric, v.Got, v.Limit)
}

// judge checks the SLOs second by second; seconds within the grace after
// a drill begins or ends (its crashed nodes restart) are skipped, and
// seconds with no request judge nothing for a service.
func judge(f *File, r *Result) Verdict {
	grace := time.Duration(f.SLO.Grace)
	var all []Violation
	seen := map[string]bool{}
	add := func(v Violation) {
		if k := v.Service + "/" + v.Metric; !seen[k] {
			seen[k] = true
			all = append(all, v)
		}
	}
	limit := func(svc string, s int, metric string, got float64, lim time.Duration) {
		if lim > 0 && got > ms(lim) {
			add(Violation{Service: svc, Second: s, Metric: metric, Got: got, Limit: ms(lim), Unit: "ms"})
		}
	}
	for s := 0; s < r.Seconds; s++ {
		if r.inGrace(s, grace) {
			continue
		}
		for _, o := range f.SLO.Services {
			ss := r.service(o.Service)
			if ss == nil || ss.Offered[s]+ss.Failed[s]+ss.Goodput[s] == 0 {
				continue
			}
			if o.SuccessPPM > 0 && ss.Success[s]*1e6 < float64(o.SuccessPPM) {
				add(Violation{Service: o.Service, Second: s, Metric: "success rate", Got: 100 * ss.Success[s], Limit: float64(o.SuccessPPM) / 1e4, Unit: "%"})
			}
			limit(o.Service, s, "p50", ss.P50[s], time.Duration(o.P50))
			limit(o.Service, s, "p99", ss.P99[s], time.Duration(o.P99))
			limit(o.Service, s, "p99.9", ss.P999[s], time.Duration(o.P999))
		}
		limit("coordinator", s, "commit p99", r.System.CommitP99[s], time.Duration(f.SLO.CommitP99))
		limit("registry", s, "push delay p99", r.System.PushP99[s], time.Duration(f.SLO.RegistryPushP99))
	}
	v := Verdict{Met: len(all) == 0, Violations: all}
	if len(all) > 0 {
		v.First = &all[0]
	}
	return v
}

func (r *Result) service(name string) *ServiceSeries {
	for i := range r.Services {
		if r.Services[i].Name == name {
			return &r.Services[i]
		}
	}
	return nil
}

// inGrace reports whether second s is within grace after a drill began or
// after its crashed nodes restarted.
func (r *Result) inGrace(s int, grace time.Duration) bool {
	t := time.Duration(s) * time.Second
	for _, d := range r.Drills {
		if t >= d.At && t < d.At+grace || d.Until > 0 && t >= d.Until && t < d.Until+grace {
			return true
		}
	}
	return false
}
