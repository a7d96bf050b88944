package rehearsal

import (
	"time"
)

// ResultFormat versions the result JSON.
const ResultFormat = 1

// Result is one rehearsal run: every series (per second of traffic), the
// drills as they happened, the SLO verdict and the correctness findings.
type Result struct {
	Format      int     `json:"format"`
	Name        string  `json:"name"`
	Seed        uint64  `json:"seed"`
	Fingerprint string  `json:"fingerprint"`
	Events      uint64  `json:"events"`
	Virtual     float64 `json:"virtual_seconds"`
	Wall        float64 `json:"wall_seconds"`
	Speedup     float64 `json:"speedup"`
	// CPU is the process CPU time of the run, and CPUSpeedup virtual time
	// over it (the wall speed-up depends on what else the machine runs).
	CPU        float64 `json:"cpu_seconds,omitempty"`
	CPUSpeedup float64 `json:"cpu_speedup,omitempty"`
	PeakHeapMB float64 `json:"peak_heap_mb,omitempty"`
	// PeakRSSMB is the process's peak resident set when the run ended (a
	// process that ran several rehearsals reports its overall peak).
	PeakRSSMB float64 `json:"peak_rss_mb,omitempty"`
	// Seconds of traffic; every series has this many values.
	Seconds  int             `json:"seconds"`
	Rate     []float64       `json:"rate"` // the profile, requests a second
	Services []ServiceSeries `json:"services"`
	System   SystemSeries    `json:"system"`
	Drills   []DrillMark     `json:"drills"`
	Verdict  Verdict         `json:"verdict"`
	// Correctness lists violated invariants (money, locks, convergence,
	// panics): a rehearsal with any fails as a finding whatever its SLOs.
	Correctness []string `json:"correctness"`
	// Unjudged lists invariants that could not be judged (a node down at
	// the end).
	Unjudged []string `json:"unjudged,omitempty"`
	File     *File    `json:"file"`
}

// ServiceSeries is one service's time series, by its callers' view.
type ServiceSeries struct {
	Name      string    `json:"name"`
	Entry     bool      `json:"entry"`
	Instances int       `json:"instances"`
	Workers   int       `json:"workers"`
	Offered   []int64   `json:"offered"`
	Goodput   []int64   `json:"goodput"`
	Failed    []int64   `json:"failed"`
	Success   []float64 `json:"success"` // share of answered requests that succeeded (1 when none)
	P50       []float64 `json:"p50_ms"`
	P99       []float64 `json:"p99_ms"`
	P999      []float64 `json:"p999_ms"`
	Queue     []float64 `json:"queue"` // mean requests waiting, all instances
	// MaxQueue is the longest queue one instance had at a sample: far
	// above Queue/Instances, the load is spread unevenly.
	MaxQueue  []int64   `json:"max_instance_queue"`
	Util      []float64 `json:"utilisation"` // busy workers / live workers
	Retries   []int64   `json:"retries"`
	Trips     []int64   `json:"breaker_trips"`
	Ejections []int64   `json:"ejections"`
	// Over the whole traffic.
	Requests     int64   `json:"requests"`
	SuccessTotal float64 `json:"success_total"`
	P99Total     float64 `json:"p99_total_ms"`
	// PeakUtil is the highest utilisation outside the drills' grace.
	PeakUtil float64 `json:"peak_utilisation"`
	// Estimate is the instance count that would have kept PeakUtil at
	// TargetUtil (a first guess; --find-capacity gives the exact count).
	Estimate int `json:"instances_estimate"`
}

// SystemSeries is the health of the three systems.
type SystemSeries struct {
	Commits   []int64   `json:"commits"`
	Rollbacks []int64   `json:"rollbacks"`
	Unknown   []int64   `json:"unknown_outcomes"`
	CommitP50 []float64 `json:"commit_p50_ms"`
	CommitP99 []float64 `json:"commit_p99_ms"`
	PushP99   []float64 `json:"registry_push_p99_ms"`
	XDSPushes []int64   `json:"xds_pushes"`
	XDSP99    []float64 `json:"xds_ack_p99_ms"`
}

// Verdict is the SLO judgement.
type Verdict struct {
	Met bool `json:"met"`
	// First is the earliest violation; Violations the first of each
	// (service, metric).
	First *Violation `json:"first,omitempty"`
	// Cause says what broke at First's second: the deepest saturated
	// service, the failing calls, the coordinator, a running drill.
	Cause      string      `json:"cause,omitempty"`
	Violations []Violation `json:"violations,omitempty"`
}

// Violation is one missed objective.
type Violation struct {
	Service string  `json:"service"`
	Second  int     `json:"second"`
	Metric  string  `json:"metric"`
	Got     float64 `json:"got"`
	Limit   float64 `json:"limit"`
	Unit    string  `json:"unit"`
}

func (v Violation) String() string {
	if v.Unit == "%" {
		return fmtViolation(v, "%s at second %d: %s %.3f%% < %.3f%%")
	}
	return fmtViolation(v, "%s at second %d: %s %.1fms > %.1fms")
}

// Passed: SLOs met and no correctness finding.
func (r *Result) Passed() bool { return r.Verdict.Met && len(r.Correctness) == 0 }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
