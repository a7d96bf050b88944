package mesh

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// The values requests carry (as in nodes/mesh).
type (
	Header struct{ Name, Value string }
	// Request is an application request; Caller is the identity its
	// sidecar vouched for.
	Request struct {
		ID         string
		Service    string
		Path       string
		Headers    []Header
		Idempotent bool
		Caller     string
	}
	// Response answers one; Flag says why a sidecar answered locally.
	Response struct {
		Status      int
		Flag        string
		NotExecuted bool
		By          sim.NodeID
	}
	// Endpoint is one instance as the registry publishes it; Epoch is its
	// incarnation (its identity).
	Endpoint struct {
		Addr    sim.NodeID
		Weight  int
		Version string
		Epoch   uint32
	}
)

// OK reports a successful response.
func (r Response) OK() bool { return r.Status == 200 }

// Response flags the checkers read.
const (
	FlagStaleIdentity = "SI"
	FlagNoCluster     = "NC"
)

// XDS kinds (XDSEvent.Kind).
const (
	XDSSubscribe    = "subscribe"
	XDSResponse     = "response"
	XDSReceived     = "received"
	XDSAck          = "ack"
	XDSNack         = "nack"
	XDSAckSeen      = "ack-seen"
	XDSNackSeen     = "nack-seen"
	XDSStreamClosed = "stream-closed"
)

// Application lifecycle states (Lifecycle.State).
const (
	StatePublished = "published"
	StateDraining  = "draining"
	StateStopped   = "stopped"
)

// The nodes' events; nodes/mesh/observer.go documents each field.
type (
	XDSEvent struct {
		Kind    string
		Sidecar sim.NodeID
		Pilot   sim.NodeID
		Type    string
		Version string
		Nonce   string
		Error   string
		Digest  uint64
	}
	ConfigApplied struct {
		Type       string
		Version    string
		Nonce      string
		Digest     uint64
		Clusters   []string
		Referenced []string
	}
	Issued struct {
		Req     Request
		Timeout time.Duration
	}
	Answered struct {
		ReqID    string
		Resp     Response
		Attempts int
		Route    string
		Cluster  string
	}
	Routed struct {
		ReqID   string
		Route   string
		Cluster string
		Split   bool
	}
	Attempt struct {
		ReqID       string
		N           int
		Cluster     string
		Host        sim.NodeID
		Hosts       []sim.NodeID
		Ejected     []sim.NodeID
		Unhealthy   []sim.NodeID
		Panic       bool
		Path        string
		Active      int
		MaxRequests int
		Pending     int
		MaxPending  int
	}
	AttemptDone struct {
		ReqID string
		N     int
		Host  sim.NodeID
		Epoch uint32
		Resp  Response
	}
	NoHost struct {
		ReqID   string
		Cluster string
		Hosts   []sim.NodeID
	}
	Retry struct {
		ReqID       string
		N           int
		Cluster     string
		Admitted    bool
		Reason      string
		Outstanding int
		Limit       int
		MaxRetries  int
	}
	RetryDone struct {
		ReqID   string
		N       int
		Cluster string
	}
	Overflow struct {
		ReqID   string
		Cluster string
		Breaker string
	}
	Ejection struct {
		Cluster    string
		Host       sim.NodeID
		Ejected    bool
		NumEjected int
		Hosts      int
		MaxPercent int
	}
	Health struct {
		Cluster string
		Host    sim.NodeID
		Healthy bool
	}
	AuthzDecision struct {
		ReqID   string
		Caller  string
		Allowed bool
	}
	Executed struct {
		Req     Request
		Attempt int
		Version string
	}
	Lifecycle struct {
		State    string
		Service  string
		Endpoint Endpoint
	}
)

