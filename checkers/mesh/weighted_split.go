package mesh

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/sofasim/sofasim/checkers"
)

// WeightedSplit: a route's weighted clusters get their shares of its
// requests within a statistical tolerance (5 standard deviations of the
// binomial, plus 2), judged per configuration once it has had Settle to
// reach every sidecar, and only over periods with at least 30 requests.
// Rejected configurations change nothing.
type WeightedSplit struct {
	Settle time.Duration
}

func (WeightedSplit) Name() string { return "weighted-split" }

func (c WeightedSplit) Check(h *History, _ checkers.Options) checkers.Result {
	f := load(h)
	var v found
	var valid []configAt
	for _, cf := range f.configs {
		if !cf.cfg.Invalid {
			valid = append(valid, cf)
		}
	}
	service := make(map[string]string, requestsHint(h)) // request -> service
	type key struct {
		period       int
		service, rte string
	}
	counts := map[key]map[string]int{}
	last := map[key]int{}
	period := -1
	checked := 0
	for i, r := range h.Records {
		for period+1 < len(valid) && valid[period+1].at <= r.T {
			period++
		}
		switch e := r.Ev.(type) {
		case Issued:
			service[e.Req.ID] = e.Req.Service
		case Routed:
			if !e.Split || period < 0 || r.T < valid[period].at+c.Settle {
				continue
			}
			k := key{period, service[e.ReqID], e.Route}
			if counts[k] == nil {
				counts[k] = map[string]int{}
			}
			counts[k][e.Cluster]++
			last[k] = i
		}
	}
	keys := make([]key, 0, len(counts))
	for k := range counts { //detlint:allow sorted below
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.period != b.period {
			return a.period - b.period
		}
		if a.service != b.service {
			return compare(a.service, b.service)
		}
		return compare(a.rte, b.rte)
	})
	for _, k := range keys {
		var split []Split
		for _, s := range valid[k.period].cfg.Services {
			if s.Name != k.service {
				continue
			}
			for _, rt := range s.Routes {
				if rt.Name == k.rte {
					split = rt.Split
				}
			}
		}
		n, total := 0, 0
		for _, cnt := range counts[k] {
			n += cnt
		}
		for _, s := range split {
			total += s.Weight
		}
		if n < 30 || total == 0 {
			continue
		}
		checked++
		for _, s := range split {
			p := float64(s.Weight) / float64(total)
			want := float64(n) * p
			tol := 5*math.Sqrt(float64(n)*p*(1-p)) + 2
			if got := counts[k][s.Cluster]; math.Abs(float64(got)-want) > tol {
				v.add(last[k], "route %s of %s (configuration %d): %s got %d of %d requests, weight %d of %d wants %.0f±%.0f",
					k.rte, k.service, valid[k.period].cfg.Version, s.Cluster, got, n, s.Weight, total, want, tol)
			}
		}
	}
	return v.result(c.Name(), fmt.Sprintf("%d weighted routes checked, every share within tolerance", checked))
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
