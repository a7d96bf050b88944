package raftkv

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/raft/v3/raftpb"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/sim"
)

// walModel is what a WAL should replay to.
type walModel struct {
	base, baseTerm uint64
	ents           []*raftpb.Entry
	hs             *raftpb.HardState
}

func entry(term, index uint64, data []byte) *raftpb.Entry {
	return &raftpb.Entry{Term: new(term), Index: new(index), Type: raftpb.EntryNormal.Enum(), Data: data}
}

// genWAL draws a WAL image: a header, then entry batches (sometimes
// overwriting a suffix, as after a leader change) and hard states. It
// returns the image, the record boundaries and the model after each record.
func genWAL(t *rapid.T) ([]byte, []int, []walModel) {
	m := walModel{base: rapid.Uint64Range(0, 1000).Draw(t, "base"), baseTerm: rapid.Uint64Range(0, 5).Draw(t, "baseTerm")}
	buf := appendHeaderRecord(nil, m.base, m.baseTerm)
	bounds := []int{0, len(buf)}
	models := []walModel{{}, m}
	term := m.baseTerm
	n := rapid.IntRange(0, 30).Draw(t, "records")
	for i := 0; i < n; i++ {
		if rapid.Bool().Draw(t, "hs") {
			hs := &raftpb.HardState{Term: new(term), Vote: new(rapid.Uint64Range(0, 5).Draw(t, "vote")), Commit: new(m.base + uint64(len(m.ents)))}
			buf = appendHardStateRecord(buf, hs)
			m.hs = hs
		} else {
			last := m.base + uint64(len(m.ents))
			at := rapid.Uint64Range(m.base+1, last+1).Draw(t, "at")
			term += rapid.Uint64Range(0, 1).Draw(t, "term+")
			m.ents = append([]*raftpb.Entry(nil), m.ents[:at-m.base-1]...)
			e := entry(term, at, rapid.SliceOfN(rapid.Byte(), 0, 20).Draw(t, "data"))
			buf = appendEntryRecord(buf, e)
			m.ents = append(m.ents, e)
		}
		bounds = append(bounds, len(buf))
		models = append(models, m)
	}
	return buf, bounds, models
}

func requireReplay(t require.TestingT, want walModel, got walState) {
	require.Equal(t, want.base, got.baseIndex)
	require.Equal(t, want.baseTerm, got.baseTerm)
	require.Equal(t, len(want.ents), len(got.entries))
	for i, e := range want.ents {
		g := got.entries[i]
		require.Equal(t, e.GetIndex(), g.GetIndex())
		require.Equal(t, e.GetTerm(), g.GetTerm())
		require.Equal(t, string(e.GetData()), string(g.GetData()))
	}
	require.Equal(t, want.hs.GetTerm(), got.hs.GetTerm())
	require.Equal(t, want.hs.GetVote(), got.hs.GetVote())
	require.Equal(t, want.hs.GetCommit(), got.hs.GetCommit())
}

// A WAL cut anywhere (a torn write keeps a prefix) replays to the state of
// the last complete record, without error.
func TestWALTornTail(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		buf, bounds, models := genWAL(t)
		cut := rapid.IntRange(0, len(buf)).Draw(t, "cut")
		w, good, err := readWAL(buf[:cut], true)
		require.NoError(t, err)
		terms, tgood, err := readWAL(buf[:cut], false)
		require.NoError(t, err)
		require.Equal(t, good, tgood)
		require.Nil(t, terms.entries, "entries built without keep")
		require.Equal(t, w.hs, terms.hs)
		require.Equal(t, w.baseIndex, terms.baseIndex)
		require.Len(t, terms.terms, len(w.entries))
		for i, e := range w.entries {
			require.Equal(t, e.GetTerm(), terms.terms[i])
		}
		k := 0
		for i, b := range bounds {
			if b <= cut {
				k = i
			}
		}
		require.Equal(t, bounds[k], good)
		if k == 0 {
			require.False(t, w.hasHeader)
			return
		}
		requireReplay(t, models[k], w)
	})
}

// Any flipped bit in a complete WAL is reported as corruption, never
// silently accepted or mistaken for a torn tail.
func TestWALBitFlipDetected(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		buf, _, _ := genWAL(t)
		i := rapid.IntRange(0, len(buf)-1).Draw(t, "byte")
		buf[i] ^= 1 << rapid.IntRange(0, 7).Draw(t, "bit")
		_, _, err := readWAL(buf, rapid.Bool().Draw(t, "keep"))
		require.ErrorIs(t, err, errCorruptWAL)
	})
}

