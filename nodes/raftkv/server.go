package raftkv

import (
	"errors"
	"fmt"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/sofasim/sofasim/sim"
)

// Errors of the server's local API and of clients.
var (
	// ErrNotLeader: the server is not the leader; nothing was proposed.
	ErrNotLeader = errors.New("raftkv: not the leader")
	// ErrUnknown: the outcome of a local proposal is unknown (leadership
	// was lost before it applied); it may still be applied.
	ErrUnknown = errors.New("raftkv: outcome unknown")
)

// Server is one raftkv member: a sim.Node driving a raft RawNode. Every
// input (message, tick, proposal) is handled synchronously, followed by
// the Ready loop: persist entries and hard state to the WAL and sync,
// only then send messages; apply committed entries; answer reads whose
// ReadIndex is applied; advance; snapshot and compact when due.
//
// A node that wraps a Server (to add its own messages) forwards the
// sim.Node methods; Message and Timer ignore what is not raftkv's.
type Server struct {
	cfg     ServerConfig
	ids     []sim.NodeID // raft id - 1 -> node name
	raftID  uint64
	initial bool

	env   *sim.Env
	disk  *sim.Disk
	rn    *raft.RawNode
	store *raft.MemoryStorage
	dead  bool
	busy  bool // inside the Ready loop

	sm        StateMachine
	sessions  sessionTable
	applied   uint64
	snapIndex uint64
	installed uint64
	confState *raftpb.ConfState
	confDirty bool
	hs        *raftpb.HardState // the latest (the WAL may hold an older commit index)

	lead       uint64
	role       raft.StateType
	leaderTerm uint64

	peerConns   []sim.ConnID // raft id - 1 -> our dialed connection
	peerInc     []uint32     // raft id - 1 -> the incarnation it reaches (0: not known yet)
	snapReports []snapReport
	walBuf      []byte
	digestBuf   []byte // StateDigest's, reused

	pending    map[uint64]pendingWrite // by client session
	reads      []pendingRead
	readRound  uint64 // the ReadIndex round in flight, 0: none
	roundTicks int    // ticks the round has been in flight
	readsStale bool   // the membership changed under the round in flight
	nextRound  uint64
	localProps map[uint64]func([]byte, error)
	nextLocal  uint64

	// planted bugs, decided at recovery
	noSessionsUpTo uint64          // dedup-lost-on-restart: entries up to here bypass sessions
	replay         []*raftpb.Entry // double-apply-after-snapshot: entries to apply again
}

type timerTag uint8

const tagTick timerTag = 1

// NewServer returns a server for the world to start (a sim.Node). It panics
// on an invalid config, a harness error (see Validate).
func NewServer(cfg ServerConfig) *Server {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	cfg.defaults()
	s := &Server{cfg: cfg, ids: cfg.Members()}
	for i, id := range s.ids {
		if id == cfg.ID {
			s.raftID = uint64(i + 1)
			s.initial = i < len(cfg.Peers)
		}
	}
	return s
}

// fatal stops the server for good (the process exits): used where going on
// could break durability, such as a failed sync or corruption found at start.
func (s *Server) fatal(reason string) {
	if s.dead {
		return
	}
	s.dead = true
	s.env.Trace("raftkv/fatal", reason)
	s.env.Exit(reason)
}

// Datagram is part of sim.Node; raftkv uses none.
func (s *Server) Datagram(sim.NodeID, any) {}

// Message steps a raft message or serves a client request.
func (s *Server) Message(conn sim.ConnID, from sim.NodeID, msg any) {
	if s.dead || s.rn == nil {
		return
	}
	switch m := msg.(type) {
	case RaftMessage:
		if m.Msg.GetTo() != s.raftID {
			return
		}
		_ = s.rn.Step(m.Msg) // errors: a response from a peer no longer in the config
	case *Request:
		s.onRequest(conn, m)
	case *Hello:
		s.onHello(conn, from, m)
	default:
		return
	}
	s.drive()
}

// Timer ticks raft or runs a queued admin task.
func (s *Server) Timer(_ sim.TimerID, tag any) {
	if s.dead || s.rn == nil {
		return
	}
	switch t := tag.(type) {
	case timerTag:
		if t != tagTick {
			return
		}
		s.rn.Tick()
		s.env.SetTimer(s.cfg.TickInterval, tagTick)
		if s.readRound != 0 {
			if s.roundTicks++; s.roundTicks > s.cfg.ElectionTick {
				s.retryReadRound()
			}
		}
	case *adminTask:
		if s.role == raft.StateLeader {
			s.admin(t.op, nil)
		}
	default:
		return
	}
	s.drive()
}

func (s *Server) nodeOf(id uint64) sim.NodeID {
	if id == 0 || id > uint64(len(s.ids)) {
		return ""
	}
	return s.ids[id-1]
}

func (s *Server) raftIDOf(n sim.NodeID) uint64 {
	for i, id := range s.ids {
		if id == n {
			return uint64(i + 1)
		}
	}
	return 0
}

// silentLogger discards raft's logging; Panic and Fatal still panic, so
// that an invariant violation becomes a finding instead of a silent exit.
type silentLogger struct{}

func (silentLogger) Debug(...any)            {}
func (silentLogger) Debugf(string, ...any)   {}
func (silentLogger) Error(...any)            {}
func (silentLogger) Errorf(string, ...any)   {}
func (silentLogger) Info(...any)             {}
func (silentLogger) Infof(string, ...any)    {}
func (silentLogger) Warning(...any)          {}
func (silentLogger) Warningf(string, ...any) {}
func (silentLogger) Fatal(v ...any)          { panic(fmt.Sprint(v...)) }
func (silentLogger) Fatalf(f string, v ...any) {
	panic(fmt.Sprintf(f, v...))
}
func (silentLogger) Panic(v ...any) { panic(fmt.Sprint(v...)) }
func (silentLogger) Panicf(f string, v ...any) {
	panic(fmt.Sprintf(f, v...))
}
