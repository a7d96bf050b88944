// Package raftkv holds raft's own invariants as checkers over a typed
// protocol history: what each server reported of itself (leaders, votes,
// commits, state machine digests, reads) while the run went on. The
// key-value history and linearizability live in package checkers; these
// judge the replicas directly, so a divergence no client happened to read
// still fails.
package raftkv

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sofasim/sofasim/checkers"
)

// Kind is a protocol event's kind.
type Kind string

// The protocol events, each reported by server Node (incarnation Inc).
const (
	Leader       Kind = "leader"        // became leader in Term
	Vote         Kind = "vote"          // sent a granted vote for Peer in Term
	Commit       Kind = "commit"        // learned the log committed up to Index
	State        Kind = "state"         // state machine at applied Index has Digest
	ReadReceived Kind = "read-received" // client read (Session, Seq) arrived
	ReadServed   Kind = "read-served"   // client read (Session, Seq) answered from applied Index, in Term
	Apply        Kind = "apply"         // the state machine applied the command at Index (a write of Key: its Value, unique in a workload)
	Restore      Kind = "restore"       // the state machine was built empty (Index 0) or restored from a snapshot at Index
	Query        Kind = "query"         // the state machine answered a read of Key; the last command it applied was Index
	ClientRead   Kind = "client-read"   // a client's read of Key, invoked at Call, was answered by Node at T (seen by the client)
	Recovered    Kind = "recovered"     // the server started from its disk in Term, having voted for Peer ("" none), its log up to Index
	Acked        Kind = "acked"         // the server's last acknowledgement before a crash: its log held everything up to Index, in Term
	Answered     Kind = "answered"      // a client (Node) took the response to (Session, Seq) from Peer as the answer to its request Index
	DiskImage    Kind = "disk-image"    // Node's disk as a crash leaves it went through recovery; Key is the error it stopped on ("": it recovered)
)

// Event is one protocol event at virtual time T (ns).
type Event struct {
	Kind    Kind   `json:"kind"`
	T       int64  `json:"t"`
	Node    string `json:"node"`
	Inc     uint32 `json:"inc"`
	Term    uint64 `json:"term,omitempty"`
	Peer    string `json:"peer,omitempty"`
	Index   uint64 `json:"index,omitempty"`
	Digest  uint64 `json:"digest,omitempty"`
	Session uint64 `json:"session,omitempty"`
	Seq     uint64 `json:"seq,omitempty"`
	Key     string `json:"key,omitempty"`
	Value   string `json:"value,omitempty"`
	Call    int64  `json:"call,omitempty"`
}

func (e Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v %s#%d %s", time.Duration(e.T), e.Node, e.Inc, e.Kind)
	switch e.Kind {
	case Leader:
		fmt.Fprintf(&b, " term %d", e.Term)
	case Vote:
		fmt.Fprintf(&b, " for %s in term %d", e.Peer, e.Term)
	case Answered:
		fmt.Fprintf(&b, " request %d of session %d with response %d from %s", e.Index, e.Session, e.Seq, e.Peer)
	case Recovered:
		fmt.Fprintf(&b, " in term %d, vote %q, log up to %d", e.Term, e.Peer, e.Index)
	case Acked:
		fmt.Fprintf(&b, " up to %d in term %d", e.Index, e.Term)
	case Commit:
		fmt.Fprintf(&b, " to %d", e.Index)
	case State:
		fmt.Fprintf(&b, " at %d = %016x", e.Index, e.Digest)
	case ReadReceived:
		fmt.Fprintf(&b, " %d/%d", e.Session, e.Seq)
	case ReadServed:
		fmt.Fprintf(&b, " %d/%d at index %d in term %d", e.Session, e.Seq, e.Index, e.Term)
	case DiskImage:
		if e.Key == "" {
			b.WriteString(" recovered")
		} else {
			fmt.Fprintf(&b, " did not recover: %s", e.Key)
		}
	case Apply:
		fmt.Fprintf(&b, " %d", e.Index)
		if e.Value != "" {
			fmt.Fprintf(&b, " (write %q of %q)", e.Value, e.Key)
		}
	case Restore:
		fmt.Fprintf(&b, " %d", e.Index)
	case Query:
		fmt.Fprintf(&b, " of %q after command %d", e.Key, e.Index)
	case ClientRead:
		fmt.Fprintf(&b, " of %q invoked at %v", e.Key, time.Duration(e.Call))
	}
	return b.String()
}

// Protocol is a raftkv run's protocol history, in the order things happened,
// but for Acked events: each is added just before the Recovered event of
// the restart that judges it, keeping its own T and Inc (so T is not
// monotone).
type Protocol struct {
	Events []Event `json:"events"`
}

// Len is the number of events.
func (p *Protocol) Len() int { return len(p.Events) }

// Entry describes event i for reports.
func (p *Protocol) Entry(i int) checkers.Entry {
	e := p.Events[i]
	return checkers.Entry{ID: i, Client: -1, Key: e.Node, Call: e.T, Return: e.T, Op: string(e.Kind), Result: e.String()}
}

// WriteJSON writes the events as JSON.
func (p *Protocol) WriteJSON(w io.Writer) error { return json.NewEncoder(w).Encode(p) }

func pass(name, why string) checkers.Result {
	return checkers.Result{Checker: name, Verdict: checkers.Pass, Explanation: why}
}

// fail reports the first few problems and how many there were.
func fail(name string, bad []string) checkers.Result {
	const show = 3
	msg := strings.Join(bad[:min(show, len(bad))], "; ")
	if len(bad) > show {
		msg += fmt.Sprintf(" (and %d more)", len(bad)-show)
	}
	return checkers.Result{Checker: name, Verdict: checkers.Fail, Explanation: msg}
}
