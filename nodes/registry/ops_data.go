package registry

// The ops side of a data server: graceful quit and join, and the planted
// session-off of sofa-registry#57.

import (
	"time"

	"github.com/sofasim/sofasim/sim"
)

// dataOps is a data server's ops state.
type dataOps struct {
	quitting bool
	gone     map[sim.NodeID]time.Duration // session server -> when its connection closed, until it is heard from again
}

type sessionOffTick struct {
	session sim.NodeID
	at      time.Duration
}

func (d *DataServer) startOps() { d.ops = dataOps{gone: map[sim.NodeID]time.Duration{}} }

// opsMessage takes the ops messages and timers; it reports whether it did.
func (d *DataServer) opsMessage(from sim.NodeID, msg any) bool {
	delete(d.ops.gone, from) // heard from again
	switch x := msg.(type) {
	case *ServerQuit:
		if d.ops.quitting == x.Join {
			d.ops.quitting = !x.Join
			d.env.Trace("registry/data-quit", d.ops.quitting)
		}
	case heartbeatTick:
		if !d.ops.quitting {
			return false
		}
		// Quitting: ask to be taken out of the table instead of renewing
		// the lease; the server serves its slots until a table without it
		// arrives and the new leaders have synced.
		for _, id := range d.cfg.Metas {
			d.m.peers.send(id, &Forbid{Proc: d.m.proc, Epoch: d.m.table.Epoch})
		}
		d.env.SetTimer(d.cfg.HeartbeatInterval, heartbeatTick{})
	case sessionOffTick:
		if at, ok := d.ops.gone[x.session]; ok && at == x.at {
			d.sessionOff(x.session)
		}
	default:
		return false
	}
	return true
}

// sessionClosed notes that a connection to a session server closed (the
// first of several: a dial that fails closes again).
func (d *DataServer) sessionClosed(peer sim.NodeID) {
	if _, gone := d.ops.gone[peer]; gone {
		return
	}
	for _, s := range d.m.table.Sessions {
		if sim.NodeID(s.ID) == peer {
			now := d.env.Monotonic()
			d.ops.gone[peer] = now
			d.env.SetTimer(d.cfg.Ops.SessionOffDelay, sessionOffTick{session: peer, at: now})
			return
		}
	}
}

// sessionOff: a session server has not been heard from for
// SessionOffDelay. A correct data server keeps its publishers while the
// meta leader's table lists it (the table, not a connection, says who is
// alive); with the planted bug it erases them, as sofa-registry's data
// servers did (#57), and the session, still in the table, never sends
// them again.
func (d *DataServer) sessionOff(session sim.NodeID) {
	d.env.Reached("registry/session-silent-for-session-off-delay")
	if _, bug := d.env.Failpoint(BugSessionOffAfterDisconnect); !bug {
		return
	}
	erased := 0
	for _, id := range sortedKeys(d.datums) {
		x := d.datums[id]
		n := len(x.pubs)
		for _, reg := range sortedKeys(x.pubs) {
			if sim.NodeID(x.pubs[reg].Session.ID) == session {
				x.remove(reg)
			}
		}
		if len(x.pubs) != n {
			erased += n - len(x.pubs)
			d.changed(x)
		}
	}
	d.env.Trace("registry/session-off", string(session), erased)
}
