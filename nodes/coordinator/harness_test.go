package coordinator

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/sim"
)

// recorder is the harness's Observer: it keeps every event.
type recorder struct {
	w    *sim.World
	tc   []TCEvent
	rm   []RMEvent
	tm   []TMEvent
	tmAt []time.Duration // virtual time of each tm event
}

func (r *recorder) TC(e TCEvent) { r.tc = append(r.tc, e) }
func (r *recorder) RM(e RMEvent) { r.rm = append(r.rm, e) }
func (r *recorder) TM(e TMEvent) {
	r.tm = append(r.tm, e)
	r.tmAt = append(r.tmAt, r.w.Now())
}

// deployment is a test world: TCs, RMs, apps and the recorder.
type deployment struct {
	w    *sim.World
	cfg  Config
	apps []sim.NodeID
	rec  *recorder
}

type opts struct {
	store    Store
	tcs, rms int
	apps     int
	wl       Workload
	bugs     []string
	torn     bool
	registry bool
	tune     func(*Config)
}

func ids(prefix string, n int) []sim.NodeID {
	out := make([]sim.NodeID, n)
	for i := range out {
		out[i] = sim.NodeID(fmt.Sprintf("%s%d", prefix, i+1))
	}
	return out
}

func newDeployment(seed uint64, o opts) *deployment { return newDeploymentWith(seed, o) }

func newDeploymentWith(seed uint64, o opts) *deployment {
	if o.tcs == 0 {
		o.tcs = 1
	}
	if o.rms == 0 {
		o.rms = 3
	}
	if o.apps == 0 {
		o.apps = 4
	}
	rec := &recorder{}
	d := &deployment{w: sim.NewWorld(sim.Config{Seed: seed, TornWrites: o.torn}), rec: rec}
	rec.w = d.w
	d.cfg = Config{TCs: ids("tc", o.tcs), RMs: ids("rm", o.rms), Store: o.store, Observer: rec}
	if o.registry {
		rc := registry.Config{Metas: ids("meta", 3), Data: ids("data", 2), Sessions: ids("session", 2)}
		registry.AddServers(d.w, rc)
		d.cfg.Registry = rc.Sessions
	}
	if o.tune != nil {
		o.tune(&d.cfg)
	}
	d.cfg.defaults()
	AddServers(d.w, d.cfg)
	d.apps = ids("app", o.apps)
	AddApps(d.w, d.cfg, o.wl, d.apps)
	for _, b := range o.bugs {
		if err := d.w.Inject(sim.ArmFailpoint{Failpoint: b}); err != nil {
			panic(err)
		}
	}
	return d
}

func (d *deployment) run(until time.Duration) { d.w.Run(sim.Limits{Until: until}) }

func (d *deployment) all() []sim.NodeID { return d.w.NodeIDs() }

// heal ends every fault: partitions, pauses, crashed nodes.
func (d *deployment) heal() {
	_ = d.w.Inject(sim.Heal{})
	for _, id := range d.all() {
		if d.w.Paused(id) {
			_ = d.w.Inject(sim.Resume{Nodes: []sim.NodeID{id}})
		}
		if !d.w.Up(id) {
			_ = d.w.Inject(sim.Restart{Nodes: []sim.NodeID{id}})
		}
	}
}

func (d *deployment) tc(id sim.NodeID) *TC {
	if n := d.w.Node(id); n != nil {
		return n.(*TC)
	}
	return nil
}

func (d *deployment) rm(id sim.NodeID) *RM {
	if n := d.w.Node(id); n != nil {
		return n.(*RM)
	}
	return nil
}

// serving returns the TC that serves (the raft leader), or nil.
func (d *deployment) serving() *TC { return ServingTC(d.w, d.cfg) }

