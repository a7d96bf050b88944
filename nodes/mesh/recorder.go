package mesh

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// Record is one observed event, stamped with the world's virtual time.
type Record struct {
	T    time.Duration
	Node sim.NodeID
	Ev   Event
}

// Recorder is an Observer that keeps every event in order.
type Recorder struct {
	w       *sim.World
	Records []Record
}

// NewRecorder records events stamped with w's virtual time.
func NewRecorder(w *sim.World) *Recorder { return &Recorder{w: w} }

func (r *Recorder) Observe(node sim.NodeID, ev Event) {
	r.Records = append(r.Records, Record{T: r.w.Now(), Node: node, Ev: ev})
}

// MarshalJSON writes a record with its event's kind ("Attempt", ...), for
// reports.
func (r Record) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		T    time.Duration `json:"t"`
		Node sim.NodeID    `json:"node"`
		Kind string        `json:"kind"`
		Ev   Event         `json:"event"`
	}{r.T, r.Node, strings.TrimPrefix(fmt.Sprintf("%T", r.Ev), "mesh."), r.Ev})
}

// Request returns the records of one request, in order: issued, routed,
// its attempts and retries, the executions and the answer. It is what a
// report shows for a failing request.
func (r *Recorder) Request(id string) []Record {
	var out []Record
	for _, rec := range r.Records {
		var rid string
		switch e := rec.Ev.(type) {
		case Issued:
			rid = e.Req.ID
		case Routed:
			rid = e.ReqID
		case Attempt:
			rid = e.ReqID
		case AttemptDone:
			rid = e.ReqID
		case NoHost:
			rid = e.ReqID
		case Retry:
			rid = e.ReqID
		case RetryDone:
			rid = e.ReqID
		case Overflow:
			rid = e.ReqID
		case AuthzDecision:
			rid = e.ReqID
		case Executed:
			rid = e.Req.ID
		case Answered:
			rid = e.ReqID
		}
		if rid == id {
			out = append(out, rec)
		}
	}
	return out
}

// Versions returns the xDS versions each sidecar held at virtual time t:
// sidecar -> type -> version.
func (r *Recorder) Versions(t time.Duration) map[sim.NodeID]map[string]string {
	out := map[sim.NodeID]map[string]string{}
	for _, rec := range r.Records {
		if rec.T > t {
			break
		}
		if e, ok := rec.Ev.(ConfigApplied); ok {
			if out[rec.Node] == nil {
				out[rec.Node] = map[string]string{}
			}
			out[rec.Node][e.Type] = e.Version
		}
	}
	return out
}

// Kinds counts the records by event kind, sorted by kind (a summary).
func (r *Recorder) Kinds() []string {
	n := map[string]int{}
	for _, rec := range r.Records {
		n[strings.TrimPrefix(fmt.Sprintf("%T", rec.Ev), "mesh.")]++
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(n)) {
		out = append(out, fmt.Sprintf("%s=%d", k, n[k]))
	}
	return out
}
