package registry

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// sessionPubs is the fresh computation the cached sync digests must equal:
// what the server holds in a slot for a session, sorted by (registerId,
// dataInfoId).
func (d *DataServer) sessionPubs(slot int, session Proc) []Pub {
	var out []Pub
	for _, id := range slices.Sorted(maps.Keys(d.inSlot[slot])) {
		for _, reg := range slices.Sorted(maps.Keys(d.datums[id].pubs)) {
			if p, _ := d.datums[id].lookup(reg); p.Session == session {
				out = append(out, p)
			}
		}
	}
	sortPubs(out)
	return out
}

var syncSessions = []Proc{{ID: "s1"}, {ID: "s2"}, {ID: "s2", Inc: 1}}

// newSyncServer is a data server of 4 slots with no world: what the
// datums' write paths and the sync digests need.
func newSyncServer() *DataServer {
	d := &DataServer{cfg: Config{Slots: 4}}
	d.m.cfg = d.cfg
	d.datums, d.inSlot, d.digs = map[string]*datum{}, map[int]map[string]struct{}{}, map[int]*slotDigs{}
	return d
}

// changeSync applies one random change through a datum's write paths
// (put, del, remove, install, drop), step i giving versions.
func changeSync(rt *rapid.T, d *DataServer, i int) {
	id := fmt.Sprintf("svc%d", rapid.IntRange(0, 7).Draw(rt, "datum"))
	reg := fmt.Sprintf("r%d", rapid.IntRange(0, 5).Draw(rt, "reg"))
	switch rapid.IntRange(0, 6).Draw(rt, "op") {
	case 0, 1:
		sess := rapid.SampledFrom(syncSessions).Draw(rt, "session")
		d.get(id).put(&Pub{RegID: reg, DataID: id, Data: fmt.Sprint(i), Version: uint64(i), Session: sess})
	case 2:
		d.get(id).del(reg)
	case 3:
		d.get(id).remove(reg)
	case 4:
		x := d.get(id)
		rd := &replicaDatum{DataID: id, Pubs: map[string]pubRec{}}
		for _, k := range slices.Sorted(maps.Keys(x.pubs))[:len(x.pubs)/2] {
			rd.Pubs[k] = x.pubs[k]
		}
		x.install(rd)
	case 5:
		if d.datums[id] != nil {
			d.drop(id)
		}
	case 6:
		// a migration answer (onMigrateResp): the session's publishers in
		// a slot removed, the answer's put, the digest taken from them
		sess := rapid.SampledFrom(syncSessions).Draw(rt, "session")
		slot := d.m.slotOf(id)
		for _, id := range slices.Sorted(maps.Keys(d.inSlot[slot])) {
			x := d.datums[id]
			for _, reg := range slices.Sorted(maps.Keys(x.pubs)) {
				if *x.pubs[reg].Session == sess {
					x.remove(reg)
				}
			}
		}
		var answer []Pub
		for k := range rapid.IntRange(0, 4).Draw(rt, "answered") {
			aid := fmt.Sprintf("svc%d", rapid.IntRange(0, 7).Draw(rt, "answer-datum"))
			if d.m.slotOf(aid) != slot {
				continue
			}
			p := Pub{RegID: fmt.Sprintf("r%d", rapid.IntRange(0, 5).Draw(rt, "answer-reg")), DataID: aid, Data: fmt.Sprint(i, k), Version: uint64(i), Session: sess}
			answer = append(answer, p)
			if x := d.get(aid); x.accepts(&p) {
				x.put(&p)
			}
		}
		idx := make([]int, len(answer))
		for k := range idx {
			idx[k] = k
		}
		d.answeredDigest(slot, sess, answer, idx)
	}
}

