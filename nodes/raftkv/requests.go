package raftkv

// Entry points for writes: client requests over the network and local
// proposals of the node embedding the server.

import (
	"encoding/binary"

	"go.etcd.io/raft/v3"

	"github.com/sofasim/sofasim/sim"
)

// pendingWrite is a client waiting for its write to apply on this leader.
type pendingWrite struct {
	seq  uint64
	conn sim.ConnID
}

// onRequest serves a client request: reads go through ReadIndex, writes are
// proposed once per (session, seq) (a retry already applied is answered from
// the session table), admin operations run on the leader.
func (s *Server) onRequest(conn sim.ConnID, req *Request) {
	reply := func(st Code, data []byte) {
		s.env.Send(conn, &Response{Session: req.Session, Seq: req.Seq, Code: st, Leader: s.nodeOf(s.lead), Data: data})
	}
	switch req.Kind {
	case ReqRead:
		s.observe(Observation{Kind: ObsReadReceived, Session: req.Session, Seq: req.Seq})
		if _, ok := s.env.Failpoint(BugStaleRead); ok {
			s.observe(Observation{Kind: ObsReadServed, Session: req.Session, Seq: req.Seq, Index: s.applied, Term: s.hs.GetTerm()})
			reply(CodeOK, s.sm.Query(req.Data)) // the planted bug: no ReadIndex
			return
		}
		if s.role != raft.StateLeader {
			reply(CodeNotLeader, nil)
			return
		}
		s.startRead(pendingRead{conn: conn, session: req.Session, seq: req.Seq, query: req.Data})
	case ReqWrite:
		if s.role != raft.StateLeader {
			reply(CodeNotLeader, nil)
			return
		}
		if sess := s.sessions[req.Session]; sess != nil && req.Seq <= sess.seq {
			if req.Seq == sess.seq {
				s.env.Reached("raftkv/retry-answered-from-session")
				reply(CodeOK, sess.resp) // applied already: answer from the session
			}
			return
		}
		if p, ok := s.pending[req.Session]; ok && p.seq == req.Seq {
			s.pending[req.Session] = pendingWrite{seq: req.Seq, conn: conn} // in our log this term
			return
		}
		if err := s.rn.Propose(encodeClientCmd(req.Session, req.Seq, req.Data)); err != nil {
			reply(CodeNotLeader, nil) // dropped: leadership transfer, or too much uncommitted
			return
		}
		s.pending[req.Session] = pendingWrite{seq: req.Seq, conn: conn}
	case ReqAdmin:
		if s.role != raft.StateLeader {
			reply(CodeNotLeader, nil)
			return
		}
		var ctx [16]byte
		binary.LittleEndian.PutUint64(ctx[:], req.Session)
		binary.LittleEndian.PutUint64(ctx[8:], req.Seq)
		st, why := s.admin(req.Admin, ctx[:])
		switch st {
		case CodeOK:
			if why == "pending" {
				s.pending[req.Session] = pendingWrite{seq: req.Seq, conn: conn}
				return
			}
			reply(CodeOK, nil)
		default:
			reply(st, []byte(why))
		}
	}
}

// Propose proposes a command on behalf of the node embedding this server
// (for example a coordinator's timeout sweep), bypassing client sessions.
// done runs once it is applied here, with the state machine's response, or
// with ErrNotLeader (nothing proposed) or ErrUnknown (leadership lost; it
// may still apply). Call it from the node's own event handlers.
func (s *Server) Propose(cmd []byte, done func([]byte, error)) {
	if !s.IsLeader() {
		done(nil, ErrNotLeader)
		return
	}
	s.nextLocal++
	id := s.nextLocal
	if err := s.rn.Propose(encodeLocalCmd(s.raftID, s.env.Incarnation(), id, cmd)); err != nil {
		done(nil, ErrNotLeader)
		return
	}
	s.localProps[id] = done
	s.drive()
}
