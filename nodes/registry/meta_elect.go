package registry

// The meta election through the lock database, as SOFARegistry's
// MetaJdbcLeaderElector runs it: every ElectInterval each meta reads the
// lock row; the owner renews it, a follower that finds it expired (by the
// database's clock) takes it over with a compare-and-set, and the leader
// trusts itself until the row's last renewal + duration/2, read on its own
// wall clock. That margin is the whole safety argument: a takeover needs
// duration of silence on the database's clock, the old leader stops after
// duration/2 on its own, so two leaders never believe at once while each
// meta's clock is within duration/2 of the database's.

import (
	"time"

	"github.com/sofasim/sofasim/sim"
)

// dbElector is a meta server's side of the election.
type dbElector struct {
	env      *sim.Env
	cfg      Config
	peers    peers
	next     uint64        // request ids
	inflight uint64        // the request awaited (0: none)
	sentAt   time.Duration // monotonic
	// leaderInfo: the leader, its term, and until when (unix ms on the
	// meta's wall clock) it is trusted: last renewal + duration/2.
	leader string
	term   uint64
	expire int64
	// inserted: this process created the lock row (the cluster's first leader).
	inserted bool
	// onChange runs after every answer (leadership may have changed).
	onChange func()
	// observer: an operator made this meta quit the election
	// (change2Observer): it reads the row but never renews or competes, so
	// its lock runs out and a follower takes over. It lasts until restart.
	observer bool
}

type electTick struct{}

func (e *dbElector) start(env *sim.Env, cfg Config) {
	e.env, e.cfg = env, cfg
	e.peers = peers{env: env, conns: map[sim.NodeID]sim.ConnID{}}
	e.next = uint64(env.Incarnation()) << 32 // ids stay unique across restarts
	e.elect()
}

// amILeader: the row names this meta and its trust has not run out on the
// meta's own clock.
func (e *dbElector) amILeader() bool {
	return !e.observer && e.leader == string(e.env.ID()) && e.env.Now().UnixMilli() < e.expire
}

// elect starts a round unless one is awaited; a round whose answer is
// lost (the database crashed, stalled, or the connection broke) is given
// up after ElectInterval*2.
func (e *dbElector) elect() {
	e.env.SetTimer(e.cfg.ElectInterval, electTick{})
	if e.inflight != 0 && e.env.Monotonic()-e.sentAt < 2*e.cfg.ElectInterval {
		return
	}
	e.send(LockReq{Op: LockQuery})
}

func (e *dbElector) send(req LockReq) {
	e.next++
	req.ID = e.next
	e.inflight, e.sentAt = req.ID, e.env.Monotonic()
	if o, ok := e.cfg.Observer.(LockObserver); ok {
		o.LockSent(e.env.ID(), req)
	}
	e.peers.send(e.cfg.LockDB, &req)
}

func (e *dbElector) handle(msg any) bool {
	switch x := msg.(type) {
	case electTick:
		e.elect()
	case *LockResp:
		if o, ok := e.cfg.Observer.(LockObserver); ok {
			o.LockAnswered(e.env.ID(), *x)
		}
		if x.ID != e.inflight {
			return true // a late answer to a round given up
		}
		e.inflight = 0
		e.answer(x)
	default:
		return false
	}
	return true
}

func (e *dbElector) answer(r *LockResp) {
	me := string(e.env.ID())
	if !r.Found {
		e.send(LockReq{Op: LockInsert, Owner: me, Duration: e.cfg.LockDuration.Milliseconds()})
		return
	}
	if r.Applied && r.Row.Owner == me && r.Row.Term == 0 && r.Row.TermDuration == 0 {
		e.inserted = true
	}
	e.learn(r.Row)
	if r.Applied || e.observer {
		e.onChange()
		return
	}
	switch {
	case r.Row.Owner == me && e.amILeader():
		e.send(LockReq{Op: LockHeartbeat, Owner: me})
	case r.Row.Expired(r.Now): // also our own row, once we stopped trusting it
		e.send(LockReq{Op: LockCompete, Owner: me, Prev: r.Row})
	}
	e.onChange()
}

// learn takes the row as the leader info (leaderFrom).
func (e *dbElector) learn(row LockRow) {
	e.leader, e.term = row.Owner, row.Term+1
	e.expire = row.Modified + row.Duration/2
	if _, on := e.env.Failpoint(BugLeaseSkew); on {
		e.expire = row.Modified + row.Duration + row.Duration/2
	}
}
