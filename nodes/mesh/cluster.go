package mesh

import (
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// cluster is a sidecar's live cluster: its configuration, its hosts with
// their health and outlier state, the load balancer's state and the
// circuit breakers' counters.
type cluster struct {
	cfg   Cluster
	hosts []*host // sorted by address
	rr    uint64
	ring  ringCache
	// Breaker and budget counters.
	downs   int    // downstream requests routed here and not yet answered
	active  int    // attempts in flight (sent or waiting for a connection)
	pending int    // attempts waiting for a connection
	conns   int    // connections open or opening
	retries int    // admitted retries not yet finished, backoff included
	backoff int    // admitted retries still in their backoff
	hcGen   uint64 // the running health-check loop (0: none)

	lastView lbView  // see view
	cand     []*host // pick's scratch
}

type host struct {
	ep        Endpoint
	unhealthy bool // by active health check
	hcFails   int
	hcOKs     int
	probe     uint64 // outstanding probe's sequence number (0: none)
	ejected   bool
	ejections int
	consec    int // consecutive 5xx
	active    int // attempts in flight, for least-request
	cw        int // smooth weighted round robin's current weight
}

func (h *host) available() bool { return !h.unhealthy && !h.ejected }

func (c *cluster) host(addr sim.NodeID) *host {
	i, ok := slices.BinarySearchFunc(c.hosts, addr, func(h *host, a sim.NodeID) int { return strings.Compare(string(h.ep.Addr), string(a)) })
	if !ok {
		return nil
	}
	return c.hosts[i]
}

// setHosts installs the cluster's endpoints, keeping the state of hosts
// that stay. It returns the hosts that left or changed identity.
func (c *cluster) setHosts(eps []Endpoint) (changed []sim.NodeID) {
	next := make([]*host, 0, len(eps))
	for _, ep := range eps {
		h := c.host(ep.Addr)
		if h == nil {
			h = &host{ep: ep}
		} else if h.ep.Epoch != ep.Epoch {
			changed = append(changed, ep.Addr)
		}
		h.ep = ep
		next = append(next, h)
	}
	slices.SortFunc(next, func(a, b *host) int { return strings.Compare(string(a.ep.Addr), string(b.ep.Addr)) })
	for _, h := range c.hosts {
		if !slices.ContainsFunc(next, func(n *host) bool { return n == h }) {
			changed = append(changed, h.ep.Addr)
		}
	}
	c.hosts = next
	return changed
}

// lbView is the load balancer's view at one pick, reported to observers.
type lbView struct {
	hosts, ejected, unhealthy []sim.NodeID
	panic                     bool
}

// view is the balancer's view for an Attempt event. It is rebuilt only
// when it changed: events keep the slices, so a view is never modified.
func (c *cluster) view() lbView {
	if !c.viewCurrent() {
		var v lbView
		for _, h := range c.hosts {
			v.hosts = append(v.hosts, h.ep.Addr)
			if h.ejected {
				v.ejected = append(v.ejected, h.ep.Addr)
			}
			if h.unhealthy {
				v.unhealthy = append(v.unhealthy, h.ep.Addr)
			}
		}
		c.lastView = v
	}
	return c.lastView
}

// viewCurrent compares the last view with the hosts without allocating.
func (c *cluster) viewCurrent() bool {
	v := &c.lastView
	if len(v.hosts) != len(c.hosts) {
		return false
	}
	e, u := 0, 0
	for i, h := range c.hosts {
		if v.hosts[i] != h.ep.Addr {
			return false
		}
		if h.ejected {
			if e >= len(v.ejected) || v.ejected[e] != h.ep.Addr {
				return false
			}
			e++
		}
		if h.unhealthy {
			if u >= len(v.unhealthy) || v.unhealthy[u] != h.ep.Addr {
				return false
			}
			u++
		}
	}
	return e == len(v.ejected) && u == len(v.unhealthy)
}

// pick chooses a host for a request, or nil. Hosts that are ejected or
// unhealthy are skipped unless the share of available hosts is below the
// panic threshold (panic mode: all hosts).
func (c *cluster) pick(r *rand.Rand, key string, wipeHealth bool) (*host, lbView) {
	v := c.view()
	if len(c.hosts) == 0 {
		return nil, v
	}
	if len(c.hosts) == 1 && wipeHealth {
		return c.hosts[0], v // the single-host balancer looks at nothing
	}
	cand := c.cand[:0] // scratch: nothing keeps it
	for _, h := range c.hosts {
		if h.available() {
			cand = append(cand, h)
		}
	}
	c.cand = cand
	if len(cand)*100 < c.cfg.PanicThreshold*len(c.hosts) {
		v.panic = true
		cand = c.hosts
	}
	if len(cand) == 0 {
		return nil, v
	}
	switch c.cfg.LB {
	case LBRandom:
		return cand[r.IntN(len(cand))], v
	case LBLeastRequest:
		a := cand[r.IntN(len(cand))]
		if len(cand) == 1 {
			return a, v
		}
		b := cand[r.IntN(len(cand))]
		for b == a {
			b = cand[r.IntN(len(cand))]
		}
		if b.active < a.active {
			return b, v
		}
		return a, v
	case LBWeightedRR:
		// Smooth weighted round robin (nginx): integer only.
		total := 0
		var best *host
		for _, h := range cand {
			w := max(h.ep.Weight, 1)
			h.cw += w
			total += w
			if best == nil || h.cw > best.cw {
				best = h
			}
		}
		best.cw -= total
		return best, v
	case LBRingHash:
		return c.ring.pick(cand, key), v
	}
	c.rr++
	return cand[int(c.rr%uint64(len(cand)))], v
}

// ringCache is a consistent-hash ring (Ketama style) over the last
// candidate set, rebuilt when the set changes.
type ringCache struct {
	key    string
	points []ringPoint
}

type ringPoint struct {
	hash uint64
	h    *host
}

const ringPointsPerHost = 64

func hash64(s string) uint64 {
	f := fnv.New64a()
	f.Write([]byte(s))
	return f.Sum64()
}

func (rc *ringCache) pick(cand []*host, key string) *host {
	var b strings.Builder
	for _, h := range cand {
		b.WriteString(string(h.ep.Addr))
		b.WriteByte(',')
	}
	if b.String() != rc.key || len(rc.points) == 0 {
		rc.key = b.String()
		rc.points = rc.points[:0]
		for _, h := range cand {
			for i := 0; i < ringPointsPerHost*max(h.ep.Weight, 1); i++ {
				rc.points = append(rc.points, ringPoint{hash64(string(h.ep.Addr) + "#" + strconv.Itoa(i)), h})
			}
		}
		slices.SortFunc(rc.points, func(a, b ringPoint) int {
			if a.hash != b.hash {
				if a.hash < b.hash {
					return -1
				}
				return 1
			}
			return strings.Compare(string(a.h.ep.Addr), string(b.h.ep.Addr))
		})
	}
	k := hash64(key)
	i, _ := slices.BinarySearchFunc(rc.points, k, func(p ringPoint, k uint64) int {
		if p.hash < k {
			return -1
		}
		if p.hash > k {
			return 1
		}
		return 0
	})
	if i == len(rc.points) {
		i = 0
	}
	return rc.points[i].h
}

func (c *cluster) ejectedCount() int {
	n := 0
	for _, h := range c.hosts {
		if h.ejected {
			n++
		}
	}
	return n
}

// outlierResult feeds passive outlier detection with an upstream result.
// It returns true when the host was ejected.
func (c *cluster) outlierResult(h *host, fiveXX bool, ignoreMax bool) bool {
	o := c.cfg.Outlier
	if o == nil {
		return false
	}
	if !fiveXX {
		h.consec = 0
		return false
	}
	h.consec++
	if h.ejected || h.consec < o.Consecutive5xx {
		return false
	}
	if !ignoreMax && (c.ejectedCount()+1)*100 > o.MaxEjectionPercent*len(c.hosts) {
		return false
	}
	h.ejected = true
	h.ejections++
	h.consec = 0
	return true
}

// ejectionTime grows with the host's ejections, up to ten times the base.
func (c *cluster) ejectionTime(h *host) time.Duration {
	return c.cfg.Outlier.BaseEjection * time.Duration(min(h.ejections, 10))
}
