// Package rehearsal runs Double-Eleven load rehearsals of the whole stack
// (registry, mesh, coordinator and applications) in one simulated world:
// a versioned rehearsal file, the world build, open-loop load generators,
// per-second metrics, the SLO verdict, the systems' invariants and a
// capacity search.
package rehearsal

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sofasim/sofasim/sim"
)

// Version is the rehearsal file format this build reads.
const Version = 1

// File is a rehearsal: the services and their call graph, the
// infrastructure, the traffic profile, the drills and the SLOs.
type File struct {
	Version  int       `json:"version"`
	Name     string    `json:"name"`
	Seed     uint64    `json:"seed,omitempty"`
	Note     string    `json:"note,omitempty"`
	Zones    []string  `json:"zones"`
	Services []Service `json:"services"`
	Mesh     Mesh      `json:"mesh"`
	Registry Registry  `json:"registry"`
	// Coordinator: the TCs (raft store) and the transaction timeout.
	Coordinator Coordinator `json:"coordinator"`
	Traffic     Traffic     `json:"traffic"`
	Drills      []Drill     `json:"drills,omitempty"`
	SLO         SLO         `json:"slo"`
	// Tail: the run goes on this long after the traffic ends, for
	// recovery, before the invariants are judged (default 15s).
	Tail sim.Duration `json:"tail,omitempty"`
}

// Service is one microservice: its instances per zone, its worker pool,
// its own work (service time) and what it calls, in order, while holding
// a worker.
type Service struct {
	Name string `json:"name"`
	// Instances per zone.
	Instances   map[string]int `json:"instances"`
	Workers     int            `json:"workers"`
	Queue       int            `json:"queue"`
	ServiceTime Dist           `json:"service_time"`
	// Timeout of a call to this service (the route timeout).
	Timeout sim.Duration `json:"timeout"`
	// Calls are made one after another; the first failure fails the request.
	Calls []string `json:"calls,omitempty"`
	// Transaction: the service runs its calls in a global transaction
	// (begin, calls, commit, or roll back on a failure).
	Transaction bool `json:"transaction,omitempty"`
	// Resource: the service's own work includes a branch on its database:
	// "at" (a transfer between two accounts) or "tcc" (a stock
	// reservation); DBs is the number of database nodes (RMs).
	Resource string `json:"resource,omitempty"`
	DBs      int    `json:"dbs,omitempty"`
}

// Dist is a service-time distribution: "exp" (Mean) or "uniform"
// (Min..Max, with TailPPM of draws uniform in Max..TailMax instead).
type Dist struct {
	Kind    string       `json:"dist"`
	Mean    sim.Duration `json:"mean,omitempty"`
	Min     sim.Duration `json:"min,omitempty"`
	Max     sim.Duration `json:"max,omitempty"`
	TailPPM int64        `json:"tail_ppm,omitempty"`
	TailMax sim.Duration `json:"tail_max,omitempty"`
}

// Mesh is the mesh policy every service gets.
type Mesh struct {
	Pilots int `json:"pilots"`
	// LB is every service's load balancer: least_request (the default,
	// Istio's since 1.14), round_robin or random.
	LB            string       `json:"lb,omitempty"`
	Retries       int          `json:"retries"`
	PerTryTimeout sim.Duration `json:"per_try_timeout"`
	// RetryBudget in percent of the active requests, at least RetryMin.
	RetryBudget int `json:"retry_budget_percent"`
	RetryMin    int `json:"retry_budget_min"`
	// Breakers: max requests and max pending per cluster (0: 1024).
	MaxRequests int `json:"max_requests,omitempty"`
	MaxPending  int `json:"max_pending,omitempty"`
	// Outlier detection: consecutive 5xx, base ejection, max percent.
	Consecutive5xx int          `json:"outlier_consecutive_5xx"`
	BaseEjection   sim.Duration `json:"outlier_base_ejection"`
	MaxEjectionPct int          `json:"outlier_max_percent"`
	HealthInterval sim.Duration `json:"health_check_interval"`
}

// Registry sizes the service registry.
type Registry struct {
	Metas    int `json:"metas"`
	Data     int `json:"data"`
	Sessions int `json:"sessions"`
}

// Coordinator sizes the transaction coordinator.
type Coordinator struct {
	TCs       int          `json:"tcs"`
	TxTimeout sim.Duration `json:"tx_timeout"`
	// Accounts and Items per database (defaults 1000 and 100): the rows
	// AT transfers and TCC reservations pick uniformly, so fewer rows
	// mean more global-lock conflicts. Scale them with the traffic.
	Accounts int `json:"accounts,omitempty"`
	Items    int `json:"items,omitempty"`
}

func (c Coordinator) accounts() int { return cmp.Or(c.Accounts, 1000) }
func (c Coordinator) items() int    { return cmp.Or(c.Items, 100) }

// Traffic is the load: open-loop arrivals at the entry services, Rate
// requests a second following a piecewise-linear curve through Points,
// each second's rate scaled by a noise factor within ±NoisePPM.
type Traffic struct {
	Entry   []string `json:"entry"`
	Clients int      `json:"clients"`
	// Gateways: the clients' requests enter through this many ingress
	// gateways (0: every client pod has a sidecar of its own).
	Gateways int     `json:"gateways,omitempty"`
	Points   []Point `json:"points"`
	NoisePPM int64   `json:"noise_ppm,omitempty"`
}