// violations checks every invariant the checkers of issue 12 will check.
// final: the run has healed and settled, so nothing may be left over.
func (d *deployment) violations(final bool) []string {
	var v []string
	total := int64(len(d.cfg.RMs)*d.cfg.Accounts) * d.cfg.Balance
	// Audits see a consistent cut.
	for _, e := range d.rec.tm {
		if e.Op == "audit" && e.Complete && e.Sum != total {
			v = append(v, fmt.Sprintf("atomicity: audit of xid %d summed %d, want %d", e.XID, e.Sum, total))
		}
	}
	tv, decision := d.checkTCLog()
	v = append(v, tv...)
	v = append(v, d.checkReads(decision)...)
	if !final {
		return v
	}
	st := Inspect(d.w, d.cfg)
	for _, id := range st.Down {
		v = append(v, fmt.Sprintf("down: %s at the end", id))
	}
	for _, rm := range slices.Sorted(maps.Keys(st.Items)) {
		for _, name := range slices.Sorted(maps.Keys(st.Items[rm])) {
			if it := st.Items[rm][name]; it.Stock+it.Frozen+it.Confirmed != st.InitialStock || it.Frozen != 0 {
				v = append(v, fmt.Sprintf("tcc: %s/%s %+v (initial %d)", rm, name, it, st.InitialStock))
			}
		}
	}
	for _, rm := range slices.Sorted(maps.Keys(st.UndoLogs)) {
		v = append(v, fmt.Sprintf("leak: %s keeps undo logs %v", rm, st.UndoLogs[rm]))
	}
	for _, rm := range slices.Sorted(maps.Keys(st.LocalLocks)) {
		v = append(v, fmt.Sprintf("leak: %s keeps local locks %v", rm, st.LocalLocks[rm]))
	}
	if st.Money != st.ExpectedMoney {
		v = append(v, fmt.Sprintf("atomicity: money %d at the end, want %d", st.Money, st.ExpectedMoney))
	}
	if st.ServingTC == "" {
		return append(v, "recovery: no TC serving at the end")
	}
	if len(st.GlobalLocks) > 0 {
		v = append(v, fmt.Sprintf("leak: global locks held at the end: %v", st.GlobalLocks))
	}
	for _, s := range st.Open {
		v = append(v, fmt.Sprintf("recovery: xid %d still %v at the end", s.XID, s.Status))
	}
	return v
}

// checkTCLog checks the TC event log: legal transitions, one decision per
// xid, registrations only while Begin, exclusive global locks, and the
// outcomes TMs were told against the decisions.
func (d *deployment) checkTCLog() ([]string, map[XID]GlobalStatus) {
	var v []string
	// Every replica applies each command, and a restarted replica replays
	// some: judge each Index once, from the first node that reported it,
	// during that node's first application of it.
	type nodeIndex struct {
		node  sim.NodeID
		index uint64
	}
	owner := map[uint64]sim.NodeID{}
	closed := map[nodeIndex]bool{}
	cur := map[sim.NodeID]uint64{}
	decision := map[XID]GlobalStatus{}
	status := map[XID]GlobalStatus{}
	holder := map[string]XID{}
	for _, e := range d.rec.tc {
		if o, ok := owner[e.Index]; ok && o != e.Node {
			continue
		}
		owner[e.Index] = e.Node
		if c := cur[e.Node]; c != e.Index {
			closed[nodeIndex{e.Node, c}] = true
			cur[e.Node] = e.Index
		}
		if closed[nodeIndex{e.Node, e.Index}] {
			continue
		}
		switch e.Kind {
		case EvBegin:
			if _, dup := status[e.XID]; dup {
				v = append(v, fmt.Sprintf("unique: xid %d began twice", e.XID))
			}
			status[e.XID] = StatusBegin
		case EvTransition:
			if !LegalTransition(e.From, e.To) {
				v = append(v, fmt.Sprintf("transitions: xid %d %v -> %v", e.XID, e.From, e.To))
			}
			if e.From == StatusBegin {
				if prev, ok := decision[e.XID]; ok {
					v = append(v, fmt.Sprintf("decision: xid %d decided %v then %v", e.XID, prev, e.To))
				}
				decision[e.XID] = e.To
			}
			status[e.XID] = e.To
		case EvRegister:
			if e.To != StatusBegin {
				v = append(v, fmt.Sprintf("register: branch %d of xid %d registered while %v", e.Branch, e.XID, e.To))
			}
		case EvLockGrant:
			for _, key := range e.Keys {
				if h, ok := holder[key]; ok && h != e.XID {
					v = append(v, fmt.Sprintf("locks: %s granted to %d while held by %d", key, e.XID, h))
				}
				holder[key] = e.XID
			}
		case EvLockRelease:
			for _, key := range e.Keys {
				delete(holder, key)
			}
		}
	}
	for _, e := range d.rec.tm {
		if e.Op != "commit" && e.Op != "rollback" || e.Outcome == OutcomeUnknown {
			continue
		}
		dec, ok := decision[e.XID]
		switch {
		case !ok:
			v = append(v, fmt.Sprintf("outcome: %s told %s for xid %d without a decision", e.Node, e.Outcome, e.XID))
		case e.Outcome == OutcomeCommitted && !dec.Commit(), e.Outcome == OutcomeRolledBack && !dec.Rollback():
			v = append(v, fmt.Sprintf("outcome: %s told %s for xid %d decided %v", e.Node, e.Outcome, e.XID, dec))
		}
	}
	for _, x := range slices.Sorted(maps.Keys(status)) {
		if dec, ok := decision[x]; ok && dec.Commit() && status[x].Rollback() {
			v = append(v, fmt.Sprintf("decision: xid %d committed, then %v", x, status[x]))
		}
	}
	return v, decision
}

