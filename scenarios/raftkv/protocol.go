package raftkv

// The protocol recorder: what every raftkv server reports of itself
// (kv.Observation), kept as checkers/raftkv's typed protocol history for the
// checkers of raft's own invariants.

import (
	"encoding/binary"
	"errors"
	"slices"
	"time"

	"github.com/sofasim/sofasim/checkers"
	rkcheck "github.com/sofasim/sofasim/checkers/raftkv"
	kv "github.com/sofasim/sofasim/nodes/raftkv"
	"github.com/sofasim/sofasim/sim"
)

// digestEvery samples the replicas' state every this many applied indexes
// (and at every snapshot restore and the run's end): every index, so that
// a divergence later writes would paper over is still seen.
const digestEvery = 1

var obsKinds = map[kv.ObservationKind]rkcheck.Kind{
	kv.ObsLeader: rkcheck.Leader, kv.ObsVote: rkcheck.Vote, kv.ObsCommit: rkcheck.Commit,
	kv.ObsState: rkcheck.State, kv.ObsReadReceived: rkcheck.ReadReceived, kv.ObsReadServed: rkcheck.ReadServed,
}

// protocol records the servers' observations.
type protocol struct {
	w       *sim.World
	h       rkcheck.Protocol
	term    uint64 // the newest term a leader was elected in
	commit  uint64
	settled bool
	// per member: when it last voted (and in which incarnation), and when
	// its incarnation last ticked (about when it crashed)
	voted  map[sim.NodeID]rkcheck.Event
	ticked map[sim.NodeID]time.Duration
	acked  map[sim.NodeID]rkcheck.Event // each member's last acknowledgement
}

// member is a raftkv server as the scenario runs it: after each start it
// reports the term and vote it recovered from its disk (durable-votes
// compares them with the votes it gave before), and its ticks tell the
// coverage when it last ran.
type member struct {
	*kv.Server
	p       *protocol
	id      sim.NodeID
	sampled time.Duration // when its disk was last compared with its state
}

func (m *member) Start(env *sim.Env) {
	m.id = env.ID()
	m.Server.Start(env)
	if env.Incarnation() > 1 {
		m.p.diskImage(m.id, m, true) // as it repaired it: the same state again
	}
	m.p.recovered(env.ID(), env.Incarnation(), m.Status())
}

func (m *member) Timer(id sim.TimerID, tag any) {
	now := m.p.w.Now()
	m.p.ticked[m.id] = now
	m.Server.Timer(id, tag)
	if now-m.sampled >= diskSampleEvery {
		// between handlers everything raft acted on is synced: a WAL that
		// would recover to less (or more) is damage a later restart, or
		// none, would have to meet
		m.sampled = now
		if err := m.DiskAgrees(false); err != nil {
			m.p.diskImageErr(m.id, err)
		}
	}
}

// diskSampleEvery is how often a running member's disk is compared with
// what it holds, besides at every restart and at the end.
const diskSampleEvery = 500 * time.Millisecond

// crashAfterVote is how soon after its vote a member that crashed counts
// as crashed right after it: about one round trip of the vote, the time
// before the new leader's first append makes the voter sync again.
const crashAfterVote = 20 * time.Millisecond

// recovered records a member's recovered term and vote (not at its first
// start: it has promised nothing yet) and marks a crash right after a vote.
func (p *protocol) recovered(id sim.NodeID, inc uint32, st kv.Status) {
	if inc <= 1 || st.Role == "down" {
		return
	}
	if v, ok := p.voted[id]; ok && v.Inc == inc-1 && p.ticked[id]-time.Duration(v.T) <= crashAfterVote {
		p.w.Reach("raftkv/crash-right-after-vote")
	}
	if a, ok := p.acked[id]; ok {
		p.h.Events = append(p.h.Events, a)
		delete(p.acked, id)
	}
	p.record(rkcheck.Event{Kind: rkcheck.Recovered, Node: string(id), Term: st.Term, Peer: string(st.Vote), Index: st.LastIndex})
}

func (p *protocol) observe(o kv.Observation) {
	switch o.Kind {
	case kv.ObsCommit:
		if o.Index <= p.commit {
			return // only news matters to the checkers; keeps the history small
		}
		p.commit = o.Index
	case kv.ObsLeader:
		p.term = max(p.term, o.Term)
	case kv.ObsVote:
		p.voted[o.Node] = rkcheck.Event{T: int64(p.w.Now()), Inc: o.Incarnation}
	case kv.ObsAck:
		// only the last one before a crash is judged (durable-acks): kept
		// aside, not in the history, as there is one per append
		p.acked[o.Node] = rkcheck.Event{Kind: rkcheck.Acked, T: int64(p.w.Now()), Node: string(o.Node), Inc: o.Incarnation, Term: o.Term, Index: o.Index}
		return
	case kv.ObsReadServed:
		if o.Term < p.term {
			p.w.Reach("raftkv/read-served-by-behind-term")
		}
	}
	p.h.Events = append(p.h.Events, rkcheck.Event{Kind: obsKinds[o.Kind], T: int64(p.w.Now()), Node: string(o.Node),
		Inc: o.Incarnation, Term: o.Term, Peer: string(o.Peer), Index: o.Index, Digest: o.Digest, Session: o.Session, Seq: o.Seq})
}

