package registry

import "strings"

// staleMark: from T on, a push of the datum at Version or older shows
// nothing newer than an acknowledgement (see staleMarks).
type staleMark struct {
	t int64
	v uint64
}

// staleMarks lists, for a publisher of dataID whose client moved to
// another session and was acknowledged there at ackT, what pushes cannot
// show that new registration: a session server stalled across ackT (a
// fault on it spans ackT) pushes, once it resumes, the datum it cached
// before the stall, and a stalled session had pushed nothing of it meanwhile,
// so that datum can be newer than every one pushed by ackT and still hold
// the registration through the session the client left (registry-chaos 28
// under election=raft: session-1 resumed and pushed a version minted 3.6 s
// before the acknowledgement). Its first push of dataID after ackT is that
// cache: from then on, that version and older ones show the old
// registration. Pushes before it are judged as before, so a newer datum that
// another session pushed first still shows the new registration.
func (s *regState) staleMarks(dataID string, ackT int64, ds []disturbance) []staleMark {
	var out []staleMark
	for _, d := range ds {
		if !strings.HasPrefix(d.node, "session-") || d.start > ackT || d.end < ackT {
			continue
		}
		if t, v, ok := s.firstPushVia(d.node, dataID, ackT); ok {
			out = append(out, staleMark{t, v})
		}
	}
	return out
}

// firstPushVia finds the first push of dataID after t to a subscriber whose
// client was then connected to session.
func (s *regState) firstPushVia(session, dataID string, t int64) (int64, uint64, bool) {
	via := map[int]string{} // client -> its session
	for _, ev := range s.evs {
		switch {
		case ev.Kind == Connect:
			via[ev.Client] = ev.Node
		case ev.Kind == Push && ev.T > t && ev.DataID == dataID && via[ev.Client] == session:
			return ev.T, ev.Version, true
		}
	}
	return 0, 0, false
}

// showsNew reports whether a push of version v at t can show a moved
// publisher's new registration: newer than every datum pushed by its
// acknowledgement (floor) and than every stale cache pushed by t.
func showsNew(t int64, v, floor uint64, marks []staleMark) bool {
	if v <= floor {
		return false
	}
	for _, m := range marks {
		if t >= m.t && v <= m.v {
			return false
		}
	}
	return true
}
