package raftkv

// Linearizable reads through raft's ReadIndex, batched in rounds.

import (
	"encoding/binary"

	"go.etcd.io/raft/v3"

	"github.com/sofasim/sofasim/sim"
)

// pendingRead is a read waiting for its read index to be confirmed and
// applied; local reads call back instead of answering a connection.
type pendingRead struct {
	round   uint64 // the ReadIndex round it waits on, 0: the next one
	index   uint64 // 0 until raft confirms the read index
	conn    sim.ConnID
	session uint64
	seq     uint64
	query   []byte
	local   func([]byte, error)
}

// retryReadRound abandons the round in flight and starts another for its
// reads. Raft keeps a ReadIndex request pending until a quorum of the
// current config acks a heartbeat carrying it; a request made before a
// membership change can wait forever (after shrinking to one voter, no
// heartbeat responses come at all), so rounds are retried after a
// membership change and after an election timeout.
func (s *Server) retryReadRound() {
	if s.readRound == 0 {
		return
	}
	s.env.Reached("raftkv/read-round-retried")
	for i := range s.reads {
		if s.reads[i].round == s.readRound && s.reads[i].index == 0 {
			s.reads[i].round = 0
		}
	}
	s.readRound = 0
	s.nextReadRound()
}

// readState records the read index confirmed for a round of reads.
func (s *Server) readState(rs raft.ReadState) {
	if len(rs.RequestCtx) != 8 {
		return
	}
	round := binary.LittleEndian.Uint64(rs.RequestCtx)
	for i := range s.reads {
		if s.reads[i].round == round {
			s.reads[i].index = max(rs.Index, 1)
		}
	}
	if round == s.readRound {
		s.readRound = 0
	}
}

// serveReads answers the reads whose read index has been applied, in
// arrival order.
func (s *Server) serveReads() {
	if len(s.reads) == 0 {
		return
	}
	keep := s.reads[:0]
	for _, r := range s.reads {
		if r.index == 0 || r.index > s.applied {
			keep = append(keep, r)
			continue
		}
		resp := s.sm.Query(r.query)
		if r.local != nil {
			r.local(resp, nil)
		} else {
			s.observe(Observation{Kind: ObsReadServed, Session: r.session, Seq: r.seq, Index: s.applied, Term: s.hs.GetTerm()})
			if s.role != raft.StateLeader {
				s.env.Reached("raftkv/read-served-after-step-down")
			}
			s.env.Send(r.conn, &Response{Session: r.session, Seq: r.seq, Code: CodeOK, Data: resp})
		}
	}
	clear(s.reads[len(keep):])
	s.reads = keep
}

// startRead queues a read. Reads are confirmed in rounds, one ReadIndex
// (one heartbeat round) at a time: reads that arrive while a round is in
// flight wait for the next one, which starts after they arrived, as
// etcd's linearizable read loop does.
func (s *Server) startRead(r pendingRead) {
	s.reads = append(s.reads, r)
	s.nextReadRound()
}

// nextReadRound starts a ReadIndex round for the waiting reads, unless one
// is in flight.
func (s *Server) nextReadRound() {
	if s.readRound != 0 || s.role != raft.StateLeader {
		return
	}
	var round uint64
	for i := range s.reads {
		if s.reads[i].round == 0 {
			if round == 0 {
				s.nextRound++
				round = uint64(s.env.Incarnation())<<40 | s.nextRound
			}
			s.reads[i].round = round
		}
	}
	if round == 0 {
		return
	}
	s.readRound, s.roundTicks = round, 0
	var ctx [8]byte
	binary.LittleEndian.PutUint64(ctx[:], round)
	s.rn.ReadIndex(ctx[:])
}

// Read runs a linearizable query (through ReadIndex) on behalf of the node
// embedding this server. done gets the response, or ErrNotLeader.
func (s *Server) Read(query []byte, done func([]byte, error)) {
	if !s.IsLeader() {
		done(nil, ErrNotLeader)
		return
	}
	s.startRead(pendingRead{query: query, local: done})
	s.drive()
}
