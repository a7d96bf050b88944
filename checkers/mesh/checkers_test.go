package mesh

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/checkers"
	"github.com/sofasim/sofasim/sim"
)

const ms = time.Millisecond

// base is a small healthy history: configuration, pods, one request with
// a retried first attempt, xDS exchanges and the end state.
func base() *History {
	h := &History{}
	h.Add(0, "operator", ConfigSet{Version: 1, Services: []ServicePolicy{{Name: "svc-a", Allow: []string{"client"},
		Routes: []RoutePolicy{{Name: "api", NumRetries: 1, Split: []Split{{"outbound|svc-a|v1", 80}, {"outbound|svc-a|v2", 20}}},
			{Name: "default", NumRetries: 2, Split: []Split{{"outbound|svc-a", 1}}}}}}})
	h.Add(0, "svc-a-1", Deployed{Service: "svc-a"})
	h.Add(0, "svc-a-2", Deployed{Service: "svc-a"})
	h.Add(0, "client-1", Deployed{Service: "client"})
	h.Add(10*ms, "pilot-1", XDSEvent{Kind: XDSResponse, Sidecar: "client-1", Pilot: "pilot-1", Type: "CDS", Version: "p#1/1", Nonce: "n1"})
	h.Add(11*ms, "client-1", XDSEvent{Kind: XDSReceived, Sidecar: "client-1", Pilot: "pilot-1", Type: "CDS", Version: "p#1/1", Nonce: "n1"})
	h.Add(11*ms, "client-1", ConfigApplied{Type: "CDS", Version: "p#1/1", Clusters: []string{"outbound|svc-a"}, Referenced: []string{"outbound|svc-a"}})
	h.Add(11*ms, "client-1", XDSEvent{Kind: XDSAck, Sidecar: "client-1", Pilot: "pilot-1", Type: "CDS", Version: "p#1/1", Nonce: "n1"})
	h.Add(12*ms, "pilot-1", XDSEvent{Kind: XDSAckSeen, Sidecar: "client-1", Pilot: "pilot-1", Type: "CDS", Version: "p#1/1", Nonce: "n1"})
	h.Add(300*ms, "svc-a-1", Lifecycle{State: StatePublished, Service: "svc-a", Endpoint: Endpoint{Addr: "svc-a-1", Epoch: 1}})
	req := Request{ID: "r1", Service: "svc-a", Path: "/x", Caller: "client", Idempotent: true}
	h.Add(1000*ms, "client-1", Issued{Req: req, Timeout: time.Second})
	h.Add(1000*ms, "client-1", Routed{ReqID: "r1", Route: "default", Cluster: "outbound|svc-a"})
	h.Add(1000*ms, "client-1", Attempt{ReqID: "r1", N: 1, Cluster: "outbound|svc-a", Host: "svc-a-2", Hosts: []sim.NodeID{"svc-a-1", "svc-a-2"}, Path: "/x", Active: 1, MaxRequests: 10, MaxPending: 10})
	h.Add(1001*ms, "svc-a-2", Executed{Req: req, Attempt: 1})
	h.Add(1010*ms, "client-1", AttemptDone{ReqID: "r1", N: 1, Host: "svc-a-2", Epoch: 1, Resp: Response{Status: 500}})
	h.Add(1010*ms, "client-1", Retry{ReqID: "r1", N: 2, Cluster: "outbound|svc-a", Admitted: true, Outstanding: 1, Limit: 1, MaxRetries: 3})
	h.Add(1030*ms, "client-1", Attempt{ReqID: "r1", N: 2, Cluster: "outbound|svc-a", Host: "svc-a-1", Hosts: []sim.NodeID{"svc-a-1", "svc-a-2"}, Path: "/x", Active: 1, MaxRequests: 10, MaxPending: 10})
	h.Add(1031*ms, "svc-a-1", Executed{Req: req, Attempt: 2})
	h.Add(1040*ms, "client-1", AttemptDone{ReqID: "r1", N: 2, Host: "svc-a-1", Epoch: 1, Resp: Response{Status: 200, By: "svc-a-1"}})
	h.Add(1040*ms, "client-1", RetryDone{ReqID: "r1", N: 2, Cluster: "outbound|svc-a"})
	h.Add(1040*ms, "client-1", Answered{ReqID: "r1", Resp: Response{Status: 200, By: "svc-a-1"}, Attempts: 2, Route: "default", Cluster: "outbound|svc-a"})
	h.Add(2*time.Second, "operator", Healed{})
	h.Add(10*time.Second, "operator", Ended{})
	return h
}

