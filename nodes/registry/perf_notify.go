package registry

// Change notices, as SOFARegistry's DataChangeEventCenter sends them: a
// data server tells every session server which dataInfoIds changed and
// their versions, merged over NotifyInterval, and only the sessions that
// care fetch the datum. Sending every changed datum to every session made
// each change cost one message per session server, most of which had no
// subscriber for it.

import (
	"strings"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// NotifyInterval merges a data server's change notices: the first change
// after a quiet interval is announced at once, later ones at most once per
// interval (SOFARegistry's notifyIntervalMillis is 500 ms, announced at the
// end of the interval; announcing the first at once keeps an isolated
// change as fast as before).
const NotifyInterval = 100 * time.Millisecond

// DataChange: a data slot leader -> every session server: dataInfoIds that
// changed since its last notice, with their versions (DataChangeRequest).
type DataChange struct {
	IDs      []string
	Versions []uint64
}

// notifier collects a data server's changes between notices.
type notifier struct {
	at    map[string]int // dataInfoId -> index in next
	next  DataChange
	last  time.Duration // monotonic time of the last notice
	sent  bool          // a notice went (last is set)
	armed bool          // a notifyTick is pending
}

type notifyTick struct{}

// add records a change of the datum.
func (n *notifier) add(id string, version uint64) {
	if n.at == nil {
		n.at = map[string]int{}
	}
	if i, ok := n.at[id]; ok {
		n.next.Versions[i] = version
		return
	}
	n.at[id] = len(n.next.IDs)
	n.next.IDs = append(n.next.IDs, id)
	n.next.Versions = append(n.next.Versions, version)
}

// notifyChanges sends the collected changes to every session server in
// the table, or arms a timer for when the interval since the last notice
// ends. It runs after each message and timer the data server handles, so
// the changes one request makes go in one notice.
func (d *DataServer) notifyChanges() {
	n := &d.notes
	if len(n.next.IDs) == 0 || n.armed {
		return
	}
	now := d.env.Monotonic()
	if wait := n.last + NotifyInterval - now; n.sent && wait > 0 {
		n.armed = true
		d.env.SetTimer(wait, notifyTick{})
		return
	}
	msg := &DataChange{IDs: n.next.IDs, Versions: n.next.Versions}
	n.next, n.at, n.last, n.sent = DataChange{}, nil, now, true
	for _, s := range d.m.table.Sessions {
		d.m.peers.send(sim.NodeID(s.ID), msg)
	}
}

// announceToJoined tells the session processes that joined the table of
// every datum this server serves: notices before they joined went to the
// sessions of the older table only. (Slots still migrating announce their
// datums to every session when they finish.)
func (d *DataServer) announceToJoined(old Table) {
	var joined []Proc
	for _, p := range d.m.table.Sessions {
		if !old.hasSession(p) {
			joined = append(joined, p)
		}
	}
	if len(joined) == 0 {
		return
	}
	msg := &DataChange{}
	for _, id := range sortedKeys(d.datums) {
		if st := d.slots[d.m.slotOf(id)]; st != nil && st.leader && st.status == Accept {
			msg.IDs = append(msg.IDs, id)
			msg.Versions = append(msg.Versions, d.datums[id].version)
		}
	}
	if len(msg.IDs) == 0 {
		return
	}
	for _, p := range joined {
		d.m.peers.send(sim.NodeID(p.ID), msg)
	}
}

// onDataChange fetches the announced datums this session cares about and
// holds older: the ones its subscribers want, the ones it caches, and app
// datums (interfaces are built from them). A notice from a server that
// does not lead the slot in this session's table (this session has not
// installed the table that made it leader, or it was deposed) is kept for
// the next table: the fetch goes to the slot's leader in this session's
// table, whose datums are the only ones taken.
func (s *SessionServer) onDataChange(from sim.NodeID, x *DataChange) {
	for i, id := range x.IDs {
		if derived(id) || !s.wants(id, x.Versions[i]) {
			continue
		}
		if from != s.m.leaderOf(s.m.slotOf(id)) {
			s.notes.refetch[id] = true
			continue
		}
		s.fetchNoticed(id)
	}
}

// wants reports whether the session should fetch a datum announced at
// version v.
func (s *SessionServer) wants(id string, v uint64) bool {
	c := s.cache[id]
	if c != nil {
		return c.Version < v
	}
	return len(s.byData[id]) > 0 || isAppData(id)
}

// sessionNotes is a session's state of the change notices.
type sessionNotes struct {
	fetches map[uint64]string // fetch request -> the dataInfoId a notice asked for
	refetch map[string]bool   // noticed datums to fetch once the next table is installed
}

func (n *sessionNotes) init() {
	n.fetches, n.refetch = map[uint64]string{}, map[string]bool{}
}

func (s *SessionServer) fetchNoticed(id string) {
	s.fetch(id)
	s.notes.fetches[s.nextReq] = id
}

// onFetched takes a fetch's answer: a datum a change notice asked for goes
// through the push pipeline's change merging, as the announced datum did;
// the others (the version scan, a new subscriber) at once. A noticed fetch
// the leader refused (this session's table is behind) is tried again with
// the next table.
func (s *SessionServer) onFetched(from sim.NodeID, x *GetDatumResp) {
	id, noticed := s.notes.fetches[x.ReqID]
	delete(s.notes.fetches, x.ReqID)
	if x.Status != Accept || x.Datum == nil {
		if noticed {
			s.notes.refetch[id] = true
		}
		return
	}
	if from != s.m.leaderOf(s.m.slotOf(x.Datum.DataID)) {
		return
	}
	if noticed {
		s.onChange(x.Datum)
		return
	}
	s.onDatum(x.Datum)
}

// dropMovedMerges drops the changes still merging whose slot has a new
// leader and fetches them again from it: they came from the old one, and
// two leaders' versions do not compare (each starts from its own clock), so
// an old leader's datum fired after the new leader's was pushed would
// replace a newer publisher version with an older one. SOFARegistry's
// session merges the change notices and fetches when they fire, from the
// leader it routes to then.
func (s *SessionServer) dropMovedMerges(moved []bool) {
	for _, id := range sortedKeys(s.push.merges) {
		if slot := s.m.slotOf(id); slot < len(moved) && moved[slot] {
			delete(s.push.merges, id)
			s.notes.refetch[id] = true
			s.env.Reached("registry/merged-change-from-old-leader")
			s.env.Trace("registry/merged-change-refetched", id)
		}
	}
}

// refetchNoticed fetches, with a new table, the noticed datums that could
// not be fetched before.
func (s *SessionServer) refetchNoticed() {
	ids := sortedKeys(s.notes.refetch)
	clear(s.notes.refetch)
	for _, id := range ids {
		if s.wants(id, ^uint64(0)) {
			s.fetchNoticed(id)
		}
	}
}

func isAppData(id string) bool { return strings.HasPrefix(id, "app/") }
