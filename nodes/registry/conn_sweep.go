package registry

// The orphan-connection sweep (SOFARegistry's SessionRegistry.ClientWatchDog,
// cleanClientConnect every 5 s): a session periodically looks for
// registrations whose client connection is gone and cleans them as the
// close would have. The close event is not enough on its own: a real
// session handles a connection's close on its IO thread while the
// registrations received just before wait in an executor, so a client that
// disconnects right after registering is cleaned before its publishers are
// stored (sofa-registry#37). RegisterLag models that window.

import (
	"time"

	"github.com/sofasim/sofasim/sim"
)

type orphanSweepTick struct{}

// connSweep is a session's record of when each registration arrived, and
// the connection index entries that outlived their connection's close.
type connSweep struct {
	at     map[string]time.Duration // registerId -> when it was last registered
	closed map[sim.ConnID][]string  // a closed connection -> registrations stored after its cleanup
}

// fastDisconnectLag is the race window BugFastDisconnectUncleaned opens
// when the configuration models none.
const fastDisconnectLag = 2 * time.Second

func (s *SessionServer) startSweep() {
	s.conns = connSweep{at: map[string]time.Duration{}, closed: map[sim.ConnID][]string{}}
	s.env.SetTimer(s.cfg.OrphanSweepInterval, orphanSweepTick{})
}

// registered notes that a registration arrived now.
func (s *SessionServer) registered(reg string) {
	s.conns.at[reg] = s.env.Monotonic()
}

// lostCloseRace reports whether a connection's close, handled now, misses
// the registration: it was received within the register lag and is stored
// only after the cleanup ran.
func (s *SessionServer) lostCloseRace(reg string) bool {
	lag := s.cfg.RegisterLag
	if lag == 0 && s.bug(BugFastDisconnectUncleaned) {
		lag = fastDisconnectLag
	}
	at, ok := s.conns.at[reg]
	if ok && s.env.Monotonic()-at < lag {
		s.env.Reached("registry/close-before-registration-stored")
		return true
	}
	return false
}

// forgetRegistrations drops the arrival times that can no longer make a
// close miss a registration: of registrations no longer held, and older
// than any register lag. The map is rebuilt, as Go maps never shrink: it
// held every publisher (38 bytes a client), now those of the last sweep.
func (s *SessionServer) forgetRegistrations() {
	held := func(reg string) bool { return s.pubs[reg] != nil }
	s.conns.at = recentRegistrations(s.conns.at, held, s.env.Monotonic(), max(s.cfg.RegisterLag, fastDisconnectLag))
}

// recentRegistrations is the arrival times of the held registrations that
// arrived within lag before now.
func recentRegistrations(at map[string]time.Duration, held func(string) bool, now, lag time.Duration) map[string]time.Duration {
	keep := make(map[string]time.Duration, len(at)/4)
	for reg, t := range at { //detlint:allow fills a map
		if held(reg) && now-t < lag {
			keep[reg] = t
		}
	}
	return keep
}

// sweepOrphans cleans the connection index entries whose connection is
// closed. Like the real watchdog it walks the connection index, not the
// publishers: a publisher missing from the index (PR 138) escapes it too.
func (s *SessionServer) sweepOrphans() {
	s.forgetRegistrations()
	if s.bug(BugFastDisconnectUncleaned) {
		return // the watchdog is off
	}
	for _, c := range sortedConnIDs(s.conns.closed) {
		s.env.Reached("registry/orphan-connection-cleaned")
		s.cleanConn(c, s.conns.closed[c])
		delete(s.conns.closed, c)
	}
}
