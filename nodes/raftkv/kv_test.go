package raftkv

import (
	"hash/fnv"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func genOp(t *rapid.T) Op {
	key := rapid.SampledFrom([]string{"", "a", "b", "k\x00"}).Draw(t, "key")
	val := rapid.SampledFrom([]string{"", "1", "2", "xyz"}).Draw(t, "val")
	return Op{
		Kind:         OpKind(rapid.IntRange(int(OpGet), int(OpAppend)).Draw(t, "kind")),
		Key:          key,
		Value:        val,
		Expected:     rapid.SampledFrom([]string{"", "1", "2"}).Draw(t, "exp"),
		ExpectAbsent: rapid.Bool().Draw(t, "absent"),
	}
}

// The KV state machine against a plain map model; snapshots round-trip.
func TestKVModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		kv := NewKV()
		model := map[string]string{}
		for i, n := 0, rapid.IntRange(0, 50).Draw(t, "n"); i < n; i++ {
			op := genOp(t)
			dec, err := DecodeOp(EncodeOp(op))
			require.NoError(t, err)
			require.Equal(t, op, dec)
			var r Result
			if op.IsRead() {
				r = DecodeResult(kv.Query(EncodeOp(op)))
			} else {
				r = DecodeResult(kv.Apply(uint64(i+1), EncodeOp(op)))
			}
			require.NoError(t, r.Err)
			cur, found := model[op.Key]
			switch op.Kind {
			case OpGet:
				require.Equal(t, Result{OK: true, Found: found, Value: cur}, r)
			case OpPut:
				model[op.Key] = op.Value
				require.True(t, r.OK)
			case OpDelete:
				delete(model, op.Key)
				require.Equal(t, found, r.Found)
			case OpCAS:
				swap := (op.ExpectAbsent && !found) || (!op.ExpectAbsent && found && cur == op.Expected)
				require.Equal(t, swap, r.OK)
				require.Equal(t, found, r.Found)
				require.Equal(t, cur, r.Value)
				if swap {
					model[op.Key] = op.Value
				}
			case OpAppend:
				model[op.Key] = cur + op.Value
				require.Equal(t, model[op.Key], r.Value)
			}
		}
		require.Equal(t, len(model), kv.Len())
		snap := kv.Snapshot()
		kv2 := NewKV()
		require.NoError(t, kv2.Restore(snap))
		require.Equal(t, snap, kv2.Snapshot())
		for k, v := range model { //detlint:allow assertions only
			got, ok := kv2.Get(k)
			require.True(t, ok)
			require.Equal(t, v, got)
		}
	})
}

func TestSnapPayloadRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sessions := sessionTable{}
		for i, n := 0, rapid.IntRange(0, 10).Draw(t, "n"); i < n; i++ {
			sessions[rapid.Uint64().Draw(t, "id")] = &session{seq: rapid.Uint64().Draw(t, "seq"), resp: rapid.SliceOfN(rapid.Byte(), 0, 8).Draw(t, "resp")}
		}
		sm := rapid.SliceOfN(rapid.Byte(), 0, 30).Draw(t, "sm")
		b := encodeSnapPayload(sessions, sm)
		got, gotSM, err := decodeSnapPayload(b)
		require.NoError(t, err)
		require.Equal(t, string(sm), string(gotSM))
		require.Equal(t, len(sessions), len(got))
		for id, s := range sessions { //detlint:allow assertions only
			require.Equal(t, s.seq, got[id].seq)
			require.Equal(t, string(s.resp), string(got[id].resp))
		}
		require.Equal(t, b, encodeSnapPayload(got, gotSM), "encoding is canonical")
	})
}

// TestStateDigestIsFNVOfThePayload: the digest replicas compare is FNV-1a
// of the snapshot payload, whatever the scratch buffer held before.
func TestStateDigestIsFNVOfThePayload(t *testing.T) {
	srv := &Server{}
	rapid.Check(t, func(t *rapid.T) {
		srv.sessions = sessionTable{}
		for i, n := 0, rapid.IntRange(0, 10).Draw(t, "n"); i < n; i++ {
			srv.sessions[rapid.Uint64().Draw(t, "id")] = &session{seq: rapid.Uint64().Draw(t, "seq"), resp: rapid.SliceOfN(rapid.Byte(), 0, 8).Draw(t, "resp")}
		}
		sm := fixedSnapshot(rapid.SliceOfN(rapid.Byte(), 0, 30).Draw(t, "sm"))
		srv.sm = sm
		h := fnv.New64a()
		_, _ = h.Write(encodeSnapPayload(srv.sessions, sm))
		require.Equal(t, h.Sum64(), srv.StateDigest())
	})
}

// fixedSnapshot is a state machine that only has a snapshot.
type fixedSnapshot []byte

func (f fixedSnapshot) Apply(uint64, []byte) []byte { return nil }
func (f fixedSnapshot) Query([]byte) []byte         { return nil }
func (f fixedSnapshot) Snapshot() []byte            { return f }
func (f fixedSnapshot) Restore([]byte) error        { return nil }

func TestCmdEncoding(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s, q := rapid.Uint64().Draw(t, "s"), rapid.Uint64().Draw(t, "q")
		cmd := rapid.SliceOfN(rapid.Byte(), 0, 20).Draw(t, "cmd")
		d, err := decodeCmd(encodeClientCmd(s, q, cmd))
		require.NoError(t, err)
		require.Equal(t, decodedCmd{kind: cmdClient, session: s, seq: q, cmd: cmd}, d)
		o, id := rapid.Uint64().Draw(t, "o"), rapid.Uint64().Draw(t, "id")
		d, err = decodeCmd(encodeLocalCmd(o, 7, id, cmd))
		require.NoError(t, err)
		require.Equal(t, decodedCmd{kind: cmdLocal, origin: o, inc: 7, id: id, cmd: cmd}, d)
	})
}
