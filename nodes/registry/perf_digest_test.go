package registry

import (
	"fmt"
	"hash/fnv"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// The fast digests hash exactly the bytes the fmt-based ones did: a
// session and a data server of different builds agree, and fingerprints
// do not move.
func TestDigestsMatchFmt(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		pubs := rapid.SliceOf(rapid.Custom(func(t *rapid.T) Pub {
			return Pub{RegID: rapid.String().Draw(t, "reg"), DataID: rapid.String().Draw(t, "data"), Data: rapid.String().Draw(t, "d"),
				Version: rapid.Uint64().Draw(t, "v"), Conn: rapid.Uint64().Draw(t, "conn")}
		})).Draw(rt, "pubs")
		h, hd := fnv.New64a(), fnv.New64a()
		d := &Datum{}
		for _, p := range pubs {
			fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\x00%d\x00", p.RegID, p.DataID, p.Data, p.Version, p.Conn)
			fmt.Fprintf(hd, "%s\x00%s\x00%d\x00", p.RegID, p.Data, p.Version)
			d.Pubs = append(d.Pubs, PubData{RegID: p.RegID, Data: p.Data, Version: p.Version})
		}
		require.Equal(rt, h.Sum64(), pubsDigest(pubs))
		require.Equal(rt, hd.Sum64(), d.Digest())
	})
}

// A datum a data server serves carries the digest of its publishers, so
// sessions need not hash it again: after any sequence of writes, the view
// of each version carries what hashing its content gives.
func TestViewCarriesItsDigest(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		x := &datum{id: "svc", pubs: map[string]pubRec{}}
		d := &DataServer{datums: map[string]*datum{"svc": x}}
		for i := range rapid.IntRange(1, 20).Draw(rt, "writes") {
			reg := fmt.Sprintf("r%d", rapid.IntRange(0, 4).Draw(rt, "reg"))
			if rapid.Bool().Draw(rt, "unpub") {
				x.del(reg)
			} else {
				x.put(&Pub{RegID: reg, Data: rapid.StringN(0, 3, 3).Draw(rt, "data"), Version: uint64(i)})
			}
			x.version++
			v := d.view("svc")
			require.True(rt, v.digested)
			require.Equal(rt, datumDigest(v), v.Digest())
			require.Equal(rt, datumDigest(v), d.viewDigest("svc"))
		}
	})
}
