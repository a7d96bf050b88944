package registry

import (
	"time"

	regnode "github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/scenarios"
)

// livenessParam chooses how clients and sessions notice a peer that went
// silent with the connection open (nodes/registry/client_liveness.go).
var livenessParam = scenarios.Choice("client-liveness", regnode.LivenessBolt, []string{regnode.LivenessBolt, regnode.LivenessPing},
	"clients' connection liveness: sofa-bolt's heartbeat (sent after heartbeat-interval idle, 1 s timeout, closed after 3 missed: at 15 s a stalled session is left 45-60 s after it went silent; sessions close connections idle 45 s) or a 1 s ping closed after 3 s of silence (the model before)")

// heartbeatParam is bolt.tcp.heartbeat.interval, a JVM property a
// deployment may set. registry-session-failover and registry-chaos default
// to 1 s (paramsFor): their 3.5-10 s session stalls stand for the minute-
// long hangs that make real clients give a session up (45-60 s at 15 s),
// which a 30 s run cannot hold, and the stalled sessions' late cleanups
// after their clients moved are what sofa-registry#74 and
// serve-before-migration need.
var heartbeatParam = scenarios.Dur("heartbeat-interval", 15*time.Second,
	"under client-liveness=bolt, a client sends a heartbeat after this long without reading or writing and gives the session up after 3 missed (bolt.tcp.heartbeat.interval, 15 s; registry-session-failover and registry-chaos default to 1 s so that their 3.5-10 s session stalls move clients as minute-long hangs do; sessions close connections idle 45 s either way)")

// compressedHeartbeat is the heartbeat interval of the scenarios whose
// session stalls must move clients.
const compressedHeartbeat = time.Second

// clientLiveness is the Liveness the parameters name.
func clientLiveness(p scenarios.Values) regnode.Liveness {
	return regnode.Liveness{Mode: p.String("client-liveness"), Idle: p.Duration("heartbeat-interval")}
}
