package rehearsal

import (
	"fmt"
	"slices"
	"time"

	"github.com/sofasim/sofasim/nodes/mesh"
)

// Validate checks the file; the error is one line naming the field and
// what it accepts.
func (f *File) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("rehearsal file: "+format, args...)
	}
	if f.Version != Version {
		return bad("version %d is not supported (this build reads version %d)", f.Version, Version)
	}
	if len(f.Zones) == 0 {
		return bad("zones: at least one zone is needed")
	}
	if len(f.Services) == 0 {
		return bad("services: at least one service is needed")
	}
	seen := map[string]bool{}
	for i, s := range f.Services {
		where := fmt.Sprintf("services[%d] (%s)", i, s.Name)
		switch {
		case s.Name == "" || s.Name == "client":
			return bad("services[%d]: a name other than \"client\" is needed", i)
		case seen[s.Name]:
			return bad("%s: duplicate service name", where)
		case s.Total() < 1:
			return bad("%s: instances: at least one instance in some zone", where)
		case s.Workers < 1:
			return bad("%s: workers must be at least 1", where)
		case s.Queue < 0:
			return bad("%s: queue must not be negative", where)
		case s.Timeout <= 0:
			return bad("%s: timeout must be positive (e.g. 1s)", where)
		}
		seen[s.Name] = true
		for z, n := range s.Instances { //detlint:allow any bad zone is reported
			if !slices.Contains(f.Zones, z) || n < 0 {
				return bad("%s: instances: zone %q with %d instances (zones are %v)", where, z, n, f.Zones)
			}
		}
		if err := s.ServiceTime.validate(); err != nil {
			return bad("%s: service_time: %v", where, err)
		}
		switch s.Resource {
		case "":
		case "at", "tcc":
			if s.DBs < 1 {
				return bad("%s: dbs must be at least 1 for a resource", where)
			}
		default:
			return bad("%s: resource %q: use \"at\", \"tcc\" or nothing", where, s.Resource)
		}
	}
	for _, s := range f.Services {
		for _, c := range s.Calls {
			if !seen[c] {
				return bad("services (%s): calls %q, which is not a service", s.Name, c)
			}
		}
	}
	if err := f.acyclic(); err != nil {
		return bad("%v", err)
	}
	m := f.Mesh
	switch {
	case m.Pilots < 1:
		return bad("mesh: pilots must be at least 1")
	case !slices.Contains([]string{"", mesh.LBLeastRequest, mesh.LBRoundRobin, mesh.LBRandom}, m.LB):
		return bad("mesh: lb %q: want least_request, round_robin or random", m.LB)
	case m.Retries < 0 || m.Retries > 10:
		return bad("mesh: retries must be in 0..10")
	case m.Retries > 0 && m.PerTryTimeout <= 0:
		return bad("mesh: per_try_timeout must be positive when retries > 0")
	case m.RetryBudget < 0 || m.RetryBudget > 100:
		return bad("mesh: retry_budget_percent must be in 0..100")
	case m.MaxEjectionPct < 0 || m.MaxEjectionPct > 100:
		return bad("mesh: outlier_max_percent must be in 0..100")
	case m.Consecutive5xx > 0 && m.BaseEjection <= 0:
		return bad("mesh: outlier_base_ejection must be positive when outlier detection is on")
	}
	switch {
	case f.Registry.Metas < 1 || f.Registry.Data < 1 || f.Registry.Sessions < 1:
		return bad("registry: metas, data and sessions must each be at least 1")
	case f.Coordinator.TCs < 1:
		return bad("coordinator: tcs must be at least 1")
	case f.Coordinator.TxTimeout <= 0:
		return bad("coordinator: tx_timeout must be positive")
	case f.Coordinator.Accounts < 0 || f.Coordinator.Accounts == 1 || f.Coordinator.Items < 0:
		return bad("coordinator: accounts must be 0 (default) or at least 2, items 0 (default) or more")
	}
	t := f.Traffic
	if len(t.Entry) == 0 {
		return bad("traffic: entry: name the services the load generators call")
	}
	for _, e := range t.Entry {
		if !seen[e] {
			return bad("traffic: entry %q is not a service", e)
		}
	}
	switch {
	case t.Clients < 1:
		return bad("traffic: clients must be at least 1")
	case t.Gateways < 0 || t.Gateways > t.Clients:
		return bad("traffic: gateways must be in 0..clients")
	case len(t.Points) < 2:
		return bad("traffic: points: at least two corners of the curve")
	case t.NoisePPM < 0 || t.NoisePPM >= 1_000_000:
		return bad("traffic: noise_ppm must be in 0..999999")
	}
	for i, p := range t.Points {
		if p.Rate < 0 || (i > 0 && p.At <= t.Points[i-1].At) || (i == 0 && p.At != 0) {
			return bad("traffic: points[%d]: times start at 0s and increase, rates are not negative", i)
		}
	}
	for i, d := range f.Drills {
		where := fmt.Sprintf("drills[%d] (%s)", i, d.Kind)
		if d.At < 0 || time.Duration(d.At) > f.Duration() {
			return bad("%s: at %v is outside the traffic (0s..%v)", where, d.At, f.Duration())
		}
		switch d.Kind {
		case DrillZoneDown:
			if !slices.Contains(f.Zones, d.Zone) {
				return bad("%s: zone %q is not one of %v", where, d.Zone, f.Zones)
			}
		case DrillTCFailover, DrillRegistryData:
		case DrillSlowDB:
			s := f.Service(d.Service)
			if s == nil || s.Resource == "" {
				return bad("%s: service %q has no database", where, d.Service)
			}
			if d.Delay <= 0 || d.For <= 0 {
				return bad("%s: delay and for must be positive", where)
			}
		case DrillInstanceDown:
			s := f.Service(d.Service)
			if s == nil || d.Count < 1 || d.Count > s.Total() {
				return bad("%s: service %q and a count of 1..its instances are needed", where, d.Service)
			}
		default:
			return bad("%s: unknown kind (kinds: %v)", where, drillKinds)
		}
	}
	for i, s := range f.SLO.Services {
		if !slices.Contains(t.Entry, s.Service) {
			return bad("slo.services[%d]: %q is not an entry service %v", i, s.Service, t.Entry)
		}
		if s.SuccessPPM < 0 || s.SuccessPPM > 1_000_000 {
			return bad("slo.services[%d]: success_ppm must be in 0..1000000", i)
		}
	}
	return nil
}

