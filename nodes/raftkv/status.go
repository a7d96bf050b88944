package raftkv

// What the server reports about itself to harnesses, nemeses and tests.

import (
	"go.etcd.io/raft/v3"

	"github.com/sofasim/sofasim/sim"
)

// Status is a server's view of the cluster, for nemeses, harnesses and
// tests.
type Status struct {
	ID            sim.NodeID   `json:"id"`
	RaftID        uint64       `json:"raft_id"`
	Term          uint64       `json:"term"`
	Vote          sim.NodeID   `json:"vote,omitempty"`
	Lead          sim.NodeID   `json:"lead,omitempty"`
	Role          string       `json:"role"` // leader, follower, candidate, pre-candidate; "down" before start or after a fatal error
	Applied       uint64       `json:"applied"`
	Commit        uint64       `json:"commit"`
	SnapshotIndex uint64       `json:"snapshot_index"`
	FirstIndex    uint64       `json:"first_index"`
	LastIndex     uint64       `json:"last_index"`
	Members       []sim.NodeID `json:"members"`
	// InstalledSnapshots counts snapshots received from a leader by this
	// incarnation.
	InstalledSnapshots uint64 `json:"installed_snapshots"`
}

// Status reports the server's state.
func (s *Server) Status() Status {
	st := Status{ID: s.cfg.ID, RaftID: s.raftID, Role: "down"}
	if s.rn == nil || s.dead {
		return st
	}
	bs := s.rn.BasicStatus()
	st.Term, st.Vote, st.Commit = bs.GetTerm(), s.nodeOf(bs.GetVote()), bs.GetCommit()
	st.Lead = s.nodeOf(bs.Lead)
	st.Role = roleName(bs.RaftState)
	st.Applied, st.SnapshotIndex = s.applied, s.snapIndex
	st.InstalledSnapshots = s.installed
	st.FirstIndex, _ = s.store.FirstIndex()
	st.LastIndex, _ = s.store.LastIndex()
	for _, v := range s.confState.GetVoters() {
		st.Members = append(st.Members, s.nodeOf(v))
	}
	return st
}

// roleName names a raft role as Status reports it.
func roleName(r raft.StateType) string {
	switch r {
	case raft.StateLeader:
		return "leader"
	case raft.StateFollower:
		return "follower"
	case raft.StateCandidate:
		return "candidate"
	case raft.StatePreCandidate:
		return "pre-candidate"
	}
	return "unknown"
}

// IsLeader reports whether the server believes it leads.
func (s *Server) IsLeader() bool { return !s.dead && s.rn != nil && s.role == raft.StateLeader }

// StateMachine returns the live state machine, for tests and checkers to
// inspect (never to modify).
func (s *Server) StateMachine() StateMachine { return s.sm }
