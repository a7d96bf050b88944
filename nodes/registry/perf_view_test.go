package registry

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestPatchedViewIsSorted: after any writes, removals, replicas installed
// and table changes, the view of a new version (patched from the last one
// when there is one) holds exactly the publishers, sorted by registerId.
func TestPatchedViewIsSorted(t *testing.T) {
	patched := 0
	rapid.Check(t, func(rt *rapid.T) {
		x := &datum{id: "svc", pubs: map[string]pubRec{}, tombs: map[string]uint64{}, gone: map[string]pubRec{}}
		d := &DataServer{datums: map[string]*datum{"svc": x}}
		for i := range rapid.IntRange(1, 80).Draw(rt, "steps") {
			reg := fmt.Sprintf("r%d", rapid.IntRange(0, 40).Draw(rt, "reg"))
			switch rapid.IntRange(0, 5).Draw(rt, "op") {
			case 0, 1:
				x.put(&Pub{RegID: reg, Data: fmt.Sprint(i), Version: uint64(i)})
			case 2:
				x.del(reg)
			case 3:
				x.remove(reg)
			case 4:
				rd := &replicaDatum{DataID: "svc", Version: x.version, Pubs: map[string]pubRec{}, Tombs: map[string]uint64{}, Gone: map[string]pubRec{}}
				for _, k := range slices.Sorted(maps.Keys(x.pubs))[:len(x.pubs)/2] {
					rd.Pubs[k] = x.pubs[k]
				}
				x.install(rd)
			case 5:
				d.forgetViews()
			}
			if !rapid.Bool().Draw(rt, "view") {
				continue
			}
			x.version++ // as changed() gives every change
			if x.built != nil {
				patched++
			}
			want := make([]PubData, 0, len(x.pubs))
			for _, reg := range slices.Sorted(maps.Keys(x.pubs)) {
				want = append(want, PubData{RegID: reg, Data: x.pubs[reg].Data, Version: x.pubs[reg].Version})
			}
			v := d.view("svc")
			require.Equal(rt, want, v.Pubs)
			require.Equal(rt, x.version, v.Version)
			require.Same(rt, v, d.view("svc"), "the view of an unchanged version is the memo")
		}
	})
	require.Positive(t, patched, "no view was patched")
}
