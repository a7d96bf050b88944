package raftkv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// StateMachine is what raftkv replicates. raftkv orders commands through
// the raft log and calls Apply on every member in log order; it keeps the
// client session table (at-most-once for retried writes) around the state
// machine itself, so a StateMachine sees each client command once.
//
// Implementations must be deterministic: the same commands in the same
// order give the same state and responses on every member, with no
// clock, randomness, map-order dependence or I/O. They must not retain or
// mutate the byte slices they are given (copy what they keep), and the
// slices they return must not be mutated afterwards.
type StateMachine interface {
	// Apply executes the command committed at log index and returns the
	// response for the client.
	Apply(index uint64, cmd []byte) []byte
	// Query answers a read-only query on the current state. It must not
	// change the state. raftkv runs it only once the state reflects every
	// write that completed before the read began (ReadIndex).
	Query(query []byte) []byte
	// Snapshot encodes the whole state.
	Snapshot() []byte
	// Restore replaces the state with a decoded snapshot.
	Restore(snapshot []byte) error
}

// session is one client's deduplication record: the last request applied
// and its response. Clients have one outstanding request at a time, so a
// request with a sequence number at or below the last one is a retry.
type session struct {
	seq  uint64
	resp []byte
}

// sessionTable maps a client session id to its record.
type sessionTable map[uint64]*session

// Entry payloads. Raft's own empty entries (a new leader's no-op) have no
// payload at all.
const (
	cmdClient byte = 1 // uvarint session, uvarint seq, command
	cmdLocal  byte = 2 // uvarint origin raft id, uvarint incarnation, uvarint proposal id, command
)

func encodeClientCmd(session, seq uint64, cmd []byte) []byte {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(cmd))
	b = append(b, cmdClient)
	b = binary.AppendUvarint(b, session)
	b = binary.AppendUvarint(b, seq)
	return append(b, cmd...)
}

func encodeLocalCmd(origin uint64, inc uint32, id uint64, cmd []byte) []byte {
	b := make([]byte, 0, 1+3*binary.MaxVarintLen64+len(cmd))
	b = append(b, cmdLocal)
	b = binary.AppendUvarint(b, origin)
	b = binary.AppendUvarint(b, uint64(inc))
	b = binary.AppendUvarint(b, id)
	return append(b, cmd...)
}

var errBadPayload = errors.New("raftkv: malformed entry payload")

// decodedCmd is an entry payload taken apart.
type decodedCmd struct {
	kind    byte
	session uint64 // cmdClient
	seq     uint64 // cmdClient
	origin  uint64 // cmdLocal
	inc     uint64 // cmdLocal
	id      uint64 // cmdLocal
	cmd     []byte
}

func decodeCmd(data []byte) (decodedCmd, error) {
	var d decodedCmd
	if len(data) == 0 {
		return d, errBadPayload
	}
	d.kind = data[0]
	r := data[1:]
	var vals [3]uint64
	n := 0
	switch d.kind {
	case cmdClient:
		n = 2
	case cmdLocal:
		n = 3
	default:
		return d, errBadPayload
	}
	for i := 0; i < n; i++ {
		v, k := binary.Uvarint(r)
		if k <= 0 {
			return d, errBadPayload
		}
		vals[i] = v
		r = r[k:]
	}
	if d.kind == cmdClient {
		d.session, d.seq = vals[0], vals[1]
	} else {
		d.origin, d.inc, d.id = vals[0], vals[1], vals[2]
	}
	d.cmd = r
	return d, nil
}

// Snapshot payload: the raft snapshot's Data. It carries the session table
// (part of the replicated state: identical on every member at a given
// index) and the state machine's own snapshot.
//
//	u8 version (1)
//	uvarint n, then n times: uvarint session, uvarint seq, uvarint len, response
//	the state machine's snapshot (the rest)
const snapPayloadVersion = 1

func encodeSnapPayload(sessions sessionTable, sm []byte) []byte {
	size := 1 + binary.MaxVarintLen64 + len(sm)
	for _, s := range sessions { //detlint:allow a sum of sizes, order-free
		size += 3*binary.MaxVarintLen64 + len(s.resp)
	}
	return appendSnapPayload(make([]byte, 0, size), sessions, sm)
}

// appendSnapPayload appends the payload to b; the state digest hashes it
// from a reused buffer.
func appendSnapPayload(b []byte, sessions sessionTable, sm []byte) []byte {
	b = append(b, snapPayloadVersion)
	b = binary.AppendUvarint(b, uint64(len(sessions)))
	for _, id := range slices.Sorted(maps.Keys(sessions)) {
		s := sessions[id]
		b = binary.AppendUvarint(b, id)
		b = binary.AppendUvarint(b, s.seq)
		b = binary.AppendUvarint(b, uint64(len(s.resp)))
		b = append(b, s.resp...)
	}
	return append(b, sm...)
}

func decodeSnapPayload(data []byte) (sessionTable, []byte, error) {
	if len(data) == 0 || data[0] != snapPayloadVersion {
		return nil, nil, fmt.Errorf("raftkv: snapshot payload: bad version")
	}
	r := data[1:]
	next := func() (uint64, bool) {
		v, k := binary.Uvarint(r)
		if k <= 0 {
			return 0, false
		}
		r = r[k:]
		return v, true
	}
	n, ok := next()
	if !ok || n > uint64(len(r)) {
		return nil, nil, fmt.Errorf("raftkv: snapshot payload: bad session count")
	}
	sessions := make(sessionTable, n)
	for i := uint64(0); i < n; i++ {
		id, ok1 := next()
		seq, ok2 := next()
		l, ok3 := next()
		if !ok1 || !ok2 || !ok3 || l > uint64(len(r)) {
			return nil, nil, fmt.Errorf("raftkv: snapshot payload: bad session %d", i)
		}
		resp := append([]byte(nil), r[:l]...)
		r = r[l:]
		sessions[id] = &session{seq: seq, resp: resp}
	}
	return sessions, r, nil
}
