package mesh

import (
	"time"

	"github.com/sofasim/sofasim/sim"
)

// Observer hears what the mesh's nodes do, for checkers. The harness sets
// it; nodes call it synchronously and never read anything back, so it is
// not part of their state. A nil Observer costs nothing.
type Observer interface {
	Observe(node sim.NodeID, ev Event)
}

// Event is one of the event types below.
type Event interface{ meshEvent() }

// XDS kinds.
const (
	XDSSubscribe = "subscribe" // sidecar -> pilot, first request of a stream
	XDSResponse  = "response"  // pilot -> sidecar (observed by the pilot when sent)
	XDSReceived  = "received"  // observed by the sidecar on arrival
	XDSAck       = "ack"       // sidecar -> pilot
	XDSNack      = "nack"      // sidecar -> pilot
	XDSAckSeen   = "ack-seen"  // observed by the pilot
	XDSNackSeen  = "nack-seen" // observed by the pilot (also for superseded responses)
	// XDSStreamClosed: the pilot lost a sidecar's stream; responses on it
	// may stay unanswered.
	XDSStreamClosed = "stream-closed"
)

// Events.
type (
	// XDSEvent is one xDS message, seen by the sidecar or the pilot.
	XDSEvent struct {
		Kind    string
		Sidecar sim.NodeID
		Pilot   sim.NodeID
		Type    string
		Version string
		Nonce   string
		Error   string
		Digest  uint64 // of the resources, on responses
	}
	// ConfigApplied: a sidecar made a response (or a held route
	// configuration) its active state. Clusters are the active clusters
	// after the change, Referenced the clusters the active routes name.
	ConfigApplied struct {
		Type       string
		Version    string
		Nonce      string
		Digest     uint64
		Clusters   []string
		Referenced []string
	}
	// Issued: a client sent a request to its sidecar.
	Issued struct {
		Req     Request
		Timeout time.Duration // the client's patience, for checkers of answers
	}
	// Answered: a sidecar gave the caller its final answer.
	Answered struct {
		ReqID    string
		Resp     Response
		Attempts int
		Route    string
		Cluster  string
	}
	// Routed: the router picked a route and cluster for a request.
	Routed struct {
		ReqID   string
		Route   string
		Cluster string
		Split   bool // the route has more than one weighted cluster
	}
	// Attempt: the router sent (or queued) one attempt to a host. The load
	// balancer's view at the pick is included: the hosts, which were
	// ejected or unhealthy, and whether it was in panic mode. Active* count
	// the cluster's requests and pending requests with this one, and the
	// breaker limits that bound them.
	Attempt struct {
		ReqID       string
		N           int // 1 for the first try
		Cluster     string
		Host        sim.NodeID
		Hosts       []sim.NodeID
		Ejected     []sim.NodeID
		Unhealthy   []sim.NodeID
		Panic       bool
		Path        string // the path sent upstream
		Active      int
		MaxRequests int
		Pending     int
		MaxPending  int
	}
	// AttemptDone: an attempt ended (response, failure, timeout or the
	// request ended first).
	AttemptDone struct {
		ReqID string
		N     int
		Host  sim.NodeID
		Epoch uint32 // the host identity the attempt named
		Resp  Response
	}
	// NoHost: the load balancer found no host for an attempt.
	NoHost struct {
		ReqID   string
		Cluster string
		Hosts   []sim.NodeID
	}
	// Retry: the router decided on a retry. Outstanding counts the
	// cluster's retries admitted and not yet finished, this one included
	// when admitted; Limit is the budget's limit at the decision (-1: no
	// budget) and MaxRetries the breaker's.
	Retry struct {
		ReqID       string
		N           int // the attempt the retry will be
		Cluster     string
		Admitted    bool
		Reason      string // why not, when not admitted
		Outstanding int
		Limit       int
		MaxRetries  int
	}
	// RetryDone: an admitted retry finished (its attempt ended, or the
	// request ended during its backoff).
	RetryDone struct {
		ReqID   string
		N       int
		Cluster string
	}
	// Overflow: a circuit breaker refused an attempt.
	Overflow struct {
		ReqID   string
		Cluster string
		Breaker string // "requests", "pending", "connections", "retries"
	}
	// Ejection: outlier detection ejected (or returned) a host. Ejected
	// counts the cluster's ejected hosts after the change.
	Ejection struct {
		Cluster    string
		Host       sim.NodeID
		Ejected    bool
		NumEjected int
		Hosts      int
		MaxPercent int
	}
	// Health: an active health check changed a host's state.
	Health struct {
		Cluster string
		Host    sim.NodeID
		Healthy bool
	}
	// AuthzDecision: the inbound sidecar decided on a caller.
	AuthzDecision struct {
		ReqID   string
		Caller  string
		Allowed bool
	}
	// Executed: an application began running a request (its side effects
	// happen here: a second Executed for a non-idempotent request id is a
	// double execution).
	Executed struct {
		Req     Request
		Attempt int
		Version string
	}
	// Lifecycle: an application instance changed state.
	Lifecycle struct {
		State    string // "published", "draining", "stopped"
		Service  string
		Endpoint Endpoint
	}
)

// Application lifecycle states.
const (
	StatePublished = "published"
	StateDraining  = "draining" // unpublished, still serving
	StateStopped   = "stopped"  // refuses new requests
)

func (XDSEvent) meshEvent()      {}
func (ConfigApplied) meshEvent() {}
func (Issued) meshEvent()        {}
func (Answered) meshEvent()      {}
func (Routed) meshEvent()        {}
func (Attempt) meshEvent()       {}
func (AttemptDone) meshEvent()   {}
func (NoHost) meshEvent()        {}
func (Retry) meshEvent()         {}
func (RetryDone) meshEvent()     {}
func (Overflow) meshEvent()      {}
func (Ejection) meshEvent()      {}
func (Health) meshEvent()        {}
func (AuthzDecision) meshEvent() {}
func (Executed) meshEvent()      {}
func (Lifecycle) meshEvent()     {}

// observe is a nil-safe call of an Observer.
func observe(o Observer, env *sim.Env, ev Event) {
	if o != nil {
		o.Observe(env.ID(), ev)
	}
}