// checkReads: no SELECT FOR UPDATE returns a row version written by a
// global transaction that rolled back (no aborted read).
func (d *deployment) checkReads(decision map[XID]GlobalStatus) []string {
	type rowVersion struct {
		node    sim.NodeID
		key     string
		version uint64
	}
	aborted := map[rowVersion]XID{}
	for _, e := range d.rec.rm {
		if e.Kind == EvPhaseOne && e.OK && e.Key != "" && decision[e.XID].Rollback() {
			aborted[rowVersion{e.Node, e.Key, e.Version}] = e.XID
		}
	}
	var v []string
	for _, e := range d.rec.rm {
		if e.Kind == EvRead && e.ForUpdate {
			if x, ok := aborted[rowVersion{e.Node, e.Key, e.Version}]; ok {
				v = append(v, fmt.Sprintf("aborted read: xid %d read %s/%s=%d written by rolled-back xid %d", e.XID, e.Node, e.Key, e.Value, x))
			}
		}
	}
	return v
}

// scenario is a fault plan run against a deployment.
type scenario func(d *deployment)

// simulate runs a deployment under a plan, heals, settles and returns the
// violations and the fingerprint.
func simulate(seed uint64, o opts, plan scenario, load, settle time.Duration) ([]string, uint64, *deployment) {
	o.wl.Until = load
	d := newDeployment(seed, o)
	if plan != nil {
		plan(d)
	}
	d.run(load)
	d.heal()
	d.run(load + settle)
	return d.violations(true), d.w.Fingerprint(), d
}

// twice runs a seed twice and requires the same fingerprint.
func twice(t *testing.T, seed uint64, o opts, plan scenario, load, settle time.Duration) ([]string, *deployment) {
	t.Helper()
	v1, fp1, d := simulate(seed, o, plan, load, settle)
	v2, fp2, _ := simulate(seed, o, plan, load, settle)
	require.Equal(t, fp1, fp2, "seed %d is not deterministic", seed)
	require.Equal(t, v1, v2)
	return v1, d
}

func summary(d *deployment) string {
	var b strings.Builder
	for _, id := range d.apps {
		if a, ok := d.w.Node(id).(*App); ok {
			fmt.Fprintf(&b, "%s c=%d r=%d u=%d f=%d; ", id, a.Committed, a.RolledBack, a.Unknown, a.Failed)
		}
	}
	return b.String()
}