// Point is a corner of the traffic curve.
type Point struct {
	At   sim.Duration `json:"at"`
	Rate int          `json:"rate"`
}

// Drill kinds.
const (
	DrillZoneDown     = "zone-down"              // every node of Zone crashes (restarted after For, if set)
	DrillTCFailover   = "tc-leader-failover"     // the serving TC crashes, restarted after For
	DrillRegistryData = "registry-data-failover" // a registry data server crashes, restarted after For
	DrillSlowDB       = "slow-db"                // Service's databases sync Delay slower for For
	DrillInstanceDown = "instance-down"          // Count instances of Service crash
)

var drillKinds = []string{DrillZoneDown, DrillTCFailover, DrillRegistryData, DrillSlowDB, DrillInstanceDown}

// Drill is one fault at a second of the rehearsal.
type Drill struct {
	At      sim.Duration `json:"at"`
	Kind    string       `json:"kind"`
	Zone    string       `json:"zone,omitempty"`
	Service string       `json:"service,omitempty"`
	Count   int          `json:"count,omitempty"`
	Delay   sim.Duration `json:"delay,omitempty"`
	For     sim.Duration `json:"for,omitempty"`
}

// SLO is what the rehearsal must meet.
type SLO struct {
	Services []ServiceSLO `json:"services"`
	// CommitP99: global transactions begin-to-commit.
	CommitP99 sim.Duration `json:"commit_p99,omitempty"`
	// RegistryPushP99: a registry change to its push.
	RegistryPushP99 sim.Duration `json:"registry_push_p99,omitempty"`
	// Grace: how long after a drill begins, and after its crashed nodes
	// restart, the SLOs may be missed (the failover time the business
	// accepts); 0 judges every second.
	Grace sim.Duration `json:"grace,omitempty"`
}

// ServiceSLO is judged on every second of the traffic for an entry service.
type ServiceSLO struct {
	Service string `json:"service"`
	// SuccessPPM: the least share of requests answered 200, per second.
	SuccessPPM int64        `json:"success_ppm,omitempty"`
	P50        sim.Duration `json:"p50,omitempty"`
	P99        sim.Duration `json:"p99,omitempty"`
	P999       sim.Duration `json:"p999,omitempty"`
}

// Parse reads a rehearsal file, YAML or JSON (JSON is YAML), strictly:
// unknown fields and wrong versions are errors, and the file is validated.
func Parse(data []byte) (*File, error) {
	var raw any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("rehearsal file: %s", oneLine(err.Error()))
	}
	js, err := json.Marshal(jsonable(raw))
	if err != nil {
		return nil, fmt.Errorf("rehearsal file: %s", oneLine(err.Error()))
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	f := &File{}
	if err := dec.Decode(f); err != nil {
		return nil, fmt.Errorf("rehearsal file: %s", decodeError(err))
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// jsonable turns YAML's map[string]any trees into JSON-encodable values.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x { //detlint:allow rewriting values in place
			x[k] = jsonable(e)
		}
		return x
	case map[any]any:
		m := map[string]any{}
		for k, e := range x { //detlint:allow building a map
			m[fmt.Sprint(k)] = jsonable(e)
		}
		return m
	case []any:
		for i := range x {
			x[i] = jsonable(x[i])
		}
	}
	return v
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Marshal writes the file as YAML.
func (f *File) Marshal() []byte {
	js, _ := json.Marshal(f)
	var raw any
	_ = yaml.Unmarshal(js, &raw)
	out, _ := yaml.Marshal(raw)
	return out
}

// Service returns the named service, or nil.
func (f *File) Service(name string) *Service {
	for i := range f.Services {
		if f.Services[i].Name == name {
			return &f.Services[i]
		}
	}
	return nil
}

// Duration is when the traffic ends: the last point of the curve.
func (f *File) Duration() time.Duration {
	if len(f.Traffic.Points) == 0 {
		return 0
	}
	return time.Duration(f.Traffic.Points[len(f.Traffic.Points)-1].At)
}

// TailDuration is the recovery period after the traffic.
func (f *File) TailDuration() time.Duration {
	if f.Tail <= 0 {
		return 15 * time.Second
	}
	return time.Duration(f.Tail)
}

// Total is the service's instance count over all zones.
func (s *Service) Total() int {
	n := 0
	for _, c := range s.Instances { //detlint:allow summing
		n += c
	}
	return n
}

// decodeError words a decoding error in the file's terms: the field's
// path and what it takes, not Go's type names.
func decodeError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("%s: %s is not accepted here (want %s)", te.Field, te.Value, kindName(te.Type.Kind()))
	}
	return oneLine(strings.TrimPrefix(err.Error(), "json: "))
}

func kindName(k reflect.Kind) string {
	switch {
	case k >= reflect.Int && k <= reflect.Uint64:
		return "a whole number"
	case k == reflect.String:
		return "a string"
	case k == reflect.Bool:
		return "true or false"
	case k == reflect.Slice:
		return "a list"
	case k == reflect.Map || k == reflect.Struct:
		return "a mapping"
	}
	return k.String()
}
