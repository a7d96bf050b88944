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
