package mesh

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"pgregory.net/rapid"

	meshcheck "github.com/sofasim/sofasim/checkers/mesh"
	meshnode "github.com/sofasim/sofasim/nodes/mesh"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

// Op is one of the operator's actions on the mesh (requests come from the
// client pods' load generators, not from the plan): deploy an instance of
// a new version, scale out, drain an instance for good, change the
// configuration, or start a flash crowd.
type Op struct {
	scenarios.OpTiming
	Kind    string `json:"kind"`
	Service string `json:"service"`
	// Instance (drain) numbers the service's instances from 1.
	Instance int `json:"instance,omitempty"`
	// Change (config) is one of the Change* kinds; Value its number
	// (retries, a canary weight).
	Change string `json:"change,omitempty"`
	Value  int    `json:"value,omitempty"`
	// For: how long a bad rule or a flash crowd lasts.
	For sim.Duration `json:"for,omitempty"`
	// Rate (flash crowd) is each crowd pod's requests per second.
	Rate int `json:"rate,omitempty"`
}

// Operation kinds.
const (
	OpDeploy     = "deploy"      // an instance of version v2 (a canary) joins
	OpScaleOut   = "scale-out"   // an instance of v1 joins
	OpDrain      = "drain"       // an instance drains and stays stopped (scale-in)
	OpConfig     = "config"      // the configuration changes
	OpFlashCrowd = "flash-crowd" // crowd pods send Rate requests a second each, For long
)

// OpKinds lists the operation kinds.
var OpKinds = []string{OpDeploy, OpScaleOut, OpDrain, OpConfig, OpFlashCrowd}

// Configuration changes.
const (
	ChangeOutlier = "outlier"  // a longer base ejection time (a CDS update of every cluster)
	ChangeSplit   = "split"    // the canary route's v2 weight becomes Value percent
	ChangeRetries = "retries"  // num_retries of the service's routes becomes Value
	ChangeCanary  = "canary"   // a new subset and a route splitting 50/50 to it
	ChangeBadRule = "bad-rule" // an invalid destination rule with a new subset and route, fixed For later
)

// changes are drawn uniformly; bad rules and outlier changes twice as
// often: a rejected batch, and a cluster updated while it has endpoints,
// are where xDS code goes wrong.
var changes = []string{ChangeOutlier, ChangeOutlier, ChangeSplit, ChangeRetries, ChangeCanary, ChangeBadRule, ChangeBadRule}

// drawOps draws up to n operations of the given kinds in the first 70%
// of the safety phase.
func drawOps(t *rapid.T, kinds []string, n int, services []string, instances int, d time.Duration) []Op {
	if len(kinds) == 0 || n == 0 {
		return nil
	}
	count := rapid.IntRange(0, n).Draw(t, "ops")
	window := int64(d) * 7 / 10 / int64(time.Millisecond)
	var ops []Op
	for i := 0; i < count; i++ {
		op := Op{OpTiming: scenarios.OpTiming{At: sim.Duration(time.Duration(rapid.Int64Range(2000, max(2001, window)).Draw(t, "at")) * time.Millisecond)},
			Kind: rapid.SampledFrom(kinds).Draw(t, "kind"), Service: rapid.SampledFrom(services).Draw(t, "service")}
		switch op.Kind {
		case OpDrain:
			op.Instance = rapid.IntRange(1, instances).Draw(t, "instance")
		case OpConfig:
			op.Change = rapid.SampledFrom(changes).Draw(t, "change")
			switch op.Change {
			case ChangeSplit:
				op.Value = rapid.IntRange(0, 100).Draw(t, "weight")
			case ChangeRetries:
				op.Value = rapid.IntRange(0, 3).Draw(t, "retries")
			case ChangeBadRule:
				op.For = sim.Duration(time.Duration(rapid.Int64Range(500, 4000).Draw(t, "bad-ms")) * time.Millisecond)
			}
		case OpFlashCrowd:
			op.Rate = rapid.IntRange(100, 500).Draw(t, "crowd-rate")
			op.For = sim.Duration(time.Duration(rapid.Int64Range(1000, 6000).Draw(t, "crowd-ms")) * time.Millisecond)
		}
		ops = append(ops, op)
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].At < ops[j].At })
	return ops
}

// followUps are the operator's reactions to an incident: none, a tuned
// outlier policy, a batch with a bad rule, or a scale-in.
var followUps = []string{"", ChangeOutlier, ChangeBadRule, OpDrain}

// drawFollowUp draws one more operation after everything else the plan
// does (a post-incident change): drawn after the operations and faults so
// existing plans keep their prefix, and late so that no later endpoint
// change or control-plane resync masks what it breaks.
func drawFollowUp(t *rapid.T, ops []Op, faults []scenarios.Step, services []string, instances int, d time.Duration) []Op {
	kind := rapid.SampledFrom(followUps).Draw(t, "follow-up")
	if kind == "" {
		return ops
	}
	last := sim.Duration(2 * time.Second)
	for _, op := range ops {
		last = max(last, op.At)
	}
	for _, f := range faults {
		last = max(last, f.At)
	}
	at := min(last+sim.Duration(time.Duration(rapid.Int64Range(500, 3000).Draw(t, "follow-up-ms"))*time.Millisecond), sim.Duration(d*9/10))
	op := Op{OpTiming: scenarios.OpTiming{At: at}, Kind: OpConfig, Change: kind, Service: rapid.SampledFrom(services).Draw(t, "follow-up-service")}
	switch kind {
	case OpDrain:
		op.Kind, op.Change, op.Instance = OpDrain, "", rapid.IntRange(1, instances).Draw(t, "follow-up-instance")
	case ChangeBadRule:
		op.For = sim.Duration(time.Duration(rapid.Int64Range(500, 4000).Draw(t, "follow-up-bad-ms")) * time.Millisecond)
		op.For = min(op.For, sim.Duration(d-time.Millisecond)-at) // fixed within the safety phase, as faults are
	}
	return append(ops, op) // last: the driver runs operations in order
}