func verdicts(h *History) map[string]checkers.Result {
	out := map[string]checkers.Result{}
	for _, c := range Checkers(DefaultBounds) {
		out[c.Name()] = c.Check(h, checkers.Options{})
	}
	return out
}

func TestBaseHistoryPassesEveryChecker(t *testing.T) {
	for name, r := range verdicts(base()) {
		require.Equalf(t, checkers.Pass, r.Verdict, "%s: %s", name, r.Explanation)
	}
}

// Each mutation breaks exactly the invariant named.
func TestEachCheckerFindsItsViolation(t *testing.T) {
	for _, tc := range []struct {
		checker string
		mutate  func(h *History)
	}{
		{"xds-discipline", func(h *History) { // an ACK with the wrong version
			e := h.Records[7].Ev.(XDSEvent)
			e.Version = "p#1/0"
			h.Records[7].Ev = e
		}},
		{"xds-discipline", func(h *History) { h.Records = append(h.Records[:7], h.Records[8:]...) }}, // never answered
		{"referential-integrity", func(h *History) {
			h.Add(1100*ms, "client-1", ConfigApplied{Type: "RDS", Version: "v", Clusters: []string{"a"}, Referenced: []string{"a", "b"}})
		}},
		{"convergence", func(h *History) {
			h.Records[len(h.Records)-1].Ev = Ended{Divergence: []string{"client-1: cluster outbound|svc-a holds [], want [svc-a-1]"}}
		}},
		{"no-request-to-removed-host", func(h *History) {
			h.Add(1100*ms, "svc-a-1", Lifecycle{State: StateDraining, Service: "svc-a"})
			heard(h, 1200*ms)
			h.Add(9*time.Second, "client-1", Attempt{ReqID: "r9", N: 1, Host: "svc-a-1", MaxRequests: 1, MaxPending: 1})
		}},
		{"no-request-to-removed-host", func(h *History) {
			h.Add(1100*ms, "svc-a-1", Lifecycle{State: StatePublished, Service: "svc-a", Endpoint: Endpoint{Addr: "svc-a-1", Epoch: 2}})
			heard(h, 1200*ms)
			h.Add(9*time.Second, "client-1", AttemptDone{ReqID: "r9", N: 1, Host: "svc-a-1", Epoch: 1, Resp: Response{Status: 503, Flag: FlagStaleIdentity}})
		}},
		{"lb-respects-health", func(h *History) {
			e := h.Records[16].Ev.(Attempt)
			e.Unhealthy = []sim.NodeID{"svc-a-1"}
			h.Records[16].Ev = e
		}},
		{"max-ejection-percent", func(h *History) {
			h.Add(1100*ms, "client-1", Ejection{Cluster: "outbound|svc-a", Host: "svc-a-1", Ejected: true, NumEjected: 2, Hosts: 2, MaxPercent: 50})
		}},
		{"retry-limits", func(h *History) { // 3 attempts, route default allows 2 retries: fine; make it 4
			e := h.Records[20].Ev.(Answered)
			e.Attempts = 4
			h.Records[20].Ev = e
		}},
		{"retry-limits", func(h *History) { // over the budget
			e := h.Records[15].Ev.(Retry)
			e.Outstanding = 2
			h.Records[15].Ev = e
		}},
		{"retry-limits", func(h *History) { // a retry that sends another path
			e := h.Records[16].Ev.(Attempt)
			e.Path = "/v1/x"
			h.Records[16].Ev = e
		}},
		{"circuit-breaker-limits", func(h *History) {
			e := h.Records[12].Ev.(Attempt)
			e.Active = 11
			h.Records[12].Ev = e
		}},
		{"authorization", func(h *History) {
			e := h.Records[13].Ev.(Executed)
			e.Req.Caller = "intruder"
			h.Records[13].Ev = e
		}},
		{"exactly-once", func(h *History) { // non-idempotent request run twice
			for _, i := range []int{13, 17} {
				e := h.Records[i].Ev.(Executed)
				e.Req.Idempotent = false
				h.Records[i].Ev = e
			}
			e := h.Records[10].Ev.(Issued)
			e.Req.Idempotent = false
			h.Records[10].Ev = e
		}},
		{"exactly-once", func(h *History) { h.Records = append(h.Records[:20], h.Records[21:]...) }}, // never answered
		{"recovery", func(h *History) {
			for i := 0; i < 20; i++ {
				id := "late" + string(rune('a'+i))
				h.Add(6*time.Second, "client-1", Issued{Req: Request{ID: id, Service: "svc-a"}, Timeout: time.Second})
				h.Add(6*time.Second+ms, "client-1", Answered{ReqID: id, Resp: Response{Status: 503, Flag: "UH"}, Attempts: 1, Route: "default"})
			}
			end := h.Records[22]
			h.Records = append(append(h.Records[:22:22], h.Records[23:]...), end)
		}},
		{"weighted-split", func(h *History) {
			for i := 0; i < 100; i++ {
				id := "w" + string(rune('a'+i%26)) + string(rune('a'+i/26))
				h.Add(6*time.Second, "client-1", Issued{Req: Request{ID: id, Service: "svc-a", Path: "/api/x"}, Timeout: time.Second})
				h.Add(6*time.Second, "client-1", Routed{ReqID: id, Route: "api", Cluster: "outbound|svc-a|v2", Split: true})
				h.Add(6*time.Second, "client-1", Answered{ReqID: id, Resp: Response{Status: 200}, Attempts: 1, Route: "api"})
			}
		}},
	} {
		t.Run(tc.checker, func(t *testing.T) {
			h := base()
			tc.mutate(h)
			got := verdicts(h)
			require.Equalf(t, checkers.Fail, got[tc.checker].Verdict, "%s: %s", tc.checker, got[tc.checker].Explanation)
			t.Log(got[tc.checker].Explanation)
		})
	}
}

