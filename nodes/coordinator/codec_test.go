package coordinator

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/sim"
)

func TestCodecRoundTrip(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		c := command{
			Op:       rapid.SampledFrom(opCodes).Draw(rt, "op"),
			XID:      XID(rapid.Uint64().Draw(rt, "xid")),
			Branch:   BranchID(rapid.Uint64().Draw(rt, "branch")),
			TM:       sim.NodeID(rapid.String().Draw(rt, "tm")),
			RM:       sim.NodeID(rapid.String().Draw(rt, "rm")),
			Resource: rapid.String().Draw(rt, "res"),
			Mode:     Mode(rapid.Uint8().Draw(rt, "mode")),
			Keys:     rapid.SliceOf(rapid.String()).Draw(rt, "keys"),
			Timeout:  rapid.Int64Min(0).Draw(rt, "timeout"),
			Now:      rapid.Int64().Draw(rt, "now"),
			From:     GlobalStatus(rapid.Uint8().Draw(rt, "from")),
			To:       GlobalStatus(rapid.Uint8().Draw(rt, "to")),
			BStatus:  BranchStatus(rapid.Uint8().Draw(rt, "bs")),
			Force:    rapid.Bool().Draw(rt, "force"),
		}
		if len(c.Keys) == 0 {
			c.Keys = nil
		}
		got, err := decodeCommand(encodeCommand(&c))
		require.NoError(rt, err)
		require.Equal(rt, c, got)
		r := result{Code: Code(rapid.Uint8().Draw(rt, "code")), XID: XID(rapid.Uint64().Draw(rt, "rx")), Branch: BranchID(rapid.Uint64().Draw(rt, "rb")),
			Status: GlobalStatus(rapid.Uint8().Draw(rt, "rs")), Holder: XID(rapid.Uint64().Draw(rt, "h"))}
		gr, err := decodeResult(encodeResult(r))
		require.NoError(rt, err)
		require.Equal(rt, r, gr)
		_, err = decodeCommand(encodeCommand(&c)[:1])
		require.Error(rt, err)
	})
}
