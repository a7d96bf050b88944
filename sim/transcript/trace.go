package transcript

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/sofasim/sofasim/sim"
)

// Write receives the world's trace (JSON lines) and prints the records
// that pass the filter: the node trace events in Events, panics, and
// deaths the transcript did not ask for.
func (e *Env) Write(b []byte) (int, error) {
	e.partial = append(e.partial, b...)
	for {
		i := bytes.IndexByte(e.partial, '\n')
		if i < 0 {
			return len(b), nil
		}
		var r sim.TraceRecord
		if err := json.Unmarshal(e.partial[:i], &r); err != nil {
			return 0, err
		}
		e.partial = e.partial[i+1:]
		e.traceRecord(&r)
	}
}

func (e *Env) traceRecord(r *sim.TraceRecord) {
	at := time.Duration(r.T)
	switch r.Kind {
	case "trace":
		if e.Events[r.Event] {
			e.logAt(at, "%s %s %s", r.Node, r.Event, strings.Join(r.Fields, " "))
		}
	case "panic":
		e.logAt(at, "%s PANIC %s", r.Node, r.Event)
	case "crash":
		if r.Event != "fault" && r.Event != "restart" { // those are the transcript's own commands
			e.logAt(at, "%s down: %s", r.Node, r.Event)
		}
	}
}

// handleTrace edits the filter (+event prints it, -event no longer) and
// prints it.
func (e *Env) handleTrace(_ *testing.T, d *datadriven.TestData) error {
	if e.Events == nil {
		e.Events = map[string]bool{}
	}
	for _, a := range d.CmdArgs {
		switch {
		case strings.HasPrefix(a.Key, "+"):
			e.Events[a.Key[1:]] = true
		case strings.HasPrefix(a.Key, "-"):
			delete(e.Events, a.Key[1:])
		}
	}
	e.Printf("tracing %s\n", strings.Join(slices.Sorted(maps.Keys(e.Events)), " "))
	return nil
}
