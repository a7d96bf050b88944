package rehearsal

import (
	"fmt"
	"time"

	"github.com/sofasim/sofasim/nodes/coordinator"
	"github.com/sofasim/sofasim/sim"
)

// DrillMark is a drill as it happened, for reports: when (seconds of
// traffic), what, which nodes, and until when it lasted (0: to the end).
type DrillMark struct {
	At    time.Duration `json:"at"`
	Until time.Duration `json:"until,omitempty"`
	Kind  string        `json:"kind"`
	What  string        `json:"what"`
	Nodes []sim.NodeID  `json:"nodes,omitempty"`
}

// defaultRestart: crashed nodes of a drill come back after this unless
// the drill says For.
const defaultRestart = 10 * time.Second

func (h *harness) scheduleDrills() {
	for _, d := range h.f.Drills {
		h.w.At(h.warmup+time.Duration(d.At), func() { h.drill(d) })
	}
}

// drill applies one drill; targets named by role (the serving TC) are
// resolved now, deterministically.
func (h *harness) drill(d Drill) {
	at := time.Duration(d.At)
	mark := DrillMark{At: at, Kind: d.Kind}
	restart := time.Duration(d.For)
	switch d.Kind {
	case DrillZoneDown:
		mark.Nodes = h.nodesInZone(d.Zone)
		mark.What = "zone " + d.Zone + " lost"
	case DrillTCFailover:
		if tc := coordinator.ServingTC(h.w, h.co); tc != nil {
			for _, id := range h.co.TCs {
				if h.w.Node(id) == tc {
					mark.Nodes = []sim.NodeID{id}
				}
			}
		}
		mark.What = fmt.Sprintf("TC leader %v crashes", mark.Nodes)
		if restart == 0 {
			restart = defaultRestart
		}
	case DrillRegistryData:
		mark.Nodes = []sim.NodeID{h.reg.Data[0]}
		mark.What = fmt.Sprintf("registry data server %s crashes", h.reg.Data[0])
		if restart == 0 {
			restart = defaultRestart
		}
	case DrillInstanceDown:
		mark.Nodes = h.apps[d.Service][:d.Count]
		mark.What = fmt.Sprintf("%d instances of %s crash", d.Count, d.Service)
		if d.Count == 1 {
			mark.What = fmt.Sprintf("1 instance of %s crashes", d.Service)
		}
	case DrillSlowDB:
		mark.Nodes = h.dbs[d.Service]
		mark.What = fmt.Sprintf("%s's databases sync %v slower", d.Service, d.Delay)
		mark.Until = at + time.Duration(d.For)
		_ = h.w.Inject(sim.DiskSlow{Nodes: mark.Nodes, Delay: d.Delay, For: d.For})
		h.drills = append(h.drills, mark)
		return
	}
	if len(mark.Nodes) == 0 {
		mark.What += " (nothing to crash)"
		h.drills = append(h.drills, mark)
		return
	}
	_ = h.w.Inject(sim.Crash{Nodes: mark.Nodes})
	if restart > 0 {
		mark.Until = at + restart
		nodes := mark.Nodes
		h.w.After(restart, func() { _ = h.w.Inject(sim.Restart{Nodes: nodes}) })
	}
	h.drills = append(h.drills, mark)
}
