// Package mesh holds the service mesh's history type and its checkers,
// one invariant a file. The events mirror what nodes/mesh's Observer
// reports (same names and fields, so a nodes/mesh Recorder's JSON reads
// as a History) plus the harness's own: pods deployed, crashes and
// restarts, the operator's configuration, the heal and the end state.
package mesh

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/sim"
)

// Record is one event at virtual time T, observed at Node.
type Record struct {
	T    time.Duration
	Node sim.NodeID
	Ev   Event
}

// Event is one of the event types of events.go.
type Event interface{ EventKind() string }

// History is a mesh run's events in the order they happened.
type History struct {
	Records []Record
	idx     *index // built on first use, for Entry
}

// Add appends an event.
func (h *History) Add(t time.Duration, node sim.NodeID, ev Event) {
	h.Records = append(h.Records, Record{T: t, Node: node, Ev: ev})
	h.idx = nil
}

// Len is the number of events.
func (h *History) Len() int { return len(h.Records) }

type recordJSON struct {
	T    time.Duration   `json:"t"`
	Node sim.NodeID      `json:"node"`
	Kind string          `json:"kind"`
	Ev   json.RawMessage `json:"event"`
}

// MarshalJSON writes {t, node, kind, event}, as nodes/mesh's Record does.
func (r Record) MarshalJSON() ([]byte, error) {
	ev, err := json.Marshal(r.Ev)
	if err != nil {
		return nil, err
	}
	return json.Marshal(recordJSON{r.T, r.Node, r.Ev.EventKind(), ev})
}

// UnmarshalJSON reads a record, its event typed by kind; unknown kinds
// and fields are errors.
func (r *Record) UnmarshalJSON(data []byte) error {
	var raw recordJSON
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	mk, ok := kinds[raw.Kind]
	if !ok {
		return fmt.Errorf("unknown mesh event kind %q", raw.Kind)
	}
	ev, err := mk(raw.Ev)
	if err != nil {
		return fmt.Errorf("%s: %v", raw.Kind, err)
	}
	*r = Record{T: raw.T, Node: raw.Node, Ev: ev}
	return nil
}

// WriteJSON writes the history as one JSON object.
func (h *History) WriteJSON(w io.Writer) error {
	return checkers.WriteJSONLine(w, struct {
		Records []Record `json:"records"`
	}{h.Records})
}

// ReadJSON reads what WriteJSON wrote, or a bare JSON array of records (a
// nodes/mesh Recorder's Records).
func ReadJSON(r io.Reader) (*History, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	h := &History{}
	if s := strings.TrimSpace(string(data)); strings.HasPrefix(s, "[") {
		err = strictJSON(data, &h.Records)
	} else {
		var obj struct {
			Records []Record `json:"records"`
		}
		err = strictJSON(data, &obj)
		h.Records = obj.Records
	}
	if err != nil {
		return nil, fmt.Errorf("mesh history: %v", err)
	}
	return h, nil
}

// requestsHint sizes per-request maps: a request leaves at least 7 events
// (issued, routed, attempt, authorization, executed, attempt done,
// answered), so growing them from empty would rehash many times.
func requestsHint(h *History) int { return len(h.Records) / 7 }
