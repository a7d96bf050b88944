package registry

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// manySessions: more than maxDirty, so that writes between two reads of a
// slot's digests overflow its dirty list (never reached with syncSessions'
// three, nor in the registry scenarios even at sessions=60).
var manySessions = func() (out []Proc) {
	for i := range 40 {
		out = append(out, Proc{ID: fmt.Sprint("s", i%20), Inc: uint32(i / 20)})
	}
	return out
}()

// TestSyncDigestOverflow: after bursts of writes by more sessions than
// maxDirty between reads, counts, digests and the sync shortcut still equal
// a fresh walk's.
func TestSyncDigestOverflow(t *testing.T) {

	rapid.Check(t, func(rt *rapid.T) {
		d := newSyncServer()
		for round := range rapid.IntRange(1, 6).Draw(rt, "rounds") {
			for slot := range d.cfg.Slots {
				d.sessionDigest(slot, manySessions[0])
			}
			for i := range rapid.IntRange(100, 400).Draw(rt, "writes") {
				id := fmt.Sprintf("svc%d", rapid.IntRange(0, 7).Draw(rt, "datum"))
				reg := fmt.Sprintf("r%d", rapid.IntRange(0, 50).Draw(rt, "reg"))
				sess := manySessions[rapid.IntRange(0, len(manySessions)-1).Draw(rt, "s")]
				switch rapid.IntRange(0, 3).Draw(rt, "op") {
				case 0:
					d.get(id).remove(reg)
				case 1:
					d.get(id).del(reg)
				default:
					d.get(id).put(&Pub{RegID: reg, DataID: id, Data: fmt.Sprint(round, i), Version: uint64(round*1000 + i), Session: sess})
				}
			}
			for slot := range d.cfg.Slots {
				for _, s := range manySessions {
					if rapid.Bool().Draw(rt, "snap") {
						require.True(rt, d.syncChangesNothing(&DataWrite{Kind: "sync", Slot: slot, Session: s, Pubs: d.sessionPubs(slot, s)}))
					}
					require.Equal(rt, len(d.sessionPubs(slot, s)), d.heldIn(slot, s))
					require.Equal(rt, pubsDigest(d.sessionPubs(slot, s)), d.sessionDigest(slot, s))
				}
			}
		}
	})

}
