package raftkv

// Applying committed entries: client commands (deduplicated by session),
// local proposals of the embedding node, and membership changes.

import (
	"encoding/binary"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// apply applies committed entries in order.
func (s *Server) apply(ents []*raftpb.Entry) {
	for _, e := range ents {
		idx := e.GetIndex()
		if idx <= s.applied {
			continue
		}
		switch e.GetType() {
		case raftpb.EntryNormal:
			if len(e.GetData()) > 0 {
				s.applyCommand(idx, e.GetData())
			}
		case raftpb.EntryConfChange:
			var cc raftpb.ConfChange
			if err := proto.Unmarshal(e.GetData(), &cc); err != nil {
				s.fatal("bad conf change entry: " + err.Error())
				return
			}
			s.applyConfChange(&cc, cc.GetContext())
		case raftpb.EntryConfChangeV2:
			var cc raftpb.ConfChangeV2
			if err := proto.Unmarshal(e.GetData(), &cc); err != nil {
				s.fatal("bad conf change entry: " + err.Error())
				return
			}
			s.applyConfChange(&cc, cc.GetContext())
		}
		s.applied = idx
		s.observeState(false)
	}
}

// applyCommand applies one command entry: a client's command at most once
// per (session, seq), answering the client if it waits here; a local
// proposal, calling back its proposer if it is this incarnation.
func (s *Server) applyCommand(idx uint64, data []byte) {
	d, err := decodeCmd(data)
	if err != nil {
		s.env.Trace("raftkv/bad-entry", idx)
		return
	}
	switch d.kind {
	case cmdClient:
		var resp []byte
		if idx <= s.noSessionsUpTo {
			resp = s.sm.Apply(idx, d.cmd) // the dedup-lost bug: replay bypasses the sessions
		} else {
			sess := s.sessions[d.session]
			if sess != nil && d.seq == sess.seq {
				s.env.Reached("raftkv/retry-committed-twice") // whatever apply makes of it
			}
			switch {
			case sess != nil && d.seq < sess.seq:
				return // an old retry: its client has moved on
			case sess != nil && d.seq == sess.seq:
				resp = sess.resp // a retry that committed twice: applied once
				s.env.Reached("raftkv/retry-deduplicated")
				if s.env.Incarnation() > 1 {
					s.env.Reached("raftkv/retry-deduplicated-after-restart")
				}
			default:
				resp = s.sm.Apply(idx, d.cmd)
				if sess == nil {
					sess = &session{}
					s.sessions[d.session] = sess
				}
				sess.seq, sess.resp = d.seq, resp
			}
		}
		if p, ok := s.pending[d.session]; ok && p.seq == d.seq {
			delete(s.pending, d.session)
			s.env.Send(p.conn, &Response{Session: d.session, Seq: d.seq, Code: CodeOK, Data: resp})
		}
	case cmdLocal:
		resp := s.sm.Apply(idx, d.cmd)
		if d.origin == s.raftID && d.inc == uint64(s.env.Incarnation()) {
			if cb := s.localProps[d.id]; cb != nil {
				delete(s.localProps, d.id)
				cb(resp, nil)
			}
		}
	}
}

// applyConfChange applies a membership change, marks a snapshot due (a new
// member is sent one that includes it) and retries the read round in flight.
func (s *Server) applyConfChange(cc raftpb.ConfChangeI, ctx []byte) {
	s.confState = s.rn.ApplyConfChange(cc)
	s.confDirty = true
	s.readsStale = s.readRound != 0
	for _, c := range cc.AsV2().GetChanges() {
		s.env.Trace("raftkv/conf-change", c.GetType().String(), s.nodeOf(c.GetNodeId()))
	}
	if len(ctx) == 16 {
		session, seq := binary.LittleEndian.Uint64(ctx), binary.LittleEndian.Uint64(ctx[8:])
		if p, ok := s.pending[session]; ok && p.seq == seq {
			delete(s.pending, session)
			s.env.Send(p.conn, &Response{Session: session, Seq: seq, Code: CodeOK})
		}
	}
}
