package registry

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/sofasim/sofasim/sim"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// The real onMigrateResp (early-ending walk, answeredDigest) leaves a
// session holding exactly the accepted answer in the slot, and the cached
// digests and counts equal a fresh walk's.
func TestMigrateRespDigests(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		w := sim.NewWorld(sim.Config{Seed: 1})
		d := &DataServer{cfg: Config{Data: []sim.NodeID{"data-1"}, Slots: 2}}
		d.cfg.defaults()
		var sessions []Proc
		for i := range rapid.IntRange(1, 40).Draw(rt, "sessions") {
			sessions = append(sessions, Proc{ID: fmt.Sprint("session-", i%20), Inc: uint32(1 + i/20)})
		}
		var failure any
		w.AddNode("data-1", func() sim.Node {
			return &probeNode{start: func(env *sim.Env) {
				defer func() {
					if r := recover(); r != nil {
						failure = r
					}
				}()
				d.env = env
				d.clearState()
				d.m.cfg, d.m.proc = d.cfg, Proc{ID: "data-1", Inc: 1}
				d.m.table = Table{Epoch: 5, Slots: make([]Slot, 2), Sessions: sessions}
				mk := func(i int, s Proc) Pub {
					id := fmt.Sprint("svc", rapid.IntRange(0, 9).Draw(rt, "datum"))
					return Pub{DataID: id, RegID: fmt.Sprint("r", rapid.IntRange(0, 30).Draw(rt, "reg")), Data: fmt.Sprint(i), Version: uint64(i), Conn: 1 << 32, Session: s}
				}
				// a follower's copy: publishers of every session, some read digests
				for i := range rapid.IntRange(0, 300).Draw(rt, "held") {
					p := mk(i+1, rapid.SampledFrom(sessions).Draw(rt, "s"))
					d.get(p.DataID).put(&p)
					if rapid.IntRange(0, 20).Draw(rt, "read") == 0 {
						d.sessionDigest(rapid.IntRange(0, 1).Draw(rt, "slot"), rapid.SampledFrom(sessions).Draw(rt, "rs"))
					}
				}
				for slot := range 2 {
					d.m.table.Slots[slot] = Slot{Leader: d.m.proc}
					waiting := map[Proc]*migTask{}
					for _, s := range sessions {
						waiting[s] = d.newMigTask()
					}
					d.slots[slot] = &slotState{leader: true, status: Migrating, waiting: waiting}
				}
				for k, s := range rapid.Permutation(sessions).Draw(rt, "order") {
					var answer []Pub
					for j := range rapid.IntRange(0, 12).Draw(rt, "answered") {
						answer = append(answer, mk(1000+100*k+j, s))
					}
					slots := []int{0, 1}
					d.onMigrateResp(&MigrateResp{Epoch: 5, Session: s, Slots: slots, Pubs: answer})
					for slot := range 2 {
						for _, q := range sessions {
							fresh := d.sessionPubs(slot, q)
							require.Equal(rt, len(fresh), d.heldIn(slot, q), "slot %d session %v count", slot, q)
							require.Equal(rt, pubsDigest(fresh), d.sessionDigest(slot, q), "slot %d session %v digest", slot, q)
						}
						// the answering session holds in the slot only what it answered
						want := map[[2]string]bool{}
						for _, p := range answer {
							if d.m.slotOf(p.DataID) == slot {
								want[[2]string{p.DataID, p.RegID}] = true
							}
						}
						for _, p := range d.sessionPubs(slot, s) {
							require.True(rt, want[[2]string{p.DataID, p.RegID}], "slot %d: %v kept a publisher it did not answer: %v (%v)", slot, s, p, slices.Sorted(maps.Keys(d.inSlot[slot])))
						}
					}
				}
			}}
		})
		w.Run(sim.Limits{Until: time.Millisecond})
		if failure != nil {
			panic(failure)
		}
	})
}
