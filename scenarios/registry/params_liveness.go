package registry

import (
	regnode "github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/scenarios"
)

// livenessParam chooses how clients and sessions notice a peer that went
// silent with the connection open (nodes/registry/client_liveness.go).
var livenessParam = scenarios.Choice("client-liveness", regnode.LivenessBolt, []string{regnode.LivenessBolt, regnode.LivenessPing},
	"clients' connection liveness: sofa-bolt's heartbeat (after 15 s idle, 1 s timeout, closed after 3 missed: a stalled session is left 45-60 s after it went silent; sessions close connections idle 45 s) or a 1 s ping closed after 3 s of silence (the model before)")

// clientLiveness is the Liveness the parameter names.
func clientLiveness(p scenarios.Values) regnode.Liveness {
	return regnode.Liveness{Mode: p.String("client-liveness")}
}
