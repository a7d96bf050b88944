package mesh

import (
	"hash/fnv"
	"strconv"

	"github.com/sofasim/sofasim/sim"
)

// Request is an application request. It is a value: every attempt sends a
// copy, so nothing an attempt does can change what a retry sends.
type Request struct {
	ID         string // unique per caller request
	Service    string // the authority: which service is called
	Path       string
	Headers    []Header
	Idempotent bool
	Caller     string // the caller's identity, set by its sidecar (mTLS)
}

// Header returns the value of the named header ("" if absent).
func (r *Request) Header(name string) string {
	for _, h := range r.Headers {
		if h.Name == name {
			return h.Value
		}
	}
	return ""
}

// Status codes.
const (
	StatusOK          = 200
	StatusForbidden   = 403
	StatusNotFound    = 404
	StatusTooMany     = 429
	StatusError       = 500
	StatusBadGateway  = 502
	StatusUnavailable = 503
	StatusTimeout     = 504
)

// Response flags (Envoy's), saying why a sidecar answered locally.
const (
	FlagNoRoute        = "NR"   // no route matched
	FlagNoCluster      = "NC"   // the route's cluster is unknown
	FlagNoHealthy      = "UH"   // no healthy upstream
	FlagOverflow       = "UO"   // a circuit breaker overflowed
	FlagConnectFailure = "UF"   // the upstream connection failed
	FlagReset          = "UR"   // the upstream connection broke mid-request
	FlagPerTryTimeout  = "UT"   // an attempt timed out
	FlagRouteTimeout   = "RT"   // the route's timeout expired
	FlagFaultAbort     = "FI"   // fault injection aborted the request
	FlagRateLimited    = "RL"   // the inbound rate limit refused it
	FlagDenied         = "UAEX" // authorization refused the caller
	FlagQueueFull      = "QF"   // the application's queue was full
	FlagDraining       = "DR"   // the instance is draining and takes no new requests
	FlagStaleIdentity  = "SI"   // the request named another incarnation of the host
)

// Response answers a request.
type Response struct {
	Status int
	Flag   string
	// NotExecuted: the upstream guarantees the application did not run the
	// request (refused before execution), so even a non-idempotent request
	// may be retried.
	NotExecuted bool
	// By names the instance that executed the request.
	By sim.NodeID
}

// OK reports a successful response.
func (r Response) OK() bool { return r.Status == StatusOK }

// Messages between sidecars, on pooled connections.
type (
	// UpstreamReq carries one attempt to the upstream sidecar.
	UpstreamReq struct {
		Stream  uint64
		Req     Request
		Attempt int
		// Epoch is the incarnation the caller's host metadata names; the
		// upstream refuses another (its certificate changed).
		Epoch uint32
	}
	// UpstreamResp answers an attempt. Drain asks the caller to stop using
	// the connection (HTTP/2 GOAWAY).
	UpstreamResp struct {
		Stream uint64
		Resp   Response
		Drain  bool
	}
)

// Health-check datagrams.
type (
	HealthProbe struct {
		Cluster string
		Seq     uint64
	}
	HealthReply struct {
		Cluster string
		Seq     uint64
		OK      bool
	}
)

// DiscoveryRequest is the xDS request: the first on a stream subscribes (and
// says which version the sidecar holds), later ones ACK (VersionInfo is the
// version just applied) or NACK (VersionInfo is the previous version and
// ErrorDetail says why) the response named by ResponseNonce.
type DiscoveryRequest struct {
	TypeURL       string
	VersionInfo   string
	ResponseNonce string
	ErrorDetail   string
	Node          sim.NodeID
	Service       string // the proxy's service (its identity)
}

// DiscoveryResponse is a state-of-the-world xDS response of one type.
type DiscoveryResponse struct {
	TypeURL     string
	VersionInfo string
	Nonce       string
	Resources   *Resources
	// ContentDigest is Resources.Digest(), computed once by the sender.
	ContentDigest uint64
}

// Digest makes a response's content count in the run's fingerprint.
func (d *DiscoveryResponse) Digest() uint64 {
	h := fnv.New64a()
	h.Write([]byte(d.TypeURL + "\x00" + d.VersionInfo + "\x00" + d.Nonce + "\x00"))
	h.Write([]byte(strconv.FormatUint(d.ContentDigest, 16)))
	return h.Sum64()
}

// XDSPing and XDSPong keep an ADS stream alive at the application level
// (HTTP/2 PING): a stopped control plane (a long pause) keeps its TCP
// connections open, and the sidecar must move to another replica.
type (
	XDSPing struct{}
	XDSPong struct{}
)
