package registry

import "strings"

// staleMark: from t on, a push of the datum at version v or older shows
// nothing newer than an acknowledgement (see staleMarks).
type staleMark struct {
	t int64
	v uint64
}

// staleMarks lists, for a publisher of dataID whose client moved to
// another session and was acknowledged there at ackT, what pushes cannot
// show that new registration. A session server stalled across ackT (a
// fault on it spans ackT) that had pushed the datum before the stall holds
// it cached, and pushes that cache once it resumes: newer than every datum
// pushed by ackT (it pushed nothing meanwhile), yet holding the
// registration through the session the client left (registry-chaos 28
// under election=raft: session-1 resumed and pushed a version minted 3.6 s
// before the acknowledgement, its fetches refused by a migrating leader).
// Its first push of the datum after ackT is taken as that cache: from then
// on, that version and older ones show the old registration. A fetch
// answered before that push (or a restart that emptied the cache) makes it
// fresh, which the history does not show; the checker then judges less,
// never more. Pushes before it are
// judged as before, so a newer datum another session pushed first still
// shows the new registration.
func (s *regState) staleMarks(dataID string, ackT int64, ds []disturbance) []staleMark {
	var out []staleMark
	for _, d := range ds {
		if !strings.HasPrefix(d.node, "session-") || d.start > ackT || d.end < ackT {
			continue
		}
		cached := false
		for _, p := range s.pushesVia(d.node, dataID) {
			cached = cached || p.t < d.start
			if p.t > ackT {
				if cached {
					out = append(out, p)
				}
				break
			}
		}
	}
	return out
}

// pushesVia lists, in order, the pushes of dataID to subscribers whose
// client was then connected to session.
func (s *regState) pushesVia(session, dataID string) []staleMark {
	var out []staleMark
	via := map[int]string{} // client -> its session
	for _, ev := range s.evs {
		switch {
		case ev.Kind == Connect:
			via[ev.Client] = ev.Node
		case ev.Kind == Push && ev.DataID == dataID && via[ev.Client] == session:
			out = append(out, staleMark{ev.T, ev.Version})
		}
	}
	return out
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
