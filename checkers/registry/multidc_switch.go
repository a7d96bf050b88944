package registry

import (
	"fmt"
	"slices"

	"github.com/sofasim/sofasim/checkers"
)

// The multi-data-centre switches (nodes/registry/multidc_switch.go) as
// drills: Node names the remote data centre whose switch the console set,
// DataID the dataInfoId it names; Until is when it was set back.
const (
	DrillMultiDCPushOff  = "multidc-push-off"  // enablePush off: no push of Node's datums
	DrillMultiDCSyncOff  = "multidc-sync-off"  // enableSyncDatum off: Node's datums stay as synced
	DrillMultiDCIgnore   = "multidc-ignore"    // DataID in ignoreDataInfoIds: it stays as synced
	DrillMultiDCSyncOnly = "multidc-sync-only" // syncDataInfoIds = [DataID]: every other stays as synced
)

// MultiDCDrills are the multi-DC switch drills.
var MultiDCDrills = []string{DrillMultiDCPushOff, DrillMultiDCSyncOff, DrillMultiDCIgnore, DrillMultiDCSyncOnly}

// MultiDCSwitches states what each switch promises to the subscribers of
// another data centre's datums, from Lag after it was set (the servers read
// the switches every reload period) until it was set back:
//
//   - push off: no such subscriber receives a push of that data centre's
//     datums;
//   - sync off, an ignored dataInfoId, or one left out of the synced list:
//     the datum is frozen: no push carries a publisher (a registerId with
//     its data) published there after the switch took effect and Settle
//     more (a sync requested before may still be answered). A frozen datum
//     may still lose publishers (a restarted data server has none of what
//     it synced), which this does not judge.
//
// Setting a switch back counts as a disturbance for multidc-converge,
// which then bounds the catching up.
type MultiDCSwitches struct{ Lag, Settle int64 }

func (MultiDCSwitches) Name() string { return "multidc-switches" }

func (c MultiDCSwitches) Check(h *History, _ checkers.Options) checkers.Result {
	res := checkers.Result{Checker: c.Name(), Verdict: checkers.Unknown}
	m := loadMultiDC(h.Events)
	var bad []string
	var ops []int
	held, frozen := 0, 0
	for _, d := range h.Events {
		if d.Kind != Drill || !slices.Contains(MultiDCDrills, d.Op) {
			continue
		}
		from, until := d.T+c.Lag, d.Until
		if until == 0 {
			until = h.Events[len(h.Events)-1].T
		}
		for _, k := range m.keys {
			sub := m.subs[k]
			if sub.Node != d.Node || !frozenBy(d, sub.DataID) || from >= until {
				continue
			}
			if d.Op == DrillMultiDCPushOff {
				held++
			} else {
				frozen++
			}
			for _, i := range m.pushes[k] {
				p := h.Events[i]
				if p.T < from || p.T >= until {
					continue
				}
				if d.Op == DrillMultiDCPushOff {
					bad = append(bad, fmt.Sprintf("subscriber %s of client %d was pushed %s's %s at %v while its push was off (%s at %v, until %v)",
						k.reg, k.client, sub.Node, sub.DataID, vt(p.T), d.Op, vt(d.T), vt(until)))
					ops = append(ops, i)
					continue
				}
				for _, pub := range p.Pubs {
					if at, ok := m.published[sub.Node+"\x00"+sub.DataID+"\x00"+pub]; ok && at >= from+c.Settle {
						bad = append(bad, fmt.Sprintf("subscriber %s of client %d was pushed %s's %s with %s, published at %v, while it was frozen (%s at %v, until %v)",
							k.reg, k.client, sub.Node, sub.DataID, pub, vt(at), d.Op, vt(d.T), vt(until)))
						ops = append(ops, i)
					}
				}
			}
		}
	}
	if len(bad) > 0 {
		return fail(res, bad, ops)
	}
	return pass(res, fmt.Sprintf("%d subscribers held no push while push was off, %d got no publisher of a frozen datum published after it froze (lag %v, settle %v)",
		held, frozen, vt(c.Lag), vt(c.Settle)))
}

// frozenBy: drill d promises dataID (a datum of d.Node) is held or frozen.
func frozenBy(d Event, dataID string) bool {
	switch d.Op {
	case DrillMultiDCIgnore:
		return dataID == d.DataID
	case DrillMultiDCSyncOnly:
		return dataID != d.DataID
	}
	return true
}
