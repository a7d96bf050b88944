// Package registry holds the service registry's history type and its
// checkers, one invariant a file, all reading the typed events directly.
package registry

import (
	"fmt"
	"io"
	"strings"

	"github.com/sofasim/sofasim/checkers"
)

// Kind is a registry event's kind.
type Kind string

// The registry's event kinds: what clients did and were told, and what
// the harness observed of the servers.
const (
	Publish    Kind = "publish"     // a client published RegID=Data (Version) under DataID
	PublishAck Kind = "publish-ack" // the session acknowledged RegID at Version: stored in the session (SOFARegistry's contract), not yet at a data server
	Unpublish  Kind = "unpublish"   // a client unpublished RegID
	Subscribe  Kind = "subscribe"   // a client subscribed RegID to DataID
	Push       Kind = "push"        // subscriber RegID received Version with Pubs
	Connect    Kind = "connect"     // the client connected to session Node
	Disconnect Kind = "disconnect"  // the client's connection to Node closed
	ClientDead Kind = "client-dead" // the client process crashed (for good)
	Slots      Kind = "slots"       // data server Node (Inc) serves Slots at Epoch
	Meta       Kind = "meta"        // meta server Node (Inc): Term, Leader, applied Epoch
	MetaOp     Kind = "meta-op"     // a meta store operation from Call to T: Op "cas" (Expected -> Epoch, OK) or "read" (Epoch); Unknown: no outcome
	Heal       Kind = "heal"        // faults healed: the liveness phase starts
	DataDown   Kind = "data-down"   // data server Node is down: it serves no slot
	Disturbed  Kind = "disturbed"   // a fault's effect on Node ("": the network, or a failpoint) from T to Until
	End        Kind = "end"         // recording stopped
	LockOp     Kind = "lock-op"     // a meta's lock database statement (Lock) from Call to T, election=db
	// Drill: the ops console issued drill Op at T, undone at Until (0:
	// never); see ops.go.
	Drill Kind = "drill"
	// Revision: a client stored app revision Data of app DataID, serving
	// Interfaces (app.go).
	Revision Kind = "revision"
)

// Event is one registry history event at virtual time T (ns). Client is
// the process: a workload client's index, or -1 for the harness's own
// observations (-2 for meta store operations).
type Event struct {
	Kind    Kind     `json:"kind"`
	T       int64    `json:"t"`
	Client  int      `json:"client"`
	DataID  string   `json:"data_id,omitempty"`
	RegID   string   `json:"reg_id,omitempty"`
	Data    string   `json:"data,omitempty"`
	Version uint64   `json:"version,omitempty"`
	Pubs    []string `json:"pubs,omitempty"`     // push: "regId=data", sorted
	PubVers []uint64 `json:"pub_vers,omitempty"` // push: each publisher's version
	Node    string   `json:"node,omitempty"`
	Inc     uint32   `json:"inc,omitempty"`
	Epoch   uint64   `json:"epoch,omitempty"`
	Term    uint64   `json:"term,omitempty"`
	Leader  bool     `json:"leader,omitempty"`
	Slots   []int    `json:"slots,omitempty"`
	Until   int64    `json:"until,omitempty"` // disturbed: the end of the fault's effect
	// Meta store operations (MetaOp), Jepsen-style: invoked at Call,
	// completed at T; Unknown means the outcome was never learnt (:info).
	Op       string `json:"op,omitempty"`
	Expected uint64 `json:"expected,omitempty"`
	Call     int64  `json:"call,omitempty"`
	OK       bool   `json:"ok,omitempty"`
	Unknown  bool   `json:"unknown,omitempty"`
	// Skew (Meta, election=db): the meta's wall clock minus the lock
	// database's, in ms.
	Skew int64 `json:"skew,omitempty"`
	// Lock (LockOp): the statement and its answer.
	Lock *LockCall `json:"lock,omitempty"`
	// Drills (ops.go): the clients it names and the session servers it
	// went to (a zone's; none: every session server).
	Clients  []int    `json:"clients,omitempty"`
	Sessions []string `json:"sessions,omitempty"`
	// Revision: the interfaces it serves.
	Interfaces []string `json:"interfaces,omitempty"`
}

// History is a registry run's events in the order they happened.
type History struct {
	Events []Event `json:"events"`
}

// Record appends an event.
func (h *History) Record(ev Event) { h.Events = append(h.Events, ev) }

// Len is the number of events.
func (h *History) Len() int { return len(h.Events) }

// Entry describes event i for people.
func (h *History) Entry(i int) checkers.Entry {
	ev := h.Events[i]
	call := ev.T
	if ev.Kind == MetaOp || ev.Kind == LockOp {
		call = ev.Call
	}
	e := checkers.Entry{ID: i, Client: ev.Client, Key: ev.DataID, Call: call, Return: ev.T, Unknown: ev.Unknown, Result: "ok"}
	q := func(s string) string { return fmt.Sprintf("%q", s) }
	switch ev.Kind {
	case Publish:
		e.Op = fmt.Sprintf("publish(%s, %s = %s) v%d", q(ev.DataID), q(ev.RegID), q(ev.Data), ev.Version)
	case PublishAck:
		e.Op = fmt.Sprintf("publish-ack(%s) v%d", q(ev.RegID), ev.Version)
	case Unpublish, Subscribe:
		e.Op = fmt.Sprintf("%s(%s, %s)", ev.Kind, q(ev.DataID), q(ev.RegID))
	case Push:
		e.Op = fmt.Sprintf("push to %s of %s v%d", q(ev.RegID), q(ev.DataID), ev.Version)
		e.Result = "[" + strings.Join(ev.Pubs, ", ") + "]"
	case Drill:
		e.Op = drillText(ev)
	case Connect, Disconnect:
		e.Op = fmt.Sprintf("%s %s", ev.Kind, ev.Node)
	case Slots:
		e.Op = fmt.Sprintf("%s (incarnation %d) leads %d slots at epoch %d", ev.Node, ev.Inc, len(ev.Slots), ev.Epoch)
	case Meta:
		e.Op = fmt.Sprintf("%s (incarnation %d) term %d leader=%v epoch %d", ev.Node, ev.Inc, ev.Term, ev.Leader, ev.Epoch)
		if ev.Skew != 0 {
			e.Op += fmt.Sprintf(" clock %+dms from the lock database's", ev.Skew)
		}
	case LockOp:
		e.Op, e.Result = ev.Lock.describe(ev.Node)
	case MetaOp:
		if ev.Op == "cas" {
			e.Op = fmt.Sprintf("meta cas(epoch %d → %d)", ev.Expected, ev.Expected+1)
			e.Result = map[bool]string{true: "swapped", false: "failed"}[ev.OK]
		} else {
			e.Op = "meta read(epoch)"
			e.Result = fmt.Sprint(ev.Epoch)
		}
		if ev.Unknown {
			e.Result = "unknown (timed out)"
		}
	default:
		e.Op = string(ev.Kind)
	}
	return e
}

// WriteJSON writes the history as one JSON object.
func (h *History) WriteJSON(w io.Writer) error { return checkers.WriteJSONLine(w, h) }

// ReadJSON reads a history WriteJSON wrote; unknown fields are errors.
func ReadJSON(r io.Reader) (*History, error) {
	return checkers.ReadStrictJSON[History](r, "registry history")
}
