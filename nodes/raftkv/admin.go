package raftkv

// Administrative operations on the leader: leadership transfer and
// membership changes, from clients or queued by a harness.

import (
	"fmt"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/sofasim/sofasim/sim"
)

// adminTask is a harness request queued through a zero-delay timer so that
// it runs as a node event.
type adminTask struct{ op AdminOp }

// admin runs an administrative operation on the leader. It returns
// CodeOK with why "pending" when a conf change was proposed (answered
// when it applies), CodeOK when done, or a refusal.
func (s *Server) admin(op AdminOp, ctx []byte) (Code, string) {
	target := s.raftIDOf(op.Target)
	if target == 0 {
		return CodeRejected, fmt.Sprintf("unknown node %q", op.Target)
	}
	voter := s.isVoter(target)
	switch op.Kind {
	case AdminTransferLeader:
		if !voter {
			return CodeRejected, fmt.Sprintf("%s is not a member", op.Target)
		}
		if target != s.raftID {
			s.rn.TransferLeader(target)
		}
		return CodeOK, ""
	case AdminAddMember, AdminRemoveMember:
		typ := raftpb.ConfChangeAddNode
		if op.Kind == AdminRemoveMember {
			typ = raftpb.ConfChangeRemoveNode
			if !voter {
				return CodeOK, ""
			}
			if len(s.confState.GetVoters()) <= 1 {
				return CodeRejected, "cannot remove the last member"
			}
		} else if voter {
			return CodeOK, ""
		}
		cc := &raftpb.ConfChange{Type: typ.Enum(), NodeId: new(target), Context: ctx}
		if err := s.rn.ProposeConfChange(cc); err != nil {
			return CodeNotLeader, ""
		}
		return CodeOK, "pending"
	}
	return CodeRejected, "unknown admin operation"
}

// isVoter reports whether the raft id is a voter of the applied config.
func (s *Server) isVoter(id uint64) bool {
	for _, v := range s.confState.GetVoters() {
		if v == id {
			return true
		}
	}
	return false
}

// TransferLeader asks this server, which must be the leader, to hand
// leadership to the named member. It is queued as a node event; watch
// Status for the result.
func (s *Server) TransferLeader(to sim.NodeID) error {
	return s.queueAdmin(AdminOp{Kind: AdminTransferLeader, Target: to})
}

// AddMember asks this server, which must be the leader, to add a spare
// server as a voting member. It is queued as a node event.
func (s *Server) AddMember(id sim.NodeID) error {
	return s.queueAdmin(AdminOp{Kind: AdminAddMember, Target: id})
}

// RemoveMember asks this server, which must be the leader, to remove a
// member. It is queued as a node event.
func (s *Server) RemoveMember(id sim.NodeID) error {
	return s.queueAdmin(AdminOp{Kind: AdminRemoveMember, Target: id})
}

// queueAdmin queues a harness's admin request as a node event, so that it
// runs inside the node like any other input.
func (s *Server) queueAdmin(op AdminOp) error {
	if !s.IsLeader() {
		return ErrNotLeader
	}
	if s.raftIDOf(op.Target) == 0 {
		return fmt.Errorf("raftkv: unknown node %q", op.Target)
	}
	s.env.SetTimer(0, &adminTask{op: op})
	return nil
}