func (d Dist) validate() error {
	switch d.Kind {
	case "exp":
		if d.Mean <= 0 {
			return fmt.Errorf("exp needs a positive mean")
		}
	case "uniform":
		if d.Min < 0 || d.Max < d.Min || d.TailPPM < 0 || d.TailPPM > 1_000_000 || (d.TailPPM > 0 && d.TailMax < d.Max) {
			return fmt.Errorf("uniform needs 0 <= min <= max, tail_ppm in 0..1000000 and tail_max >= max")
		}
	default:
		return fmt.Errorf("dist %q: use \"exp\" (mean) or \"uniform\" (min, max, tail_ppm, tail_max)", d.Kind)
	}
	return nil
}

// acyclic refuses call cycles (a request would call itself forever).
func (f *File) acyclic() error {
	state := map[string]int{}
	var visit func(string) error
	visit = func(n string) error {
		switch state[n] {
		case 1:
			return fmt.Errorf("services: the call graph has a cycle through %q", n)
		case 2:
			return nil
		}
		state[n] = 1
		for _, c := range f.Service(n).Calls {
			if err := visit(c); err != nil {
				return err
			}
		}
		state[n] = 2
		return nil
	}
	for _, s := range f.Services {
		if err := visit(s.Name); err != nil {
			return err
		}
	}
	return nil
}