// TestSyncDigestCache: after any writes, removals, replicas installed,
// migration answers and datums dropped, in any order with digests read in
// between, every slot's cached digest of every session, and its count of
// the session's publishers, equal those of a fresh walk.
func TestSyncDigestCache(t *testing.T) {
	hits := 0
	rapid.Check(t, func(rt *rapid.T) {
		d := newSyncServer()
		for i := range rapid.IntRange(1, 100).Draw(rt, "steps") {
			changeSync(rt, d, i)
			if !rapid.Bool().Draw(rt, "check") {
				continue
			}
			for slot := range d.cfg.Slots {
				for _, s := range syncSessions {
					c := d.digs[slot]
					if c != nil && c.current(s) {
						hits++
					}
					if c != nil && !c.whole {
						e, _ := c.of(s)
						require.Equal(rt, len(d.sessionPubs(slot, s)), int(e.n), "slot %d session %v: count", slot, s)
					}
					require.Equal(rt, len(d.sessionPubs(slot, s)), d.heldIn(slot, s), "slot %d session %v: held", slot, s)
					require.Equal(rt, pubsDigest(d.sessionPubs(slot, s)), d.sessionDigest(slot, s), "slot %d session %v", slot, s)
				}
			}
		}
	})
	require.Positive(t, hits, "the cache was never reused")
}

// TestSyncChangesNothing: a sync snapshot is taken as changing nothing
// exactly when it is, field for field as the sync compares them (holds),
// what the slot holds of the session in sessionPubs' order, whether the
// slot's digests were up to date or not; snapshots drawn as that, or with
// one publisher missing, changed, added, moved or of another slot.
func TestSyncChangesNothing(t *testing.T) {
	same, counted := 0, 0
	rapid.Check(t, func(rt *rapid.T) {
		d := newSyncServer()
		for i := range rapid.IntRange(1, 60).Draw(rt, "steps") {
			changeSync(rt, d, i)
			if rapid.IntRange(0, 9).Draw(rt, "read") == 0 { // a digest read: later changes stale only some sessions
				d.sessionDigest(rapid.IntRange(0, d.cfg.Slots-1).Draw(rt, "read-slot"), rapid.SampledFrom(syncSessions).Draw(rt, "read-session"))
			}
		}
		slot := rapid.IntRange(0, d.cfg.Slots-1).Draw(rt, "slot")
		s := rapid.SampledFrom(syncSessions).Draw(rt, "session")
		ids := slices.Sorted(maps.Keys(d.inSlot[slot]))
		stale := len(ids) > 0 && rapid.IntRange(0, 2).Draw(rt, "stale") > 0
		if stale {
			// the digests computed, then the session's own write: its digest is stale, its count kept
			d.sessionDigest(slot, s)
			id := rapid.SampledFrom(ids).Draw(rt, "written")
			d.get(id).put(&Pub{RegID: "r0", DataID: id, Data: "w", Version: 99, Session: s})
		}
		held := d.sessionPubs(slot, s)
		snap := slices.Clone(held)
		n := len(snap)
		switch rapid.IntRange(0, 5).Draw(rt, "edit") {
		case 1:
			if n > 0 {
				snap = slices.Delete(snap, n-1, n)
			}
		case 2:
			if n > 0 {
				snap[rapid.IntRange(0, n-1).Draw(rt, "at")].Version++
			}
		case 3:
			snap = append(snap, Pub{RegID: "r9", DataID: "svc0", Session: s})
		case 4:
			if n > 1 {
				snap[0], snap[n-1] = snap[n-1], snap[0]
			}
		case 5:
			// one of them swapped for the session's publisher in another slot
			if other := d.sessionPubs((slot+1)%d.cfg.Slots, s); n > 0 && len(other) > 0 {
				snap[n-1] = other[0]
				sortPubs(snap)
			}
		}
		want := slices.EqualFunc(held, snap, func(a, b Pub) bool {
			return a.RegID == b.RegID && a.DataID == b.DataID && a.Data == b.Data && a.Version == b.Version && a.Conn == b.Conn
		})
		if !stale && rapid.Bool().Draw(rt, "warm") {
			d.sessionDigest(slot, s) // the digests up to date, as the periodic sync leaves them
		}
		if want {
			same++
		}
		if c := d.digs[slot]; c != nil && !c.whole && !c.current(s) {
			counted++
		}
		require.Equal(rt, want, d.syncChangesNothing(&DataWrite{Kind: "sync", Slot: slot, Session: s, Pubs: snap}))
		require.Equal(rt, pubsDigest(held), d.sessionDigest(slot, s), "the digest after the sync's check")
	})
	require.Positive(t, same, "no snapshot changed nothing")
	require.Positive(t, counted, "no snapshot was checked against a stale digest")
}
