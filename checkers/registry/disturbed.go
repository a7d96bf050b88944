package registry

// disturbance is a span in which a fault acted: time-bounded checkers
// judge only what happened away from faults, since under a partition or a
// crash a registry may rightly take longer than any bound.
// SessionDataCut names the disturbance of a partition that cuts only
// session servers from data servers.
const SessionDataCut = "session-data-cut"

type disturbance struct {
	node       string // "" for the network or a failpoint
	start, end int64
}

// disturbances lists the Disturbed events, but a failpoint armed for the
// whole run: that is a planted bug under test, not a fault the registry
// may take longer under, and counting it would blind every time-bounded
// judgement exactly when a bug is armed.
func (s *regState) disturbances() []disturbance {
	return append(s.faults(), s.drillDisturbances()...)
}

// faults is disturbances without the drills.
func (s *regState) faults() []disturbance {
	var out []disturbance
	for _, ev := range s.evs {
		if ev.Kind == Disturbed && ev.Node == "" && ev.T == 0 && ev.Until >= s.end {
			continue
		}
		if ev.Kind == Disturbed {
			out = append(out, disturbance{node: ev.Node, start: ev.T, end: ev.Until})
		}
	}
	return out
}

// quiet reports whether no disturbance (widened by settle after its end,
// for connections and leases to recover) overlaps [from, to], counting
// only those on nodes for which on says yes.
func quiet(ds []disturbance, from, to, settle int64, on func(node string) bool) bool {
	for _, d := range ds {
		if d.start <= to && d.end+settle >= from && on(d.node) {
			return false
		}
	}
	return true
}

// elections lists the spans with no warmed-up meta leader: no table
// changes then, so nothing is evicted and no new slot is led.
func (s *regState) elections() []disturbance {
	var out []disturbance
	for _, d := range s.disturbances() {
		if d.node == "meta-election" {
			out = append(out, d)
		}
	}
	return out
}
