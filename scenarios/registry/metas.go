package registry

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"pgregory.net/rapid"

	regcheck "github.com/sofasim/sofasim/checkers/registry"
	regnode "github.com/sofasim/sofasim/nodes/registry"
	"github.com/sofasim/sofasim/scenarios"
	"github.com/sofasim/sofasim/sim"
)

// lockDuration is the meta election's lock duration (the nodes' default).
const lockDuration = 20 * time.Second

// sampleMetas records each meta server's view when it changes: whether it
// acts as leader, its term and table epoch, and (election=db) its clock
// against the lock database's, to the second; a meta that is down is
// recorded as no leader.
func (s *system) sampleMetas(now int64) {
	var dbClock int64
	var haveDB bool
	if db, ok := s.w.Node(s.cfg.LockDB).(*regnode.LockDB); ok && s.cfg.Election == regnode.ElectionDB {
		dbClock, haveDB = db.Clock(), true
	}
	serving := false
	defer func() { s.electionOutage(now, serving) }()
	for _, id := range s.cfg.Metas {
		m, ok := s.w.Node(id).(*regnode.MetaServer)
		if !ok || !s.w.Up(id) {
			if s.lastMt[id] != "down" && s.lastMt[id] != "" {
				s.lastMt[id] = "down"
				ev := s.lastMeta[id] // the same process, now leading nothing
				ev.T, ev.Leader, ev.Skew = now, false, 0
				s.rec.Record(ev)
			}
			continue
		}
		st := m.Status()
		serving = serving || (st.MetaLeader && !st.WarmingUp && !s.w.Paused(id))
		var skew int64
		if haveDB {
			skew = st.Clock - dbClock
		}
		key := fmt.Sprint(st.MetaLeader, st.Term, st.Epoch, skew/1000)
		if s.lastMt[id] == key {
			continue
		}
		s.lastMt[id] = key
		ev := regcheck.Event{Kind: regcheck.Meta, T: now, Client: -1, Node: string(id), Inc: uint32(s.w.Stats(id).Starts), Term: st.Term, Leader: st.MetaLeader, Epoch: st.Epoch, Skew: skew}
		s.lastMeta[id] = ev
		s.rec.Record(ev)
	}
}

// lockOps records the metas' lock statements: sent, run by the database,
// answered.
type lockOps struct {
	pending map[string]*lockPending
}

type lockPending struct {
	ev  regcheck.Event
	ran int64 // when the database ran it (0: not yet)
}

func lockKey(from sim.NodeID, id uint64) string { return fmt.Sprintf("%s/%d", from, id) }

func (s *system) LockSent(from sim.NodeID, req regnode.LockReq) {
	if s.locks.pending == nil {
		s.locks.pending = map[string]*lockPending{}
	}
	s.locks.pending[lockKey(from, req.ID)] = &lockPending{ev: regcheck.Event{Kind: regcheck.LockOp, Call: int64(s.w.Now()), Client: -3, Node: string(from),
		Lock: &regcheck.LockCall{Op: req.Op.String(), Owner: req.Owner, Duration: req.Duration, Prev: lockRow(req.Prev)}}}
}

func (s *system) LockRan(from sim.NodeID, req regnode.LockReq, resp regnode.LockResp) {
	p := s.locks.pending[lockKey(from, req.ID)]
	if p == nil {
		return
	}
	p.ran = int64(s.w.Now())
	p.ev.Lock.Applied, p.ev.Lock.Found, p.ev.Lock.Row, p.ev.Lock.Now = resp.Applied, resp.Found, lockRow(resp.Row), resp.Now
}

func (s *system) LockAnswered(from sim.NodeID, resp regnode.LockResp) {
	k := lockKey(from, resp.ID)
	if p := s.locks.pending[k]; p != nil && p.ran != 0 {
		delete(s.locks.pending, k)
		p.ev.T = int64(s.w.Now())
		s.rec.Record(p.ev)
	}
}