func TestSnapshotFile(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		snap := &raftpb.Snapshot{
			Data: rapid.SliceOfN(rapid.Byte(), 0, 100).Draw(t, "data"),
			Metadata: &raftpb.SnapshotMetadata{
				ConfState: raftpb.EnsureConfState(&raftpb.ConfState{Voters: rapid.SliceOfN(rapid.Uint64Range(1, 9), 1, 5).Draw(t, "voters")}),
				Index:     new(rapid.Uint64().Draw(t, "index")),
				Term:      new(rapid.Uint64().Draw(t, "term")),
			},
		}
		b, err := encodeSnapshotFile(snap)
		require.NoError(t, err)
		got, err := decodeSnapshotFile(b)
		require.NoError(t, err)
		require.Equal(t, snap.GetMetadata().GetIndex(), got.GetMetadata().GetIndex())
		require.Equal(t, snap.GetMetadata().GetTerm(), got.GetMetadata().GetTerm())
		require.Equal(t, snap.GetMetadata().GetConfState().GetVoters(), got.GetMetadata().GetConfState().GetVoters())
		require.Equal(t, string(snap.GetData()), string(got.GetData()))
		i := rapid.IntRange(0, len(b)-1).Draw(t, "flip")
		b[i] ^= 1 << rapid.IntRange(0, 7).Draw(t, "bit")
		_, err = decodeSnapshotFile(b)
		require.Error(t, err)
	})
}

// diskNode gives tests a disk inside a world.
type diskNode struct {
	sim.BaseNode
	fn func(env *sim.Env)
}

func (n *diskNode) Start(env *sim.Env) { n.fn(env) }

func withDisk(t *testing.T, fn func(d *sim.Disk)) {
	ran := false
	w := sim.NewWorld(sim.Config{Seed: 1})
	w.AddNode("n", func() sim.Node { return &diskNode{fn: func(env *sim.Env) { ran = true; fn(env.Disk()) }} })
	w.Run(sim.Limits{MaxEvents: 1})
	require.True(t, ran)
	require.Empty(t, w.Findings())
}

func writeSnap(t *testing.T, d *sim.Disk, index, term uint64) {
	b, err := encodeSnapshotFile(&raftpb.Snapshot{Data: encodeSnapPayload(sessionTable{}, NewKV().Snapshot()),
		Metadata: &raftpb.SnapshotMetadata{ConfState: raftpb.EnsureConfState(&raftpb.ConfState{Voters: []uint64{1}}), Index: new(index), Term: new(term)}})
	require.NoError(t, err)
	require.NoError(t, writeFileAtomic(d, snapTmpFile, snapFile, b))
}

func writeWAL(t *testing.T, d *sim.Disk, base, baseTerm uint64, hs *raftpb.HardState, ents ...*raftpb.Entry) {
	buf := appendHeaderRecord(nil, base, baseTerm)
	if hs != nil {
		buf = appendHardStateRecord(buf, hs)
	}
	for _, e := range ents {
		buf = appendEntryRecord(buf, e)
	}
	require.NoError(t, writeFileAtomic(d, walTmpFile, walFile, buf))
}

// recoverBoth recovers d, after recovering the image of a copy of it
// (recoverImage: entries counted, nothing touched), and requires the two
// to agree.
func recoverBoth(t *testing.T, d *sim.Disk) (recovered, error) {
	c := d.Durable() // then made equal to d, unsynced writes included
	for _, name := range c.List("") {
		require.NoError(t, c.Remove(name))
	}
	for _, name := range d.List("") {
		b, err := d.ReadFile(name)
		require.NoError(t, err)
		require.NoError(t, c.WriteAt(name, 0, b))
		require.NoError(t, c.Sync(name))
	}
	before := c.Stats()
	counted, cerr := recoverImage(c)
	require.Equal(t, before, c.Stats(), "the image's recovery touched the disk")
	rec, err := recoverDisk(d)
	require.Equal(t, err, cerr)
	require.Nil(t, counted.entries)
	require.Equal(t, len(rec.entries), rec.count)
	require.Equal(t, rec.count, counted.count)
	require.Equal(t, rec.hs, counted.hs)
	require.Equal(t, rec.truncated, counted.truncated)
	require.Equal(t, [2]bool{rec.empty, rec.walOK}, [2]bool{counted.empty, counted.walOK})
	return rec, err
}

func hardState(term, vote, commit uint64) *raftpb.HardState {
	return &raftpb.HardState{Term: new(term), Vote: new(vote), Commit: new(commit)}
}

