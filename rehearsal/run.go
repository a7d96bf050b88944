package rehearsal

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/sofasim/sofasim/internal/procstat"
	"github.com/sofasim/sofasim/sim"
)

// Progress is what a progress bar shows while a rehearsal runs.
type Progress struct {
	Virtual, Total time.Duration // virtual time so far and at the end
	Second         int           // of traffic (negative in the warm-up)
	Rate           int64         // requests a second offered now
}

// Options of a run.
type Options struct {
	// Seed overrides the file's seed when non-zero.
	Seed     uint64
	Progress func(Progress)
	// Override changes the instance counts of services (capacity search):
	// the total, spread over the zones as evenly as possible.
	Override map[string]int
	// SampleEvery: worker pools are sampled this often (default 250ms).
	SampleEvery time.Duration
}

// TargetUtil is the peak worker utilisation a capacity estimate aims at:
// headroom for noise and for the instances a lost zone takes away.
const TargetUtil = 0.7

// Run runs a rehearsal to its end and judges it.
func Run(f *File, o Options) *Result {
	seed := f.Seed
	if o.Seed != 0 {
		seed = o.Seed
	}
	if len(o.Override) > 0 {
		f = f.withInstances(o.Override)
	}
	every := o.SampleEvery
	if every <= 0 {
		every = DefaultSampleEvery
	}
	h := build(f, seed, every)
	end := h.warmup + f.Duration() + f.TailDuration()
	cpu0 := procstat.CPUTime()
	var peak uint64
	var ms runtime.MemStats
	for t := time.Second; t <= end; t += time.Second {
		h.w.Run(sim.Limits{Until: t})
		if o.Progress != nil {
			sec := int((t - h.warmup) / time.Second)
			o.Progress(Progress{Virtual: t, Total: end, Second: sec, Rate: h.rate.Milli(t-h.warmup) / 1000})
		}
		if t%(10*time.Second) == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	runtime.ReadMemStats(&ms)
	peak = max(peak, ms.HeapInuse)
	r := h.result(seed)
	if cpu := procstat.CPUTime() - cpu0; cpu > 0 {
		r.CPU = cpu.Seconds()
		r.CPUSpeedup = r.Virtual / r.CPU
	}
	r.PeakHeapMB = float64(peak) / (1 << 20)
	r.PeakRSSMB = procstat.PeakRSS()
	return r
}

func (h *harness) result(seed uint64) *Result {
	f := h.f
	n := int(f.Duration() / time.Second)
	wall := h.w.Wall()
	r := &Result{Format: ResultFormat, Name: f.Name, Seed: seed, Fingerprint: fmt.Sprintf("%016x", h.w.Fingerprint()),
		Events: h.w.Events(), Virtual: h.w.Now().Seconds(), Wall: wall.Seconds(), Seconds: n, File: f, Drills: h.drills}
	if wall > 0 {
		r.Speedup = float64(h.w.Now()) / float64(wall)
	}
	for s := range n {
		r.Rate = append(r.Rate, float64(h.rate.Milli(time.Duration(s)*time.Second+time.Second/2))/1000)
	}
	for _, s := range f.Services {
		r.Services = append(r.Services, h.m.series(s, n, slices.Contains(f.Traffic.Entry, s.Name)))
	}
	r.System = h.m.system(n)
	if r.Drills == nil {
		r.Drills = []DrillMark{}
	}
	// Peak utilisation, the capacity figure, leaves out the drills' grace
	// periods: a worker pool held by a failover says nothing of capacity.
	for i := range r.Services {
		s := &r.Services[i]
		s.PeakUtil = 0
		for k, u := range s.Util {
			if !r.inGrace(k, time.Duration(f.SLO.Grace)) {
				s.PeakUtil = max(s.PeakUtil, u)
			}
		}
		s.Estimate = max(int(math.Ceil(float64(s.Instances)*s.PeakUtil/TargetUtil)), 1)
	}
	r.Correctness, r.Unjudged = h.invariants()
	if r.Correctness == nil {
		r.Correctness = []string{}
	}
	r.Verdict = judge(f, r)
	if r.Verdict.First != nil {
		r.Verdict.Cause = r.cause(f, r.Verdict.First.Second)
	}
	return r
}

// at reads s[i], zero past the end.
func at[T any](s []T, i int) T {
	var z T
	if i < len(s) {
		return s[i]
	}
	return z
}

func (m *Metrics) series(s Service, n int, entry bool) ServiceSeries {
	raw := m.Services[s.Name]
	out := ServiceSeries{Name: s.Name, Entry: entry, Instances: s.Total(), Workers: s.Workers}
	var total Hist
	var ok, failed int64
	for i := range n {
		out.Offered = append(out.Offered, at(raw.offered, i))
		g, fl := at(raw.ok, i), at(raw.failed, i)
		out.Goodput, out.Failed = append(out.Goodput, g), append(out.Failed, fl)
		ok, failed = ok+g, failed+fl
		succ := 1.0
		if g+fl > 0 {
			succ = float64(g) / float64(g+fl)
		}
		out.Success = append(out.Success, succ)
		h := at(raw.lat, i)
		total.Merge(&h)
		out.P50 = append(out.P50, ms(h.Quantile(500_000)))
		out.P99 = append(out.P99, ms(h.Quantile(990_000)))
		out.P999 = append(out.P999, ms(h.Quantile(999_000)))
		var q, u float64
		if k := at(raw.samples, i); k > 0 {
			q = float64(at(raw.queue, i)) / float64(k)
		}
		if c := at(raw.capacity, i); c > 0 {
			u = float64(at(raw.busy, i)) / float64(c)
		}
		out.Queue, out.Util = append(out.Queue, q), append(out.Util, u)
		out.MaxQueue = append(out.MaxQueue, at(raw.maxQueue, i))
		out.Retries = append(out.Retries, at(raw.retries, i))
		out.Trips = append(out.Trips, at(raw.trips, i))
		out.Ejections = append(out.Ejections, at(raw.ejected, i))
	}
	out.Requests = ok + failed
	out.SuccessTotal = 1
	if ok+failed > 0 {
		out.SuccessTotal = float64(ok) / float64(ok+failed)
	}
	out.P99Total = ms(total.Quantile(990_000))
	return out
}

func (m *Metrics) system(n int) SystemSeries {
	var s SystemSeries
	for i := range n {
		s.Commits = append(s.Commits, at(m.commits, i))
		s.Rollbacks = append(s.Rollbacks, at(m.rollbacks, i))
		s.Unknown = append(s.Unknown, at(m.unknown, i))
		c := at(m.commitLat, i)
		s.CommitP50 = append(s.CommitP50, ms(c.Quantile(500_000)))
		s.CommitP99 = append(s.CommitP99, ms(c.Quantile(990_000)))
		p := at(m.pushDelay, i)
		s.PushP99 = append(s.PushP99, ms(p.Quantile(990_000)))
		s.XDSPushes = append(s.XDSPushes, at(m.xdsPushes, i))
		x := at(m.xdsDelay, i)
		s.XDSP99 = append(s.XDSP99, ms(x.Quantile(990_000)))
	}
	return s
}

// withInstances returns a copy of the file with new instance totals,
// spread over the zones in order.
func (f *File) withInstances(total map[string]int) *File {
	g := *f
	g.Services = slices.Clone(f.Services)
	for i := range g.Services {
		n, ok := total[g.Services[i].Name]
		if !ok {
			continue
		}
		inst := map[string]int{}
		for k, z := range f.Zones {
			inst[z] = n / len(f.Zones)
			if k < n%len(f.Zones) {
				inst[z]++
			}
		}
		g.Services[i].Instances = inst
	}
	return &g
}
