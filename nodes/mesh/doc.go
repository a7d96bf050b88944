// Package mesh is a MOSN-like service mesh written as sans-IO sofasim
// nodes: application pods with a sidecar each, client pods that generate
// load through their sidecar, and Istio-Pilot-like control-plane replicas
// fed by the service registry (nodes/registry, or the one-node Catalog in
// tests).
//
// # Roles
//
// A Pod is one machine: a Sidecar plus an App (a service instance) or a
// load generator. The sidecar and what runs beside it call each other
// directly (localhost); everything else goes over the simulated network.
//
// An App has a service-time distribution (Dist, integer-only, drawn from
// the pod's stream), Workers and a Queue (beyond them a request is refused
// with 503 QF, flagged NotExecuted), an error rate and grey failure (slow
// or failing requests while health checks pass; also the failpoints
// FailAppSlow and FailAppError, armed per node by a nemesis). It publishes
// its Endpoint (address, version label, weight, incarnation as its
// identity) once it is warm and its sidecar holds configuration, and on
// Drain unpublishes, fails health checks, serves DrainTime longer (its
// responses ask callers to drop the connection) and then refuses new
// requests (503 DR, NotExecuted).
//
// The Sidecar's outbound path: listener -> route (virtual host by service,
// path prefix/exact and header match) -> fault injection (delay/abort per
// million) -> weighted cluster -> load balancer (round robin, smooth
// weighted round robin, random, least request of two, ring hash) over the
// hosts that are neither ejected nor unhealthy, or all of them in panic
// mode -> circuit breakers (requests, pending, connections, retries) ->
// connection pool (one multiplexed connection per cluster and host, which
// keeps the host identity it was made for) -> upstream. The router owns
// the route timeout, per-try timeouts, retries (retry_on, num_retries,
// full-jitter exponential backoff, retry budget) and answers the caller
// exactly once. A request that may have reached the upstream is retried
// only when it is idempotent or the upstream says it did not run it.
// Passive outlier detection counts consecutive 5xx per host and ejects
// for BaseEjection times the ejection count while at most
// MaxEjectionPercent of the hosts are out; active health checks probe
// every host each interval by datagram. The inbound path checks the
// caller's identity (mTLS: the caller's service, which the caller cannot
// forge), the host identity the caller named (a restarted instance has a
// new one), the authorization allow list and the local rate limit, then
// hands the request to the App.
//
// The Pilot subscribes to every configured service in the registry, and
// once it heard of all (or after SyncTimeout) serves ADS streams: per
// sidecar and type it sends state-of-the-world responses (version_info
// "<pilot>#<incarnation>/<push>", a nonce unique per response) of the
// content the sidecar has not acknowledged yet, clusters first, then
// endpoints, listeners, routes; changes are debounced (Debounce of quiet,
// at most DebounceMax). The translation is BuildSnapshot, a pure function
// of the MeshConfig and the endpoints, so checkers can compute what every
// sidecar should hold. Replicas are independent; a sidecar whose stream
// breaks, or whose pilot stays silent for PingTimeout (a stopped process
// keeps its connections open), dials another after ReconnectDelay and
// resubscribes with the versions it holds, and the new replica sends what
// differs.
//
// A sidecar validates each response whole (Resources.Validate, and for
// routes: every cluster they name must exist) and applies it whole (ACK
// with its version and nonce) or not at all (NACK with the version it
// still holds and the error). It keeps the endpoints of clusters it does
// not have yet (they arrive with the next CDS), keeps a removed cluster
// while active routes still name it, and retires the pool of a host that
// left or changed identity.
//
// # Decisions
//
//   - Hosts enter healthy; active health checks and outlier detection take
//     them out. Panic mode is off by default (threshold 0, Istio's
//     default), so an empty healthy set answers 503 UH.
//   - Max ejection percent is strict: an ejection happens only if the
//     ejected hosts, this one included, stay within the percentage (so a
//     one-host cluster with 50% never ejects).
//   - Local answers (no route, no cluster, no healthy host, overflow, fault
//     abort, route timeout) are never retried and never count against a
//     host. Overflow is not retried: retries into a full breaker are how
//     a retry storm starts.
//   - The retry budget counts a retry from its admission (backoff
//     included) to the end of its attempt, against Percent of the
//     requests routed to the cluster and not answered yet.
//   - The control plane resends a type when its content differs from what
//     the sidecar last ACKed and is not already in flight, so a NACKed
//     response is retried with the next push and never loops.
//   - A registry publisher per instance incarnation ("addr#incarnation"),
//     because the registry orders a registerId's registrations by the
//     client's own version, which a restarted process counts from one.
//
// # What checkers need, and where it is
//
// Every node reports typed events to the Observer of its config (a
// Recorder stamps them with the world's time; Recorder.Request gives one
// request's story and Recorder.Versions the versions each sidecar held at
// a time, for reports); Mesh gives the state at the end. Nodes never
// import checkers.
//
//   - xDS discipline: XDSEvent. Every XDSReceived at a sidecar is followed
//     by one XDSAck carrying its version or one XDSNack carrying the
//     version the sidecar held (its last XDSAck of the type, or what its
//     XDSSubscribe said after a restart), same nonce. On the pilot side
//     every XDSResponse is answered by an XDSAckSeen or XDSNackSeen of its
//     nonce unless an XDSStreamClosed (or a restart of either end) follows.
//   - Convergence: Mesh.Divergence() after a quiet period (compares each
//     live sidecar's Applied digests with BuildSnapshot of Mesh.Config and
//     Mesh.Truth, and Sidecar.ClusterHosts with the expected endpoints).
//   - Referential integrity: ConfigApplied.Referenced within
//     ConfigApplied.Clusters.
//   - No request to a drained or removed host after a bound: Lifecycle
//     (draining) and Attempt.Host, with the harness's crash times. The
//     bound must allow for a pilot that died or stopped silently: the
//     keepalive or ping timeout (3s by default), the reconnect delay and
//     the debounce (the tests use 5s).
//   - The load balancer never picks an ejected or unhealthy host outside
//     panic mode: Attempt.Host, Attempt.Ejected, Attempt.Unhealthy,
//     Attempt.Panic. Ejections within max percent: Ejection.
//   - Attempts within 1 + num_retries: Answered.Attempts (or Attempt.N)
//     against the route's policy (Answered.Route). Retries within the
//     budget and the retry breaker: Retry.Outstanding against Retry.Limit
//     and Retry.MaxRetries at admission (RetryDone closes one).
//   - Circuit breakers: Attempt.Active/MaxRequests and
//     Attempt.Pending/MaxPending; Overflow when one refused.
//   - Weighted splits: Routed (Route, Cluster) per request.
//   - Authorization: Executed.Req.Caller against the service's allow list
//     (MeshConfig); AuthzDecision for each inbound decision.
//   - Exactly once: Issued and Answered per request id (one answer, before
//     Issued.Timeout, unless the client pod crashed); Executed per request
//     id, never twice for a non-idempotent request. Retries send the same
//     request: Attempt.Path equal across a request's attempts.
//   - Recovery (goodput): Issued and Answered.Resp over time windows.
//   - Identity: AttemptDone with FlagStaleIdentity and its Epoch against the
//     Lifecycle (published) Endpoint.Epoch of the host.
//
// checkers/mesh judges each of these, one checker a file, over the same
// events (its History reads a Recorder's JSON); the tests here run those
// checkers (checks_test.go) and scenarios/mesh runs them in sweeps.
//
// # Planted bugs
//
// See Bugs; each is a failpoint bug/mesh/<name> in the real code path.
// The chaos nemesis of the tests finds each within 20 seeds
// (TestPlantedBugsFound), by the checker in bugExpect: cluster update
// wiping endpoints and unknown cluster never recovering break convergence
// (a cluster holds no hosts while its applied EDS says otherwise), a
// deleted instance kept breaks convergence (and sends requests to drained
// hosts), single-host LB breaks lb-respects-health, max ejection ignored
// max-ejection-percent, retry rewrite and budget overshoot break
// retry-limits, route before cluster breaks referential-integrity, stale
// pool metadata makes requests refused for a stale identity long after
// the instance republished (no-request-to-removed-host). scenarios/mesh
// finds each by sweeping its scenario (README has the seeds).
package mesh