// diskImage records whether the member's disk, as a crash now would leave
// it, recovers, and for a running member m to the state it holds (with
// commit: its commit index too). Not for a disk corrupted at rest, which
// may rightly not.
func (p *protocol) diskImage(id sim.NodeID, m *member, commit bool) {
	err := kv.Recoverable(p.w.Disk(id))
	if err == nil && m != nil {
		err = m.DiskAgrees(commit)
	}
	p.diskImageErr(id, err)
}

// diskImageErr records a disk image's verdict, unless the disk was
// corrupted at rest on purpose.
func (p *protocol) diskImageErr(id sim.NodeID, err error) {
	for _, f := range p.w.Faults() {
		if c, ok := f.Fault.Op.(sim.DiskCorrupt); ok && slices.Contains(c.Nodes, id) {
			return
		}
	}
	e := rkcheck.Event{Kind: rkcheck.DiskImage, Node: string(id)}
	if err != nil {
		e.Key = err.Error()
	}
	p.record(e)
}

// settle records every running replica's final state machine and every
// member's final disk image, once.
func (p *protocol) settle(members []sim.NodeID) {
	if p.settled {
		return
	}
	p.settled = true
	for _, id := range members {
		m, _ := p.w.Node(id).(*member)
		p.diskImage(id, m, false)
	}
	for _, id := range members {
		srv, ok := p.w.Node(id).(*member)
		if !ok || !p.w.Up(id) {
			continue
		}
		st := srv.Status()
		if st.Role == "down" {
			continue
		}
		p.h.Events = append(p.h.Events, rkcheck.Event{Kind: rkcheck.State, T: int64(p.w.Now()), Node: string(id),
			Index: st.Applied, Digest: srv.StateDigest()})
	}
}

// protocolCheck runs a protocol checker as one of the scenario's
// key-value checkers: the protocol history is the system's, not the
// clients'.
type protocolCheck struct {
	c checkers.CheckerOf[*rkcheck.Protocol]
	p *protocol
}

func (c protocolCheck) Name() string { return c.c.Name() }

func (c protocolCheck) Check(_ checkers.History, opts checkers.Options) checkers.Result {
	return c.c.Check(&c.p.h, opts)
}

// protocolCheckers are raft's own invariants.
func (p *protocol) checkers() []checkers.Checker {
	var out []checkers.Checker
	for _, c := range []checkers.CheckerOf[*rkcheck.Protocol]{rkcheck.OneLeaderPerTerm{}, rkcheck.DurableVotes{}, rkcheck.ReplicasAgree{}, rkcheck.ApplyOnce{}, rkcheck.FreshReads{}, rkcheck.ReadsSeeCommitted{}, rkcheck.AnswersMatch{}, rkcheck.RecoversFromDisk{}, rkcheck.DurableAcks{}} {
		out = append(out, protocolCheck{c, p})
	}
	return out
}

// record adds an event the harness saw itself (not a server observation).
func (p *protocol) record(e rkcheck.Event) {
	e.T, e.Inc = int64(p.w.Now()), uint32(p.w.Stats(sim.NodeID(e.Node)).Starts)
	p.h.Events = append(p.h.Events, e)
}

// stateMachines returns a ServerConfig.NewStateMachine for one member: the
// KV store wrapped to report what it applies.
func (p *protocol) stateMachines(node sim.NodeID) func() kv.StateMachine {
	return func() kv.StateMachine {
		p.record(rkcheck.Event{Kind: rkcheck.Restore, Node: string(node)})
		return &applyWatch{StateMachine: kv.NewKVStateMachine(), p: p, node: string(node)}
	}
}

// applyWatch wraps a replica's state machine and reports the index of
// every command it applies and of every snapshot it is restored from, for
// the apply-once checker, with the write's key and (unique) value; its
// snapshots carry the last index applied.
// It watches the boundary between raft and the state machine, so the
// server's own code is checked, not trusted.
type applyWatch struct {
	kv.StateMachine
	p    *protocol
	node string
	last uint64
}

func (a *applyWatch) Apply(index uint64, cmd []byte) []byte {
	e := rkcheck.Event{Kind: rkcheck.Apply, Node: a.node, Index: index}
	if op, err := kv.DecodeOp(cmd); err == nil {
		e.Key, e.Value = op.Key, op.Value
	}
	a.p.record(e)
	a.last = index
	return a.StateMachine.Apply(index, cmd)
}

// Query records each read the server answers from the state machine, with
// the last command applied: reads-see-committed matches it to the read
// the client saw answered.
func (a *applyWatch) Query(q []byte) []byte {
	if op, err := kv.DecodeOp(q); err == nil {
		a.p.record(rkcheck.Event{Kind: rkcheck.Query, Node: a.node, Key: op.Key, Index: a.last})
	}
	return a.StateMachine.Query(q)
}

func (a *applyWatch) Snapshot() []byte {
	return append(binary.AppendUvarint(nil, a.last), a.StateMachine.Snapshot()...)
}

func (a *applyWatch) Restore(b []byte) error {
	last, n := binary.Uvarint(b)
	if n <= 0 {
		return errors.New("raftkv scenario: snapshot without the applied index")
	}
	a.last = last
	a.p.record(rkcheck.Event{Kind: rkcheck.Restore, Node: a.node, Index: last})
	return a.StateMachine.Restore(b[n:])
}
