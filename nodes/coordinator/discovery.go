package coordinator

import (
	"slices"

	"github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/sim"
)

// TCDataID is the registry dataInfoId under which TCs publish themselves
// (Seata's registry.type=sofa with the default cluster).
const TCDataID = "seata-tc.default"

// discovery finds the TCs: the static list, or the registry's pushes.
// Until the first push it falls back to the static list.
type discovery struct {
	static []sim.NodeID
	found  []sim.NodeID
	reg    *registry.Client
}

func newDiscovery(env *sim.Env, cfg *Config, publish bool) *discovery {
	d := &discovery{static: cfg.TCs}
	if len(cfg.Registry) == 0 {
		return d
	}
	d.reg = registry.NewClient(env, registry.ClientConfig{Sessions: cfg.Registry, OnPush: func(_ string, dt *registry.Datum) {
		var list []sim.NodeID
		for _, p := range dt.Pubs {
			list = append(list, sim.NodeID(p.Data))
		}
		slices.Sort(list)
		d.found = list
	}})
	if publish {
		d.reg.Publish(TCDataID, string(env.ID()), string(env.ID()))
	} else {
		d.reg.Subscribe(TCDataID, string(env.ID())+"/tc")
	}
	return d
}

func (d *discovery) servers() []sim.NodeID {
	if len(d.found) > 0 {
		return d.found
	}
	return d.static
}

func (d *discovery) handleMessage(c sim.ConnID, from sim.NodeID, msg any) bool {
	return d.reg != nil && d.reg.HandleMessage(c, from, msg)
}
func (d *discovery) handleConnected(c sim.ConnID, p sim.NodeID) bool {
	return d.reg != nil && d.reg.HandleConnected(c, p)
}
func (d *discovery) handleClosed(c sim.ConnID, p sim.NodeID) bool {
	return d.reg != nil && d.reg.HandleClosed(c, p)
}
func (d *discovery) handleTimer(id sim.TimerID, tag any) bool {
	return d.reg != nil && d.reg.HandleTimer(id, tag)
}