func TestRecoverReconcile(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		withDisk(t, func(d *sim.Disk) {
			rec, err := recoverBoth(t, d)
			require.NoError(t, err)
			require.True(t, rec.empty)
		})
	})
	t.Run("snapshot inside the log keeps the suffix and the margin", func(t *testing.T) {
		withDisk(t, func(d *sim.Disk) {
			writeSnap(t, d, 12, 2)
			writeWAL(t, d, 10, 2, hardState(3, 1, 14), entry(2, 11, nil), entry(2, 12, nil), entry(3, 13, nil), entry(3, 14, nil))
			rec, err := recoverBoth(t, d)
			require.NoError(t, err)
			require.Len(t, rec.margin, 2)
			require.Len(t, rec.entries, 2)
			require.Equal(t, uint64(13), rec.entries[0].GetIndex())
			require.Equal(t, uint64(14), rec.hs.GetCommit())
		})
	})
	t.Run("snapshot conflicting with the log discards it", func(t *testing.T) {
		withDisk(t, func(d *sim.Disk) {
			writeSnap(t, d, 12, 4)
			writeWAL(t, d, 10, 2, hardState(3, 1, 11), entry(2, 11, nil), entry(3, 12, nil), entry(3, 13, nil))
			rec, err := recoverBoth(t, d)
			require.NoError(t, err)
			require.Empty(t, rec.entries)
			require.Equal(t, uint64(12), rec.hs.GetCommit(), "commit raised to the snapshot")
			require.Equal(t, uint64(4), rec.hs.GetTerm(), "term raised to the snapshot's")
		})
	})
	t.Run("snapshot beyond the log", func(t *testing.T) {
		withDisk(t, func(d *sim.Disk) {
			writeSnap(t, d, 50, 3)
			writeWAL(t, d, 10, 2, hardState(3, 1, 11), entry(2, 11, nil))
			rec, err := recoverBoth(t, d)
			require.NoError(t, err)
			require.Empty(t, rec.entries)
			require.Equal(t, uint64(50), rec.hs.GetCommit())
		})
	})
	t.Run("torn tail is truncated durably", func(t *testing.T) {
		withDisk(t, func(d *sim.Disk) {
			writeSnap(t, d, 10, 2)
			writeWAL(t, d, 10, 2, hardState(2, 1, 10), entry(2, 11, []byte("x")))
			size, _ := d.Size(walFile)
			buf := appendEntryRecord(nil, entry(2, 12, []byte("yyyy")))
			_, err := d.Append(walFile, buf[:len(buf)-2])
			require.NoError(t, err)
			rec, err := recoverBoth(t, d)
			require.NoError(t, err)
			require.Len(t, rec.entries, 1)
			require.Equal(t, len(buf)-2, rec.truncated)
			now, _ := d.Size(walFile)
			require.Equal(t, size, now)
		})
	})
	t.Run("corruption refuses", func(t *testing.T) {
		withDisk(t, func(d *sim.Disk) {
			writeSnap(t, d, 10, 2)
			writeWAL(t, d, 10, 2, hardState(2, 1, 10), entry(2, 11, []byte("x")), entry(2, 12, []byte("y")))
			b, _ := d.ReadFile(walFile)
			b[40] ^= 4
			require.NoError(t, d.WriteAt(walFile, 0, b))
			_, err := recoverBoth(t, d)
			require.True(t, errors.Is(err, errCorruptWAL), "%v", err)
		})
	})
	t.Run("WAL ahead of the snapshot refuses", func(t *testing.T) {
		withDisk(t, func(d *sim.Disk) {
			writeSnap(t, d, 5, 1)
			writeWAL(t, d, 10, 2, hardState(2, 1, 10))
			_, err := recoverBoth(t, d)
			require.Error(t, err)
		})
	})
}

// A torn failed sync leaves a torn WAL tail; the server exits, and the restart
// truncates the tail: after every restart the disk recovers to exactly
// what the server started with, and at the end to what each server holds.
// Damage recovery would not repair is caught by the same two checks.
func TestTornTailRecoveryAgreesWithDisk(t *testing.T) {
	var agree []error
	c := twice(t, 3, func(seed uint64) *cluster {
		agree = nil
		c := newCluster(seed, clusterOpts{members: 3, clients: 3})
		for i := range 12 {
			at := time.Duration(500+300*i) * time.Millisecond
			var id sim.NodeID
			c.at(at, func() {
				if id = c.leader(); id != "" { // it syncs at its next write
					c.inject(t, sim.DiskFail{Nodes: []sim.NodeID{id}, Torn: true})
				}
			})
			c.at(at+200*time.Millisecond, func() {
				if id == "" {
					return
				}
				c.inject(t, sim.Restart{Nodes: []sim.NodeID{id}})
				agree = append(agree, c.server(id).DiskAgrees(true))
			})
		}
		c.stopAt = 5 * time.Second
		c.run(6 * time.Second)
		return c
	})
	require.GreaterOrEqual(t, len(agree), 8)
	for i, err := range agree {
		require.NoError(t, err, "restart %d", i)
	}
	require.Positive(t, c.w.Reached()["raftkv/restart-with-torn-wal"], "no restart found a torn WAL tail")
	for _, id := range c.servers {
		require.NoError(t, Recoverable(c.w.Disk(id)), id)
		require.NoError(t, c.server(id).DiskAgrees(false), id)
	}
	checkRun(t, c, 100)

	// a WAL cut short loses what the server holds; garbage after it is
	// corruption
	d := c.w.Disk(c.servers[0])
	size, _ := d.Size(walFile)
	require.NoError(t, d.Truncate(walFile, size/2))
	require.NoError(t, d.Sync(walFile))
	require.ErrorContains(t, c.server(c.servers[0]).DiskAgrees(false), "the disk recovers to")
	_, err := d.Append(walFile, []byte("not a WAL record at all"))
	require.NoError(t, err)
	require.NoError(t, d.Sync(walFile))
	require.ErrorIs(t, Recoverable(d), errCorruptWAL)
}