// operatorID is the node that runs the plan's operations.
const operatorID = sim.NodeID("operator")

// operator runs the operations at their times through scenarios.Driver.
type operator struct {
	sim.BaseNode
	sys    *system
	env    *sim.Env
	driver *scenarios.Driver[Op]
}

func (o *operator) Start(env *sim.Env) {
	o.env = env
	o.driver.Start(env)
}

func (o *operator) Timer(_ sim.TimerID, tag any) {
	if scenarios.IsDriverTick(tag) {
		o.driver.Pump(o.env)
	}
}

// exec applies an operation at once.
func (s *system) exec(op Op, done func()) {
	defer done()
	m := s.m
	switch op.Kind {
	case OpDeploy, OpScaleOut:
		v := "v1"
		if op.Kind == OpDeploy {
			v = "v2"
		}
		id := m.AddInstance(op.Service, v)
		s.version[id] = v
		s.rec.add(id, meshcheck.Deployed{Service: op.Service, Version: v})
	case OpDrain:
		ids := m.Apps[op.Service]
		if op.Instance >= 1 && op.Instance <= len(ids) && s.mayDrain(ids[op.Instance-1]) {
			s.drained[ids[op.Instance-1]] = true
			m.Drain(ids[op.Instance-1])
		}
	case OpConfig:
		s.change(op)
	case OpFlashCrowd:
		// The crowd pods were built with the plan; their load starts now.
	}
}

// mayDrain: the operator keeps two instances of a service, and one of
// each version, undrained (draining the last canary while a route sends
// it a share would be an outage, not a finding).
func (s *system) mayDrain(id sim.NodeID) bool {
	if s.drained[id] {
		return false
	}
	left, same := 0, 0
	for _, other := range s.m.Apps[s.m.ServiceOf(id)] {
		if other == id || s.drained[other] {
			continue
		}
		left++
		if s.version[other] == s.version[id] {
			same++
		}
	}
	return left >= 2 && same >= 1
}

// change applies a configuration change.
func (s *system) change(op Op) {
	cfg := cloneConfig(s.m.Config())
	spec := cfg.Service(op.Service)
	if spec == nil {
		return
	}
	switch op.Change {
	case ChangeOutlier:
		p := spec.Policy
		if p.Outlier != nil {
			o := *p.Outlier
			o.BaseEjection += 500 * time.Millisecond
			spec.Policy.Outlier = &o
		}
	case ChangeSplit:
		for i, r := range spec.Routes {
			if len(r.Split) == 2 {
				r.Split = []meshnode.Split{{Subset: r.Split[0].Subset, Weight: 100 - op.Value}, {Subset: r.Split[1].Subset, Weight: op.Value}}
				spec.Routes = append(slices.Clone(spec.Routes[:i]), append([]meshnode.RouteSpec{r}, spec.Routes[i+1:]...)...)
				break
			}
		}
	case ChangeRetries:
		rp := *spec.DefaultRetry
		rp.NumRetries = op.Value
		spec.DefaultRetry = &rp
		routes := slices.Clone(spec.Routes)
		for i := range routes {
			if routes[i].Retry != nil {
				r := *routes[i].Retry
				r.NumRetries = op.Value
				routes[i].Retry = &r
			}
		}
		spec.Routes = routes
	case ChangeCanary:
		if !addCanary(spec) {
			return
		}
	case ChangeBadRule:
		// A batch of changes with one bad rule in it: sidecars reject the
		// clusters whole, and the new subset with them, until the fix.
		good := s.first.Service(op.Service).Policy.Outlier // valid even if another bad rule is in force
		bad := meshnode.Outlier{Consecutive5xx: 5, BaseEjection: time.Second, MaxEjectionPercent: 150}
		spec.Policy.Outlier = &bad
		addCanary(spec)
		s.setConfig(cfg)
		s.w.After(time.Duration(op.For), func() {
			fixed := cloneConfig(s.m.Config())
			if sp := fixed.Service(op.Service); sp != nil {
				sp.Policy.Outlier = good
			}
			s.setConfig(fixed)
		})
		return
	}
	s.setConfig(cfg)
}

// addCanary adds a subset "canary" (of v1 instances) and a route sending
// half of "/api/" to it, unless the service has one.
func addCanary(spec *meshnode.ServiceSpec) bool {
	if slices.ContainsFunc(spec.Subsets, func(s meshnode.Subset) bool { return s.Name == "canary" }) {
		return false
	}
	spec.Subsets = append(slices.Clone(spec.Subsets), meshnode.Subset{Name: "canary", Version: "v1"})
	spec.Routes = append([]meshnode.RouteSpec{{Name: "canary", Match: meshnode.Match{Prefix: "/api/"}, Split: []meshnode.Split{{Subset: "", Weight: 50}, {Subset: "canary", Weight: 50}},
		Timeout: time.Second, Retry: spec.DefaultRetry}}, spec.Routes...)
	return true
}

func (s *system) setConfig(cfg *meshnode.MeshConfig) {
	s.cfgVersion++
	s.m.SetConfig(cfg)
	s.rec.add(operatorID, policies(cfg, s.cfgVersion))
}

// cloneConfig copies the service list (specs are replaced, never mutated).
func cloneConfig(c *meshnode.MeshConfig) *meshnode.MeshConfig {
	return &meshnode.MeshConfig{Services: slices.Clone(c.Services)}
}

func crowdID(i int) sim.NodeID { return sim.NodeID(fmt.Sprintf("crowd-%d", i)) }
