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
			if p := d.datums[id].pubs[reg]; p.Session == session {
				out = append(out, p)
			}
		}
	}
	sortPubs(out)
	return out
}

// TestSyncDigestCache: after any writes, removals, replicas installed and
// datums dropped, in any order with digests read in between, every slot's
// cached digest of every session equals the digest of a fresh walk.
func TestSyncDigestCache(t *testing.T) {
	hits := 0
	rapid.Check(t, func(rt *rapid.T) {
		d := &DataServer{cfg: Config{Slots: 4}}
		d.m.cfg = d.cfg
		d.datums, d.inSlot, d.digs = map[string]*datum{}, map[int]map[string]bool{}, map[int]*slotDigs{}
		sessions := []Proc{{ID: "s1"}, {ID: "s2"}, {ID: "s2", Inc: 1}}
		for i := range rapid.IntRange(1, 100).Draw(rt, "steps") {
			id := fmt.Sprintf("svc%d", rapid.IntRange(0, 7).Draw(rt, "datum"))
			reg := fmt.Sprintf("r%d", rapid.IntRange(0, 5).Draw(rt, "reg"))
			switch rapid.IntRange(0, 5).Draw(rt, "op") {
			case 0, 1:
				sess := rapid.SampledFrom(sessions).Draw(rt, "session")
				d.get(id).put(&Pub{RegID: reg, DataID: id, Data: fmt.Sprint(i), Version: uint64(i), Session: sess})
			case 2:
				d.get(id).del(reg)
			case 3:
				d.get(id).remove(reg)
			case 4:
				x := d.get(id)
				rd := &replicaDatum{DataID: id, Pubs: map[string]Pub{}}
				for _, k := range slices.Sorted(maps.Keys(x.pubs))[:len(x.pubs)/2] {
					rd.Pubs[k] = x.pubs[k]
				}
				x.install(rd)
			case 5:
				if d.datums[id] != nil {
					d.drop(id)
				}
			}
			if !rapid.Bool().Draw(rt, "check") {
				continue
			}
			for slot := range d.cfg.Slots {
				for _, s := range sessions {
					if c := d.digs[slot]; c != nil && c.ok && c.built == c.gen {
						hits++
					}
					require.Equal(rt, pubsDigest(d.sessionPubs(slot, s)), d.sessionDigest(slot, s), "slot %d session %v", slot, s)
				}
			}
		}
	})
	require.Positive(t, hits, "the cache was never reused")
}