// heard records client-1 receiving an xDS response at t.
func heard(h *History, t time.Duration) {
	h.Add(t, "client-1", XDSEvent{Kind: XDSReceived, Sidecar: "client-1", Pilot: "pilot-1", Type: "EDS", Version: "p#1/2", Nonce: "n2"})
}

// A sidecar cut off from every pilot acts on its last configuration: its
// staleness bound starts only once it hears from a control plane again
// (mesh-chaos seed 811: a clog kept client-3's xDS streams from 3.2 s to
// 11.8 s, and it hit a republished host's old identity at 12.0 s).
func TestRemovedHostBoundStartsWhenTheSidecarCanHear(t *testing.T) {
	check := func(h *History) checkers.Verdict {
		return NoRequestToRemovedHost{Bound: 5 * time.Second, CrashBound: 8 * time.Second}.Check(h, checkers.Options{}).Verdict
	}
	for _, change := range []Event{
		Lifecycle{State: StateDraining, Service: "svc-a"},
		Lifecycle{State: StatePublished, Service: "svc-a", Endpoint: Endpoint{Addr: "svc-a-1", Epoch: 2}},
	} {
		stale := func(h *History, t time.Duration) {
			h.Add(t, "client-1", Attempt{ReqID: "r9", N: 1, Host: "svc-a-1", MaxRequests: 1, MaxPending: 1})
			h.Add(t+ms, "client-1", AttemptDone{ReqID: "r9", N: 1, Host: "svc-a-1", Epoch: 1, Resp: Response{Status: 503, Flag: FlagStaleIdentity}})
		}
		h := base()
		h.Add(1100*ms, "svc-a-1", change)
		stale(h, 9*time.Second)
		require.Equal(t, checkers.Pass, check(h), "nothing heard since the change")

		h = base()
		h.Add(1100*ms, "svc-a-1", change)
		heard(h, 5*time.Second)
		stale(h, 9*time.Second)
		require.Equal(t, checkers.Pass, check(h), "heard 4 s before")

		h = base()
		h.Add(1100*ms, "svc-a-1", change)
		heard(h, 3*time.Second)
		stale(h, 9*time.Second)
		require.Equal(t, checkers.Fail, check(h), "heard 6 s before")
	}
}

// The history round-trips through JSON, and a request's entry tells its
// attempts, hosts, retries and the versions the sidecars held.
func TestHistoryJSONAndEntry(t *testing.T) {
	h := base()
	var buf bytes.Buffer
	require.NoError(t, h.WriteJSON(&buf))
	back, err := ReadJSON(&buf)
	require.NoError(t, err)
	require.Equal(t, h.Records, back.Records)
	e := back.Entry(20)
	require.Equal(t, "r1", e.Key)
	require.Contains(t, e.Result, "#1 outbound|svc-a at 1s → svc-a-2")
	require.Contains(t, e.Result, "retry #2 admitted")
	require.Contains(t, e.Result, "answered 200 by svc-a-1 after 2 attempt(s)")
	require.Contains(t, e.Result, "client-1 held CDS=p#1/1")
	_, err = ReadJSON(bytes.NewReader([]byte(`[{"t":0,"node":"x","kind":"Nope","event":{}}]`)))
	require.ErrorContains(t, err, "unknown mesh event kind")
}
