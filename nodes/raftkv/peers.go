package raftkv

// Connections to the other servers: one per peer, dialled on first send,
// redialled after a break, and checked for staleness with Hello.

import (
	"go.etcd.io/raft/v3/raftpb"

	"github.com/sofasim/sofasim/sim"
)

// snapReport is the outcome of sending a snapshot, reported to raft once
// the Ready is done (raft must not be called back from inside it).
type snapReport struct {
	to uint64
	ok bool
}

// Connected answers a peer server's dial with a Hello, so that the dialer
// learns which incarnation its connection reaches.
func (s *Server) Connected(conn sim.ConnID, peer sim.NodeID) {
	if s.dead || s.rn == nil || s.raftIDOf(peer) == 0 {
		return
	}
	for _, c := range s.peerConns {
		if c == conn {
			return // our own dial
		}
	}
	s.env.Send(conn, &Hello{Incarnation: s.env.Incarnation()})
}

// onHello tracks peer incarnations: a connection of ours that reaches an
// older incarnation than the one now talking to us is stale (the peer
// restarted; the kernel tells us only after up to a keepalive timeout), so
// it is closed and redialled on the next send.
func (s *Server) onHello(conn sim.ConnID, from sim.NodeID, h *Hello) {
	id := s.raftIDOf(from)
	if id == 0 {
		return
	}
	i := id - 1
	if conn == s.peerConns[i] {
		s.peerInc[i] = h.Incarnation
		return
	}
	if s.peerConns[i] != 0 && s.peerInc[i] != 0 && s.peerInc[i] < h.Incarnation {
		s.env.Close(s.peerConns[i])
		s.peerConns[i], s.peerInc[i] = 0, 0
		s.rn.ReportUnreachable(id)
	}
}

// Closed forgets a broken peer connection (it is redialled on the next
// send) and tells raft the peer is unreachable.
func (s *Server) Closed(conn sim.ConnID, _ sim.NodeID) {
	if s.dead || s.rn == nil {
		return
	}
	for i, c := range s.peerConns {
		if c == conn {
			s.peerConns[i], s.peerInc[i] = 0, 0
			s.rn.ReportUnreachable(uint64(i + 1))
			s.drive()
			return
		}
	}
}

// send delivers a raft message on the peer's connection, dialling it (and
// opening with a Hello) if needed; a snapshot's send is reported to raft
// after the Ready.
func (s *Server) send(m *raftpb.Message) {
	to := m.GetTo()
	if to == 0 || to > uint64(len(s.ids)) {
		return
	}
	i := to - 1
	c := s.peerConns[i]
	if c == 0 {
		c = s.env.Dial(s.ids[i])
		s.peerConns[i], s.peerInc[i] = c, 0
		s.env.Send(c, &Hello{Incarnation: s.env.Incarnation()})
	}
	ok := s.env.Send(c, RaftMessage{Msg: m})
	if !ok {
		s.peerConns[i], s.peerInc[i] = 0, 0
	}
	if m.GetType() == raftpb.MsgVoteResp && !m.GetReject() {
		s.observe(Observation{Kind: ObsVote, Term: m.GetTerm(), Peer: s.nodeOf(to)})
		if s.env.Incarnation() > 1 {
			s.env.Reached("raftkv/vote-after-restart")
		}
	}
	if m.GetType() == raftpb.MsgAppResp && !m.GetReject() {
		s.observe(Observation{Kind: ObsAck, Term: m.GetTerm(), Index: m.GetIndex()})
	}
	if m.GetType() == raftpb.MsgSnap {
		s.env.Reached("raftkv/snapshot-sent")
		s.snapReports = append(s.snapReports, snapReport{to: to, ok: ok})
	}
}