// The harness's events.
type (
	// Deployed: the pod (Record.Node) was added, with its service identity.
	Deployed struct {
		Service string
		Version string
	}
	// Crashed and Restarted: the pod or pilot (Record.Node) went down or
	// came back (a restart is a crash too: the old process is gone).
	Crashed   struct{}
	Restarted struct{}
	// ConfigSet: the operator replaced the mesh configuration; Version
	// counts the configurations from 1.
	ConfigSet struct {
		Version  int
		Services []ServicePolicy
		// Invalid: sidecars reject it whole and keep what they held.
		Invalid bool
	}
	// Healed: the faults are over and the liveness phase begins.
	Healed struct{}
	// Ended: recording stopped; Divergence lists how each live sidecar's
	// state differs from what the configuration and the registry's true
	// endpoints make of it (empty: converged).
	Ended struct {
		Divergence []string
	}
)

// ServicePolicy is what checkers need of one service's configuration.
type ServicePolicy struct {
	Name   string
	Allow  []string // empty: every caller
	Routes []RoutePolicy
}

// RoutePolicy is one route's retry limit and weighted split.
type RoutePolicy struct {
	Name       string
	NumRetries int
	Split      []Split
}

// Split is a weighted cluster of a route.
type Split struct {
	Cluster string
	Weight  int
}

func (XDSEvent) EventKind() string      { return "XDSEvent" }
func (ConfigApplied) EventKind() string { return "ConfigApplied" }
func (Issued) EventKind() string        { return "Issued" }
func (Answered) EventKind() string      { return "Answered" }
func (Routed) EventKind() string        { return "Routed" }
func (Attempt) EventKind() string       { return "Attempt" }
func (AttemptDone) EventKind() string   { return "AttemptDone" }
func (NoHost) EventKind() string        { return "NoHost" }
func (Retry) EventKind() string         { return "Retry" }
func (RetryDone) EventKind() string     { return "RetryDone" }
func (Overflow) EventKind() string      { return "Overflow" }
func (Ejection) EventKind() string      { return "Ejection" }
func (Health) EventKind() string        { return "Health" }
func (AuthzDecision) EventKind() string { return "AuthzDecision" }
func (Executed) EventKind() string      { return "Executed" }
func (Lifecycle) EventKind() string     { return "Lifecycle" }
func (Deployed) EventKind() string      { return "Deployed" }
func (Crashed) EventKind() string       { return "Crashed" }
func (Restarted) EventKind() string     { return "Restarted" }
func (ConfigSet) EventKind() string     { return "ConfigSet" }
func (Healed) EventKind() string        { return "Healed" }
func (Ended) EventKind() string         { return "Ended" }

func decode[E Event](raw json.RawMessage) (Event, error) {
	var e E
	err := strictJSON(raw, &e)
	return e, err
}

// kinds decodes each event kind.
var kinds = map[string]func(json.RawMessage) (Event, error){
	"XDSEvent": decode[XDSEvent], "ConfigApplied": decode[ConfigApplied], "Issued": decode[Issued],
	"Answered": decode[Answered], "Routed": decode[Routed], "Attempt": decode[Attempt],
	"AttemptDone": decode[AttemptDone], "NoHost": decode[NoHost], "Retry": decode[Retry],
	"RetryDone": decode[RetryDone], "Overflow": decode[Overflow], "Ejection": decode[Ejection],
	"Health": decode[Health], "AuthzDecision": decode[AuthzDecision], "Executed": decode[Executed],
	"Lifecycle": decode[Lifecycle], "Deployed": decode[Deployed], "Crashed": decode[Crashed],
	"Restarted": decode[Restarted], "ConfigSet": decode[ConfigSet], "Healed": decode[Healed], "Ended": decode[Ended],
}

// strictJSON decodes one value, refusing unknown fields and trailing data.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

// reqID is the request an event belongs to ("" for none).
func reqID(ev Event) string {
	switch e := ev.(type) {
	case Issued:
		return e.Req.ID
	case Routed:
		return e.ReqID
	case Attempt:
		return e.ReqID
	case AttemptDone:
		return e.ReqID
	case NoHost:
		return e.ReqID
	case Retry:
		return e.ReqID
	case RetryDone:
		return e.ReqID
	case Overflow:
		return e.ReqID
	case AuthzDecision:
		return e.ReqID
	case Executed:
		return e.Req.ID
	case Answered:
		return e.ReqID
	}
	return ""
}