// unanswered: statements the database ran whose answer was lost, as it
// ran them; those it never ran had no effect and are left out.
func (l *lockOps) unanswered() []regcheck.Event {
	var out []regcheck.Event
	for _, k := range slices.Sorted(maps.Keys(l.pending)) {
		if p := l.pending[k]; p.ran != 0 {
			p.ev.T = p.ran
			out = append(out, p.ev)
		}
	}
	return out
}

func lockRow(r regnode.LockRow) regcheck.LockRow {
	return regcheck.LockRow{Owner: r.Owner, Modified: r.Modified, Duration: r.Duration, Term: r.Term, TermDuration: r.TermDuration}
}

// electionOutage keeps the spans (election=db) in which no meta served as
// a warmed-up leader: a lost leader is replaced only after the 20 s lock
// expires and the new one changes nothing for 30 s, so a meta fault acts
// for up to a minute after it ends. They are recorded as disturbances of
// "meta-election" for the time-bounded checkers.
func (s *system) electionOutage(now int64, serving bool) {
	if s.cfg.Election != regnode.ElectionDB {
		return
	}
	switch {
	case !serving && s.outageFrom < 0:
		s.outageFrom = now
	case serving && s.outageFrom >= 0:
		s.outages = append(s.outages, regcheck.Event{Kind: regcheck.Disturbed, T: s.outageFrom, Until: now, Client: -1, Node: "meta-election"})
		s.outageFrom = -1
	}
}

// metaServes: (election=db) a warmed-up meta leader serves. A run is not
// done without one: a new leader's first table, made only after its warm-up,
// is part of what a meta failover must get right.
func (s *system) metaServes() bool { return s.cfg.Election != regnode.ElectionDB || s.outageFrom < 0 }

// electionOutages are the outages so far, one still open ending now.
func (s *system) electionOutages() []regcheck.Event {
	out := append([]regcheck.Event(nil), s.outages...)
	if s.outageFrom >= 0 {
		out = append(out, regcheck.Event{Kind: regcheck.Disturbed, T: s.outageFrom, Until: int64(s.w.Now()), Client: -1, Node: "meta-election"})
	}
	return out
}

// memberRestartInOutage (registry-meta-failover): after the first fault
// that can cost the meta leader its lock (the leader cut off or paused,
// the lock database paused), a data or session server restarts before
// the heal. A new leader takes over only after the 20 s lock and changes
// nothing for its 30 s warm-up, so the restarted member is what makes it
// build a table of its own, numbered past its predecessor's: without it a
// new leadership rarely makes one before the run ends.
func memberRestartInOutage(t *rapid.T, faults []scenarios.Step, topo regnode.Config, d time.Duration) []scenarios.Step {
	i := slices.IndexFunc(faults, func(s scenarios.Step) bool {
		switch op := s.Op.(type) {
		case sim.Partition, sim.Pause:
			if s.Target == "leader" {
				return true
			}
			p, ok := op.(sim.Pause)
			return ok && slices.Equal(p.Nodes, []sim.NodeID{topo.LockDB})
		}
		return false
	})
	if i < 0 || time.Duration(faults[i].At)+4*time.Second >= d {
		return nil
	}
	from := time.Duration(faults[i].At) + time.Second
	at := from + time.Duration(scenarios.Spread(t, 0, int64(d-3*time.Second-from), "outage-restart-at"))
	node := rapid.SampledFrom(append(append([]sim.NodeID(nil), topo.Data...), topo.Sessions...)).Draw(t, "outage-restart-node")
	down := time.Duration(rapid.IntRange(1, 2).Draw(t, "outage-restart-seconds")) * time.Second
	return []scenarios.Step{{Fault: sim.Fault{At: sim.Duration(at), Op: sim.Crash{Nodes: []sim.NodeID{node}}}},
		{Fault: sim.Fault{At: sim.Duration(at + down), Op: sim.Restart{Nodes: []sim.NodeID{node}}}}}
}
