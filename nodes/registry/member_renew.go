package registry

// A member's heartbeats, as SOFARegistry's AbstractMetaServerService.
// Renewer (sofa-registry b3e89e9, server/server/shared/.../meta): every
// HeartbeatInterval (schedulerHeartbeatIntervalSecs, 1 s) one heartbeat to
// the meta leader it knows, waiting up to MetaTimeout (rpcTimeoutMillis,
// 3 s) for the answer. The leader is learnt from answers (a meta that does
// not lead names the leader it knows, with its epoch; an older epoch than
// the one known is ignored, AbstractMetaLeaderExchanger.learn). A follower's
// answer, a timeout or a broken connection counts a failure; after
// MaxRenewFails (MAX_RENEW_FAIL_COUNT, 3) the leader is forgotten, and a
// member that knows none asks every meta server which leader it knows
// (the LOADBALANCER mode's /meta/leader/query: the leader the meta's
// elector last read, or its raft leader). An ask that finds none is
// retried after 2 s, then 3 s, up to 5 tries (the exchanger's Retryer),
// and then counts a failure too.
//
// Not modelled: the JDBC mode (the default with a database), in which a
// member reads the lock row itself and trusts it until gmt_modified +
// duration/2 on its own clock: a member whose clock runs ahead by more
// than 10 s could then never learn the leader, and the scenarios' clock
// faults that outlast the heal would evict it for good. And a request that
// fails in transport is not retried at once against a freshly read leader
// (sendRequest's one retry): the leader is forgotten and asked for at the
// next heartbeat.

import (
	"time"

	"github.com/sofasim/sofasim/sim"
)

// MaxRenewFails is MAX_RENEW_FAIL_COUNT: failed heartbeats before the member
// looks the meta leader up again.
const MaxRenewFails = 3

// leaderAsks is how often one look-up asks before it gives up (the
// exchanger's Retryer: stopAfterAttempt(5)).
const leaderAsks = 5

type (
	heartbeatTick struct{}
	// renewTimeout: the request id awaited has had no answer in MetaTimeout.
	renewTimeout struct{ id uint64 }
	// askAgain: the next try of a leader look-up.
	askAgain struct{ id uint64 }
)

// MetaLeaderQuery asks a meta server which meta leader it knows of
// (/meta/leader/query); it answers with a MetaLeaderInfo.
type MetaLeaderQuery struct{ ID uint64 }

// MetaLeaderInfo names the meta leader a meta server knows of ("" for
// none) and its epoch: the lock row's trusted-until time under db, the raft
// term under raft.
type MetaLeaderInfo struct {
	ID     uint64
	Leader sim.NodeID
	Epoch  int64
}

// renewer is the member's view of the meta leader and its heartbeat in flight.
type renewer struct {
	leader sim.NodeID
	epoch  int64
	fails  int
	next   uint64 // request ids
	// awaited: the heartbeat (or look-up) in flight; while one is, the
	// renewer is blocked, as the real Renewer thread is on its request.
	awaited uint64
	asking  bool // awaited is a look-up
	asks    int  // tries of this look-up
	empty   int  // this try's answers that named no leader
}

// tick runs the renewer once a HeartbeatInterval.
func (m *member) tick() {
	m.env.SetTimer(m.cfg.HeartbeatInterval, heartbeatTick{})
	if m.cfg.HeartbeatAll {
		for _, id := range m.cfg.Metas {
			m.peers.send(id, m.heartbeat())
		}
		return
	}
	r := &m.renew
	if r.awaited != 0 {
		return
	}
	if r.fails >= MaxRenewFails { // checkRenewFailCounter: reset the leader
		m.env.Reached("registry/member-renew-reset")
		r.fails, r.leader = 0, ""
	}
	if r.leader == "" {
		r.asks = 0
		m.ask()
		return
	}
	m.send()
}

func (m *member) send() {
	r := &m.renew
	r.next++
	r.awaited, r.asking = r.next, false
	if !m.peers.send(r.leader, m.heartbeat()) {
		m.failed()
		return
	}
	m.env.SetTimer(m.cfg.MetaTimeout, renewTimeout{r.awaited})
}

// failed counts a failed heartbeat and forgets the leader it went to.
func (m *member) failed() {
	r := &m.renew
	r.awaited, r.leader = 0, ""
	r.fails++
}

// answered takes a meta's answer to a heartbeat.
func (m *member) answered(x *HeartbeatResp) {
	r := &m.renew
	if m.cfg.HeartbeatAll || r.awaited == 0 || r.asking {
		return
	}
	r.awaited = 0
	if x.MetaLeader != "" {
		m.learn(sim.NodeID(x.MetaLeader), x.LeaderEpoch)
	}
	if x.Leader {
		r.fails = 0
		return
	}
	m.env.Reached("registry/member-heartbeat-on-follower")
	r.fails++ // the follower's leader is tried next time; a wrong one fails again
}

// learn takes a leader named with its epoch, unless an older one.
func (m *member) learn(leader sim.NodeID, epoch int64) {
	r := &m.renew
	if r.leader == "" || epoch > r.epoch {
		r.leader, r.epoch = leader, epoch
	}
}

// ask starts a try of looking the leader up.
func (m *member) ask() {
	r := &m.renew
	r.next++
	r.awaited, r.asking, r.empty = r.next, true, 0
	r.asks++
	for _, id := range m.cfg.Metas {
		m.peers.send(id, &MetaLeaderQuery{ID: r.awaited})
	}
	m.env.SetTimer(m.cfg.MetaTimeout, renewTimeout{r.awaited})
}

// found ends a look-up with a leader and heartbeats to it at once (the
// real renewNode goes on with the leader it just read).
func (m *member) found(leader sim.NodeID, epoch int64) {
	m.renew.awaited = 0
	m.learn(leader, epoch)
	m.send()
}

// fruitless ends a try that found no leader: the next in 2 s, then 3 s,
// until the look-up gives up and counts a failed heartbeat.
func (m *member) fruitless() {
	r := &m.renew
	if r.asks >= leaderAsks {
		m.failed()
		return
	}
	wait := min(time.Duration(1<<r.asks)*time.Second, 3*time.Second) // exponentialWait(1000, 3000)
	m.env.SetTimer(wait, askAgain{r.awaited})
}

// renewMessage takes look-up answers and the renewer's timers.
func (m *member) renewMessage(msg any) bool {
	r := &m.renew
	switch x := msg.(type) {
	case *MetaLeaderInfo:
		if x.ID != r.awaited || !r.asking {
			return true
		}
		if x.Leader != "" {
			m.found(x.Leader, x.Epoch)
			return true
		}
		if r.empty++; r.empty == len(m.cfg.Metas) {
			m.fruitless()
		}
	case renewTimeout:
		if x.id != r.awaited {
			return true
		}
		if r.asking {
			m.fruitless()
			return true
		}
		m.env.Reached("registry/member-heartbeat-timeout")
		m.failed()
	case askAgain:
		if x.id == r.awaited {
			m.ask()
		}
	default:
		return false
	}
	return true
}
