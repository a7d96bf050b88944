package rehearsal

import (
	"strings"
	"time"

	"github.com/sofasim/sofasim/nodes/mesh"
	"github.com/sofasim/sofasim/sim"
)

// Metrics collects the rehearsal's per-second counters. Nodes report to
// it from inside their events (like an observer: they only record) and
// it stamps the world's time, counted in seconds of traffic (after the
// warm-up).
type Metrics struct {
	w        *sim.World
	warmup   time.Duration
	Services map[string]*svcSeries
	names    []string
	// Transactions, at the services that begin them.
	commits, rollbacks, unknown []int64
	commitLat                   []Hist
	// Registry probe: publication times by sequence, push delays.
	probePub  map[int]time.Duration
	probeSeen map[int]bool
	pushDelay []Hist
	// xDS: responses sent by nonce, delay to the sidecar's answer.
	xdsSent   map[string]time.Duration
	xdsDelay  []Hist
	xdsPushes []int64
}

// svcSeries is one service's raw per-second counters, by callers' view.
type svcSeries struct {
	offered, ok, failed     []int64
	retries, trips, ejected []int64
	lat                     []Hist
	queue, busy, capacity   []int64 // sums of samples
	samples                 []int64
	maxQueue                []int64 // the longest one instance's queue
}

func newMetrics(w *sim.World, warmup time.Duration, services []string) *Metrics {
	m := &Metrics{w: w, warmup: warmup, Services: map[string]*svcSeries{}, names: services,
		probePub: map[int]time.Duration{}, probeSeen: map[int]bool{}, xdsSent: map[string]time.Duration{}}
	for _, s := range services {
		m.Services[s] = &svcSeries{}
	}
	return m
}

// sec is the current second of traffic (negative during the warm-up).
func (m *Metrics) sec() int {
	t := m.w.Now() - m.warmup
	if t < 0 {
		return -1
	}
	return int(t / time.Second)
}

func grow[T any](s []T, i int) []T {
	if i >= len(s) {
		s = append(s, make([]T, i+1-len(s))...)
	}
	return s
}

func inc(s *[]int64, i int, n int64) {
	if i < 0 {
		return
	}
	*s = grow(*s, i)
	(*s)[i] += n
}

func addLat(s *[]Hist, i int, d time.Duration) {
	if i < 0 {
		return
	}
	*s = grow(*s, i)
	(*s)[i].Add(d)
}

// issued: a request to service was sent.
func (m *Metrics) issued(service string) {
	if s := m.Services[service]; s != nil {
		inc(&s.offered, m.sec(), 1)
	}
}

// answered: a request to service sent at start was answered.
func (m *Metrics) answered(service string, start time.Duration, ok bool) {
	s := m.Services[service]
	if s == nil {
		return
	}
	i := m.sec()
	if ok {
		inc(&s.ok, i, 1)
		addLat(&s.lat, i, m.w.Now()-start)
	} else {
		inc(&s.failed, i, 1)
	}
}

// transaction: a global transaction begun at start ended with outcome.
func (m *Metrics) transaction(start time.Duration, committed, known bool) {
	i := m.sec()
	switch {
	case committed:
		inc(&m.commits, i, 1)
		addLat(&m.commitLat, i, m.w.Now()-start)
	case known:
		inc(&m.rollbacks, i, 1)
	default:
		inc(&m.unknown, i, 1)
	}
}

func (m *Metrics) probePublished(seq int) { m.probePub[seq] = m.w.Now() }

func (m *Metrics) probePushed(seq int) {
	at, ok := m.probePub[seq]
	if !ok || m.probeSeen[seq] {
		return
	}
	m.probeSeen[seq] = true
	addLat(&m.pushDelay, m.sec(), m.w.Now()-at)
}

// sample adds one sample of an instance's worker pool.
func (m *Metrics) sample(service string, busy, queued, workers int) {
	s := m.Services[service]
	i := m.sec()
	if s == nil || i < 0 {
		return
	}
	inc(&s.busy, i, int64(busy))
	inc(&s.queue, i, int64(queued))
	inc(&s.capacity, i, int64(workers))
	inc(&s.maxQueue, i, 0)
	s.maxQueue[i] = max(s.maxQueue[i], int64(queued))
}

func (m *Metrics) sampled() {
	i := m.sec()
	for _, n := range m.names {
		inc(&m.Services[n].samples, i, 1)
	}
}

// Observe takes the mesh's events: retries, breaker trips, ejections and
// the xDS exchange.
func (m *Metrics) Observe(_ sim.NodeID, ev mesh.Event) {
	i := m.sec()
	switch x := ev.(type) {
	case mesh.Retry:
		if s := m.Services[clusterService(x.Cluster)]; s != nil && x.Admitted {
			inc(&s.retries, i, 1)
		}
	case mesh.Overflow:
		if s := m.Services[clusterService(x.Cluster)]; s != nil {
			inc(&s.trips, i, 1)
		}
	case mesh.Ejection:
		if s := m.Services[clusterService(x.Cluster)]; s != nil && x.Ejected {
			inc(&s.ejected, i, 1)
		}
	case mesh.XDSEvent:
		switch x.Kind {
		case mesh.XDSResponse:
			m.xdsSent[x.Nonce] = m.w.Now()
			inc(&m.xdsPushes, i, 1)
		case mesh.XDSAck, mesh.XDSNack:
			if at, ok := m.xdsSent[x.Nonce]; ok {
				delete(m.xdsSent, x.Nonce)
				addLat(&m.xdsDelay, i, m.w.Now()-at)
			}
		case mesh.XDSStreamClosed:
		}
	}
}

func clusterService(c string) string {
	c = strings.TrimPrefix(c, "outbound|")
	if i := strings.IndexByte(c, '|'); i >= 0 {
		c = c[:i]
	}
	return c
}
