package registry

// The session-to-data periodic sync (SOFARegistry's 6 s digest sync): the
// session is the truth about its own clients' publishers, and every one-shot
// repair path (migration answers, re-syncs after a new table) can be lost
// with a connection that died unnoticed. The digest makes the sync cheap
// when nothing differs.

import (
	"sort"
	"time"

	"github.com/sofasim/sofasim/sim"
)

type sessionSyncTick struct{}

func (c *Config) dataDefaults() {
	if c.SessionSyncInterval <= 0 {
		c.SessionSyncInterval = 6 * time.Second
	}
	if c.SessionLease <= 0 {
		c.SessionLease = 30 * time.Second
	}
	if c.SessionLeaseCheck <= 0 {
		c.SessionLeaseCheck = 5 * time.Second
	}
	if c.FollowerSyncInterval <= 0 {
		c.FollowerSyncInterval = 180 * time.Second
	}
	if c.DataRetries <= 0 {
		c.DataRetries = 5
	}
	if c.DataRetryBackoff <= 0 {
		c.DataRetryBackoff = time.Second
	}
}

func sortPubs(p []Pub) {
	sort.Slice(p, func(i, j int) bool {
		if p[i].RegID != p[j].RegID {
			return p[i].RegID < p[j].RegID
		}
		return p[i].DataID < p[j].DataID
	})
}

// sendDigests sends every slot leader in the table the digests of this
// session's publishers in the slots it leads and this session wrote to.
func (s *SessionServer) sendDigests() {
	per := map[string]*SlotDigest{}
	for i, sl := range s.m.table.Slots {
		if sl.Leader.ID == "" || !s.wrote.has(i) {
			continue // a slot this session never wrote to holds nothing of it
		}
		d := per[sl.Leader.ID]
		if d == nil {
			s.nextReq++
			d = &SlotDigest{ReqID: s.nextReq, Epoch: s.m.table.Epoch, Session: s.m.proc}
			per[sl.Leader.ID] = d
		}
		d.Slots = append(d.Slots, i)
		d.Digests = append(d.Digests, s.slotDigest(i))
	}
	for _, id := range sortedKeys(per) {
		s.m.peers.send(sim.NodeID(id), per[id])
	}
}

// onDigestDiff re-sends the publishers of the slots a leader holds
// differently, unless a sync of the slot is already pending.
func (s *SessionServer) onDigestDiff(r *SlotDigestResp) {
	pending := map[int]bool{}
	for _, r := range sortedReqs(s.outbox) {
		if p := s.outbox[r]; p.w.Kind == "sync" {
			pending[p.w.Slot] = true
		}
	}
	for _, slot := range r.Diff {
		if !pending[slot] {
			s.env.Reached("registry/session-sync-repaired-slot")
			s.queue(&DataWrite{Kind: "sync", Slot: slot, Session: s.m.proc}, 0, "", 0)
		}
	}
}
