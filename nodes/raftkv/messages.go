package raftkv

import (
	"go.etcd.io/raft/v3/raftpb"

	"github.com/sofasim/sofasim/sim"
)

// Messages are plain values that could be serialised unchanged: raft's own
// protobuf messages between servers, and Request/Response between clients
// and servers. In the simulator they are delivered by reference; a sender
// never mutates a message (or the entries and payloads it carries) after
// sending it, and raft treats entries as immutable, so this is equivalent
// to sending a serialised copy.

// RaftMessage carries one raft message between servers. It is a one-pointer
// struct, so boxing it in an interface does not allocate.
type RaftMessage struct {
	Msg *raftpb.Message
}

// Digest lets the kernel fold the message's header into the run's
// fingerprint.
func (m RaftMessage) Digest() uint64 {
	x := m.Msg
	h := mix(uint64(x.GetType()), x.GetTerm())
	h = mix(h, x.GetIndex())
	h = mix(h, x.GetLogTerm())
	h = mix(h, x.GetCommit())
	h = mix(h, uint64(len(x.GetEntries())))
	if x.GetReject() {
		h = mix(h, 1)
	}
	return h
}

// Hello opens every server-to-server connection, in both directions: the
// dialer sends it first, the acceptor answers it. It carries the sender's
// incarnation, so a server learns when a peer restarted and its own
// connection to the peer is stale.
type Hello struct {
	Incarnation uint32
}

// RequestKind says what a Request asks for.
type RequestKind uint8

const (
	// ReqWrite proposes Data as a command; it is applied at most once per
	// (Session, Seq).
	ReqWrite RequestKind = iota + 1
	// ReqRead runs Data as a query on the state machine, linearizably
	// through ReadIndex. Reads are never deduplicated (they have no effect).
	ReqRead
	// ReqAdmin asks the leader for Admin.
	ReqAdmin
)

// AdminKind names an administrative operation.
type AdminKind uint8

const (
	AdminTransferLeader AdminKind = iota + 1
	AdminAddMember
	AdminRemoveMember
)

func (k AdminKind) String() string {
	switch k {
	case AdminTransferLeader:
		return "transfer-leader"
	case AdminAddMember:
		return "add-member"
	case AdminRemoveMember:
		return "remove-member"
	}
	return "admin?"
}

// AdminOp is an administrative operation on the cluster.
type AdminOp struct {
	Kind   AdminKind
	Target sim.NodeID
}

// Request is a client's request to a server. A retried request keeps its
// Session and Seq.
type Request struct {
	Session uint64
	Seq     uint64
	Kind    RequestKind
	Data    []byte
	Admin   AdminOp
}

// Code is the outcome class of a Response.
type Code uint8

const (
	// CodeOK: Data holds the state machine's response.
	CodeOK Code = iota + 1
	// CodeNotLeader: the server is not the leader; Leader is its hint
	// (empty when it knows none). The request was not proposed by this
	// server in answer to this attempt.
	CodeNotLeader
	// CodeRejected: the request is invalid (e.g. an admin request naming
	// an unknown node). Data holds the reason. Definite: nothing happened.
	CodeRejected
)

func (s Code) String() string {
	switch s {
	case CodeOK:
		return "ok"
	case CodeNotLeader:
		return "not-leader"
	case CodeRejected:
		return "rejected"
	}
	return "status?"
}

// Response answers a Request.
type Response struct {
	Session uint64
	Seq     uint64
	Code    Code
	Leader  sim.NodeID
	Data    []byte
}

// Digest folds the response's content into the run's fingerprint.
func (r *Response) Digest() uint64 {
	h := mix(r.Session, r.Seq)
	h = mix(h, uint64(r.Code))
	for _, b := range r.Data {
		h = (h ^ uint64(b)) * fnvPrime
	}
	return h
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func mix(h, v uint64) uint64 {
	h ^= v + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2)
	return h
}
