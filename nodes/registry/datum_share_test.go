package registry

import (
	"fmt"
	"maps"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestReplicaSharing: a leader and a follower that share their maps with
// the replicas in flight (copyReplica, install) hold what plain copies
// would, and no change on either side reaches a replica already sent.
func TestReplicaSharing(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		newDatum := func() *datum { return &datum{id: "svc", pubs: map[string]pubRec{}} }
		type sent struct {
			rd         *replicaDatum
			pubs, gone map[string]pubRec
			tombs      map[string]uint64
			modelPubs  map[string]pubRec
			modelTombs map[string]uint64
			modelGone  map[string]pubRec
		}
		sides := []*datum{newDatum(), newDatum()} // leader, follower (roles swap)
		models := []*datum{newDatum(), newDatum()}
		for _, m := range models {
			m.tombs, m.gone = map[string]uint64{}, map[string]pubRec{}
		}
		var inFlight []sent
		for i := range rapid.IntRange(1, 60).Draw(rt, "steps") {
			side := rapid.IntRange(0, 1).Draw(rt, "side")
			x, m := sides[side], models[side]
			reg := fmt.Sprintf("r%d", rapid.IntRange(0, 3).Draw(rt, "reg"))
			switch rapid.IntRange(0, 4).Draw(rt, "op") {
			case 0:
				p := Pub{DataID: "svc", RegID: reg, Version: uint64(i), Data: fmt.Sprint(i)}
				x.put(&p)
				m.pubs[reg] = recOf(&p, &p.Session)
			case 1:
				x.remove(reg)
				if cur, ok := m.pubs[reg]; ok {
					if g, ok := m.gone[reg]; !ok || regOlder(g.Version, g.Conn, cur.Version, cur.Conn) {
						m.gone[reg] = cur
					}
					delete(m.pubs, reg)
				}
			case 2:
				x.tomb(reg, uint64(i))
				m.tombs[reg] = uint64(i)
			case 3:
				x.version = uint64(i)
				rd := copyReplica(x)
				inFlight = append(inFlight, sent{rd: rd, pubs: maps.Clone(rd.Pubs), tombs: maps.Clone(rd.Tombs), gone: maps.Clone(rd.Gone),
					modelPubs: maps.Clone(m.pubs), modelTombs: maps.Clone(m.tombs), modelGone: maps.Clone(m.gone)})
			case 4:
				if len(inFlight) == 0 {
					continue
				}
				s := inFlight[rapid.IntRange(0, len(inFlight)-1).Draw(rt, "replica")] // delivered, possibly again
				x.install(s.rd)
				m.pubs, m.tombs, m.gone = maps.Clone(s.modelPubs), maps.Clone(s.modelTombs), maps.Clone(s.modelGone)
			}
			for k := range sides {
				require.Equal(rt, models[k].pubs, sides[k].pubs, "side %d", k)
				require.True(rt, maps.Equal(models[k].tombs, sides[k].tombs), "side %d: tombs %v, want %v", k, sides[k].tombs, models[k].tombs)
				require.True(rt, maps.EqualFunc(models[k].gone, sides[k].gone, sameRec), "side %d: gone %v, want %v", k, sides[k].gone, models[k].gone)
			}
			for _, s := range inFlight {
				require.Equal(rt, s.pubs, s.rd.Pubs, "a replica changed after it was sent")
				require.True(rt, maps.Equal(s.tombs, s.rd.Tombs), "a replica's tombs changed after it was sent")
				require.True(rt, maps.EqualFunc(s.gone, s.rd.Gone, sameRec), "a replica's gone changed after it was sent")
				require.Equal(rt, s.modelPubs, s.rd.Pubs)
			}
		}
	})
}

// sameRec: two kept registrations are alike, their sessions compared by value.
func sameRec(a, b pubRec) bool {
	return a.Data == b.Data && a.Version == b.Version && a.Conn == b.Conn && a.Client == b.Client && *a.Session == *b.Session
}
