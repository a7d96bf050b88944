package sim_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/sofasim/sofasim/sim"
)

// diskOp is one step of a disk script.
type diskOp struct {
	Kind string // write, append, truncate, sync, remove, rename
	File string
	To   string // rename
	Off  int64
	Size int64
	Data []byte
}

func (o diskOp) String() string {
	return fmt.Sprintf("%s %s off=%d size=%d %q->%s", o.Kind, o.File, o.Off, o.Size, o.Data, o.To)
}

func genDiskOps(t *rapid.T) []diskOp {
	files := []string{"a", "b", "dir/c"}
	op := rapid.Custom(func(t *rapid.T) diskOp {
		o := diskOp{
			Kind: rapid.SampledFrom([]string{"write", "write", "append", "append", "truncate", "sync", "sync", "remove", "rename"}).Draw(t, "kind"),
			File: rapid.SampledFrom(files).Draw(t, "file"),
		}
		switch o.Kind {
		case "write":
			o.Off = rapid.Int64Range(0, 24).Draw(t, "off")
			fallthrough
		case "append":
			n := rapid.IntRange(0, 8).Draw(t, "len")
			o.Data = make([]byte, n)
			for i := range o.Data {
				o.Data[i] = byte('A' + rapid.IntRange(0, 25).Draw(t, "byte"))
			}
		case "truncate":
			o.Size = rapid.Int64Range(0, 32).Draw(t, "size")
		case "rename":
			o.To = rapid.SampledFrom(files).Draw(t, "to")
		}
		return o
	})
	return rapid.SliceOfN(op, 0, 20).Draw(t, "ops")
}

// modelWrite is a pending write or truncate in the model.
type modelWrite struct {
	truncate bool
	off      int64
	data     []byte
	size     int64
}

func (m modelWrite) apply(b []byte) []byte {
	b = slices.Clone(b)
	if m.truncate {
		if m.size <= int64(len(b)) {
			return b[:m.size]
		}
		return append(b, make([]byte, m.size-int64(len(b)))...)
	}
	if end := m.off + int64(len(m.data)); end > int64(len(b)) {
		b = append(b, make([]byte, end-int64(len(b)))...)
	}
	copy(b[m.off:], m.data)
	return b
}

// modelFile is the model of one file: what is durable and what is not yet.
type modelFile struct {
	durable []byte
	pending []modelWrite
}

func (f *modelFile) current() []byte {
	b := f.durable
	for _, w := range f.pending {
		b = w.apply(b)
	}
	return b
}

// afterTornCrash lists every content a torn crash may leave: the durable
// content plus a prefix of the pending writes, the last one possibly cut.
func (f *modelFile) afterTornCrash() [][]byte {
	var out [][]byte
	b := f.durable
	for k := 0; ; k++ {
		out = append(out, nonNil(b))
		if k == len(f.pending) {
			return out
		}
		w := f.pending[k]
		if !w.truncate {
			for j := 0; j < len(w.data); j++ {
				cut := w
				cut.data = w.data[:j]
				out = append(out, nonNil(cut.apply(b)))
			}
		}
		b = w.apply(b)
	}
}

// runDiskOps applies ops to the disk and to the model, checking that the
// process sees its own writes.
func runDiskOps(t require.TestingT, d *sim.Disk, model map[string]*modelFile, ops []diskOp) {
	for _, o := range ops {
		f := model[o.File]
		switch o.Kind {
		case "write", "append":
			if o.Kind == "append" {
				if f != nil {
					o.Off = int64(len(f.current()))
				}
				off, err := d.Append(o.File, o.Data)
				require.NoError(t, err)
				require.Equal(t, o.Off, off)
			} else {
				require.NoError(t, d.WriteAt(o.File, o.Off, o.Data))
			}
			if f == nil {
				f = &modelFile{}
				model[o.File] = f
			}
			f.pending = append(f.pending, modelWrite{off: o.Off, data: slices.Clone(o.Data)})
		case "truncate":
			require.NoError(t, d.Truncate(o.File, o.Size))
			if f == nil {
				f = &modelFile{}
				model[o.File] = f
			}
			f.pending = append(f.pending, modelWrite{truncate: true, size: o.Size})
		case "sync":
			err := d.Sync(o.File)
			if f == nil {
				require.ErrorIs(t, err, sim.ErrNotExist)
				continue
			}
			require.NoError(t, err)
			f.durable, f.pending = f.current(), nil
		case "remove":
			err := d.Remove(o.File)
			if f == nil {
				require.ErrorIs(t, err, sim.ErrNotExist)
				continue
			}
			require.NoError(t, err)
			delete(model, o.File)
		case "rename":
			err := d.Rename(o.File, o.To)
			if f == nil {
				require.ErrorIs(t, err, sim.ErrNotExist)
				continue
			}
			require.NoError(t, err)
			delete(model, o.File)
			model[o.To] = f
		}
		if f := model[o.File]; f != nil {
			got, err := d.ReadFile(o.File)
			require.NoError(t, err)
			require.Equal(t, nonNil(f.current()), nonNil(got), "after %s", o)
		}
	}
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func modelNames(model map[string]*modelFile) []string {
	names := make([]string, 0, len(model))
	for name := range model {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// A crash loses exactly the writes not synced; with Torn, what survives is
// the durable content plus a prefix of the unsynced writes (the last one
// possibly cut short). Synced data always survives. Files created, removed
// and renamed stay so.
func TestCrashLosesExactlyUnsyncedWrites(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		ops := genDiskOps(rt)
		torn := rapid.Bool().Draw(rt, "torn")
		tornByConfig := torn && rapid.Bool().Draw(rt, "by config")
		model := map[string]*modelFile{}
		w := sim.NewWorld(sim.Config{Seed: rapid.Uint64().Draw(rt, "seed"), TornWrites: tornByConfig})
		var after map[string][]byte
		var listed []string
		w.AddNode("n", func() sim.Node {
			return &probe{tp: &tape{w: w}, h: &hooks{start: func(p *probe) {
				d := p.env.Disk()
				if p.env.Incarnation() == 1 {
					runDiskOps(rt, d, model, ops)
					return
				}
				listed = d.List("")
				after = map[string][]byte{}
				for _, name := range listed {
					b, err := d.ReadFile(name)
					require.NoError(rt, err)
					after[name] = nonNil(b)
				}
			}}}
		})
		require.NoError(rt, w.Schedule([]sim.Fault{{At: at(ms(1)), Op: sim.Restart{Nodes: ids("n"), Torn: torn && !tornByConfig}}}))
		w.Run(sim.Limits{})

		names := modelNames(model)
		require.Equal(rt, names, nonNilNames(listed), "files after the crash")
		for _, name := range names {
			f := model[name]
			if !torn {
				require.Equal(rt, nonNil(f.durable), after[name], "%s: crash must leave exactly the synced content", name)
				continue
			}
			require.Contains(rt, f.afterTornCrash(), after[name], "%s: not the durable content plus a prefix of the unsynced writes", name)
		}
	})
}

func nonNilNames(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// diskNode runs fn at each start, with the incarnation's env.
func diskNode(w *sim.World, id sim.NodeID, fn func(env *sim.Env)) {
	w.AddNode(id, func() sim.Node {
		return &probe{tp: &tape{w: w}, h: &hooks{start: func(p *probe) { fn(p.env) }}}
	})
}

// A restart builds a fresh node object whose Start runs again, with the
// incarnation counted up, on the same disk; the old incarnation's
// environment is dead.
func TestRestartIsAFreshProcessOnTheSameDisk(t *testing.T) {
	w := sim.NewWorld(sim.Config{Seed: 1})
	var objects []*probe
	var envs []*sim.Env
	var seen [][]byte
	tp := &tape{w: w}
	w.AddNode("n", func() sim.Node {
		p := &probe{tp: tp, h: &hooks{start: func(p *probe) {
			envs = append(envs, p.env)
			b, _ := p.env.Disk().ReadFile("boot")
			seen = append(seen, b)
			_, err := p.env.Disk().Append("boot", []byte{byte('0' + p.env.Incarnation())})
			require.NoError(t, err)
			require.NoError(t, p.env.Disk().Sync("boot"))
			p.env.SetTimer(time.Hour, nil)
		}}}
		objects = append(objects, p)
		return p
	})
	require.NoError(t, w.Schedule([]sim.Fault{
		{At: at(ms(10)), Op: sim.Restart{Nodes: ids("n")}},
		{At: at(ms(20)), Op: sim.Crash{Nodes: ids("n")}},
		{At: at(ms(25)), Op: sim.Crash{Nodes: ids("n")}}, // already down: nothing
		{At: at(ms(30)), Op: sim.Restart{Nodes: ids("n")}},
	}))
	w.Run(sim.Limits{Until: ms(15)})
	require.Len(t, objects, 2)
	assert.NotSame(t, objects[0], objects[1])
	assert.Same(t, objects[1], w.Node("n"))

	w.Run(sim.Limits{Until: ms(22)})
	assert.False(t, w.Up("n"))
	assert.Nil(t, w.Node("n"))

	w.Run(sim.Limits{Until: ms(40)})
	require.Len(t, objects, 3)
	assert.True(t, w.Up("n"))
	assert.Equal(t, []uint32{1, 2, 3}, []uint32{envs[0].Incarnation(), envs[1].Incarnation(), envs[2].Incarnation()})
	assert.Equal(t, [][]byte{nil, []byte("1"), []byte("12")}, seen, "each incarnation finds what the previous ones synced")
	assert.Equal(t, uint64(3), w.Stats("n").Starts)
	assert.Equal(t, uint64(2), w.Stats("n").Crashes)

	// A dead incarnation's environment does nothing.
	old := envs[0]
	assert.Zero(t, old.SetTimer(time.Second, nil))
	assert.Zero(t, old.Dial("n"))
	assert.False(t, old.Send(1, "x"))
	old.SendDatagram("n", "x")
	old.Trace("zombie")
	old.Exit("zombie")
	w.Run(sim.Limits{Until: ms(50)})
	assert.True(t, w.Up("n"))
	assert.Empty(t, tp.filter(entry{Kind: "datagram"}))
	assert.Equal(t, uint64(0), w.Stats("n").DatagramsSent)
}

// A failed sync returns ErrSyncFailed; the writes it was to make durable
// are gone at the next crash, even when a later sync succeeds (torn: all
// but a prefix, the last possibly cut short).
func TestDiskFailSync(t *testing.T) {
	for _, torn := range []bool{false, true} {
		t.Run(fmt.Sprintf("torn=%v", torn), func(t *testing.T) { testDiskFailSync(t, torn) })
	}
}

func testDiskFailSync(t *testing.T, torn bool) {
	w := sim.NewWorld(sim.Config{Seed: 1})
	var errs []error
	var before, after []byte
	diskNode(w, "n", func(env *sim.Env) {
		d := env.Disk()
		switch env.Incarnation() {
		case 1:
			return
		case 3:
			after, _ = d.ReadFile("f")
			return
		}
		require.NoError(t, d.WriteAt("f", 0, []byte("AAAA")))
		errs = append(errs, d.Sync("f"))
		require.NoError(t, d.WriteAt("g", 0, []byte("G")))
		errs = append(errs, d.Sync("g"))
		_, err := d.Append("f", []byte("BBBB"))
		require.NoError(t, err)
		errs = append(errs, d.Sync("f"))
		errs = append(errs, d.Sync("f")) // the fault is used up
		before, _ = d.ReadFile("f")
	})
	require.NoError(t, w.Schedule([]sim.Fault{
		{At: 0, Op: sim.DiskFail{Nodes: ids("n"), Count: 2, Torn: torn}},
		{At: 0, Op: sim.Restart{Nodes: ids("n")}}, // start again, now with the fault armed
		{At: at(ms(10)), Op: sim.Restart{Nodes: ids("n")}},
	}))
	w.Run(sim.Limits{})
	require.Len(t, errs, 4)
	assert.ErrorIs(t, errs[0], sim.ErrSyncFailed)
	assert.ErrorIs(t, errs[1], sim.ErrSyncFailed, "the fault fails any file's sync")
	assert.NoError(t, errs[2])
	assert.NoError(t, errs[3])
	assert.Equal(t, []byte("AAAABBBB"), before, "the process still sees what it wrote")
	require.Len(t, after, 8)
	if !torn {
		assert.NotContains(t, string(after), "A", "a write whose sync failed survived a crash")
	}
	assert.Contains(t, (&modelFile{pending: []modelWrite{{data: []byte("AAAA")}}}).afterTornCrash(), padTo(after[:4], 0),
		"not a prefix of the write whose sync failed")
	assert.Equal(t, []byte("BBBB"), after[4:], "the later synced write survives")
}

// padTo drops b's trailing zero bytes beyond n: a torn write's prefix, in a
// file a later write extended with zeros.
func padTo(b []byte, n int) []byte {
	for len(b) > n && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

// A torn failed sync's writeback gets partway: after a crash the file holds
// its durable content plus a prefix of the writes the sync was to make
// durable, the last one possibly cut short, like a torn crash. Which
// prefix is the seed's.
func TestDiskFailSyncTearsItsWrites(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		ops := genDiskOps(rt)
		model := map[string]*modelFile{}
		w := sim.NewWorld(sim.Config{Seed: rapid.Uint64().Draw(rt, "seed")})
		after := map[string][]byte{}
		diskNode(w, "n", func(env *sim.Env) {
			d := env.Disk()
			if env.Incarnation() == 1 {
				runDiskOps(rt, d, model, ops)
				return
			}
			for _, name := range d.List("") {
				b, err := d.ReadFile(name)
				require.NoError(rt, err)
				after[name] = nonNil(b)
			}
		})
		w.Run(sim.Limits{Until: ms(1)})
		names := modelNames(model)
		require.NoError(rt, w.Inject(sim.DiskFail{Nodes: ids("n"), Count: len(names), Torn: true}))
		for _, name := range names {
			require.ErrorIs(rt, w.Disk("n").Sync(name), sim.ErrSyncFailed)
		}
		require.NoError(rt, w.Inject(sim.Restart{Nodes: ids("n")}))
		w.Run(sim.Limits{})
		for _, name := range names {
			require.Contains(rt, model[name].afterTornCrash(), after[name], "%s: not the durable content plus a prefix of the failed sync's writes", name)
		}
	})
}

// Across seeds, a torn failed sync leaves nothing, a cut prefix or all of its
// write: the seed, not the model, decides how far the writeback got.
func TestDiskFailSyncPrefixVaries(t *testing.T) {
	seen := map[string]bool{}
	for seed := uint64(1); seed <= 64; seed++ {
		w := sim.NewWorld(sim.Config{Seed: seed})
		diskNode(w, "n", func(env *sim.Env) {})
		w.Run(sim.Limits{Until: ms(1)})
		d := w.Disk("n")
		require.NoError(t, d.WriteAt("f", 0, []byte("AAAAAAAA")))
		require.NoError(t, w.Inject(sim.DiskFail{Nodes: ids("n"), Torn: true}))
		require.ErrorIs(t, d.Sync("f"), sim.ErrSyncFailed)
		require.NoError(t, w.Inject(sim.Restart{Nodes: ids("n")}))
		b, err := d.ReadFile("f")
		require.NoError(t, err)
		switch len(b) {
		case 0:
			seen["none"] = true
		case 8:
			seen["all"] = true
		default:
			seen["cut"] = true
		}
	}
	assert.Equal(t, map[string]bool{"none": true, "cut": true, "all": true}, seen)
}

// Disk-fail with no count fails one sync.
func TestDiskFailDefaultsToOneSync(t *testing.T) {
	w := sim.NewWorld(sim.Config{Seed: 1})
	var errs []error
	diskNode(w, "n", func(env *sim.Env) {
		require.NoError(t, env.Disk().WriteAt("f", 0, []byte("x")))
		errs = append(errs, env.Disk().Sync("f"), env.Disk().Sync("f"))
	})
	require.NoError(t, w.Inject(sim.DiskFail{Nodes: ids("n")}))
	w.Run(sim.Limits{})
	require.Len(t, errs, 2)
	assert.True(t, errors.Is(errs[0], sim.ErrSyncFailed))
	assert.NoError(t, errs[1])
}

func bitDiff(a, b []byte) (diffBits int, at int) {
	at = -1
	for i := range min(len(a), len(b)) {
		if d := bits.OnesCount8(a[i] ^ b[i]); d > 0 {
			diffBits += d
			at = i
		}
	}
	return diffBits + 8*(max(len(a), len(b))-min(len(a), len(b))), at
}

// Disk corruption flips exactly one bit of synced data, at rest: the
// process sees it, and so does every later incarnation.
func TestDiskCorruptFlipsOneSyncedBit(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		seed := rapid.Uint64().Draw(rt, "seed")
		data := rapid.SliceOfN(rapid.Byte(), 1, 64).Draw(rt, "data")
		file := rapid.SampledFrom([]string{"", "f"}).Draw(rt, "file")
		w := sim.NewWorld(sim.Config{Seed: seed})
		var seen [][]byte
		diskNode(w, "n", func(env *sim.Env) {
			d := env.Disk()
			if env.Incarnation() == 1 {
				require.NoError(rt, d.WriteAt("f", 0, data))
				require.NoError(rt, d.Sync("f"))
				require.NoError(rt, d.WriteAt("g", 0, []byte("synced")))
				require.NoError(rt, d.Sync("g"))
				require.NoError(rt, d.WriteAt("unsynced", 0, []byte("never synced")))
				require.NoError(rt, d.Truncate("empty", 0))
				require.NoError(rt, d.Sync("empty"))
			}
		})
		require.NoError(rt, w.Schedule([]sim.Fault{
			{At: at(ms(1)), Op: sim.DiskCorrupt{Nodes: ids("n"), File: file}},
			{At: at(ms(2)), Op: sim.Restart{Nodes: ids("n")}},
		}))
		w.Run(sim.Limits{Until: ms(1)})
		read := func() {
			f, _ := w.Disk("n").ReadFile("f")
			g, _ := w.Disk("n").ReadFile("g")
			seen = append(seen, append(f, g...))
		}
		read()
		w.Run(sim.Limits{})
		read()

		orig := append(slices.Clone(data), "synced"...)
		for _, s := range seen {
			n, off := bitDiff(orig, s)
			require.Equal(rt, 1, n, "exactly one bit flipped")
			if file == "f" {
				require.Less(rt, off, len(data), "only the named file")
			}
		}
		require.Equal(rt, seen[0], seen[1], "the corruption is at rest")
		u, _ := w.Disk("n").ReadFile("unsynced")
		require.Empty(rt, u, "unsynced data is lost at the crash, not corrupted")
		note := w.Faults()[0].Note
		require.Regexp(rt, `^n:(f|g)@\d+$`, note)
	})
}

// Corruption at rest does not touch what the process wrote over the synced
// data and has not synced yet: the process reads its own newer bytes, and
// the flipped bit shows after a crash.
func TestDiskCorruptLeavesUnsyncedOverwrites(t *testing.T) {
	w := sim.NewWorld(sim.Config{Seed: 1})
	diskNode(w, "n", func(env *sim.Env) {
		if env.Incarnation() == 1 {
			d := env.Disk()
			require.NoError(t, d.WriteAt("f", 0, bytes.Repeat([]byte("A"), 16)))
			require.NoError(t, d.Sync("f"))
			require.NoError(t, d.WriteAt("f", 0, bytes.Repeat([]byte("B"), 16)))
		}
	})
	require.NoError(t, w.Schedule([]sim.Fault{{At: at(ms(1)), Op: sim.DiskCorrupt{Nodes: ids("n")}}}))
	w.Run(sim.Limits{})
	cur, _ := w.Disk("n").ReadFile("f")
	assert.Equal(t, bytes.Repeat([]byte("B"), 16), cur, "the unsynced overwrite was corrupted")
	require.NoError(t, w.Inject(sim.Crash{Nodes: ids("n")}))
	after, _ := w.Disk("n").ReadFile("f")
	n, _ := bitDiff(bytes.Repeat([]byte("A"), 16), after)
	assert.Equal(t, 1, n, "the synced data has the flipped bit")
}

// Nothing synced, nothing to corrupt.
func TestDiskCorruptNothingToCorrupt(t *testing.T) {
	w := sim.NewWorld(sim.Config{Seed: 1})
	diskNode(w, "n", func(env *sim.Env) {
		require.NoError(t, env.Disk().WriteAt("f", 0, []byte("unsynced")))
	})
	require.NoError(t, w.Schedule([]sim.Fault{{At: at(ms(1)), Op: sim.DiskCorrupt{Nodes: ids("n")}}}))
	w.Run(sim.Limits{})
	b, _ := w.Disk("n").ReadFile("f")
	assert.Equal(t, []byte("unsynced"), b)
	assert.Empty(t, w.Faults()[0].Note)
}

// A slow disk keeps the node busy after each sync: its next events wait
// until the sync is done, in order; when the fault ends, syncs are fast.
func TestDiskSlowDelaysTheNode(t *testing.T) {
	w, tp := newWorld(sim.Config{Seed: 1, Clock: perfectClock, Network: quietNet()})
	syncAt := func(p *probe) {
		require.NoError(t, p.env.Disk().WriteAt("f", 0, []byte("x")))
		require.NoError(t, p.env.Disk().Sync("f"))
	}
	addProbe(w, tp, "n", &hooks{
		start: func(p *probe) {
			p.env.SetTimer(ms(100), "sync")
			p.env.SetTimer(ms(101), "after")
			p.env.SetTimer(ms(300), "sync")
			p.env.SetTimer(ms(301), "after")
			p.env.SetTimer(ms(500), "sync")
			p.env.SetTimer(ms(501), "after")
		},
		timer: func(p *probe, _ sim.TimerID, tag any) {
			if tag == "sync" {
				syncAt(p)
			}
		},
	})
	// m sends n a message every millisecond.
	addProbe(w, tp, "m", &hooks{
		start: func(p *probe) { p.dial("n"); p.env.SetTimer(ms(1), nil) },
		timer: func(p *probe, _ sim.TimerID, _ any) {
			if w.Now() < ms(600) {
				p.send(p.conns["n"])
				p.env.SetTimer(ms(1), nil)
			}
		},
	})
	require.NoError(t, w.Schedule([]sim.Fault{
		{At: at(ms(50)), Op: sim.DiskSlow{Nodes: ids("n"), Delay: at(ms(40)), For: at(ms(200))}},
		{At: at(ms(250)), Op: sim.DiskSlow{Nodes: ids("n"), Delay: at(ms(30)), For: at(ms(200))}},
		{At: at(ms(260)), Op: sim.DiskSlow{Nodes: ids("n"), Delay: at(ms(30)), For: at(ms(10))}}, // ends first; the one above still holds
	}))
	w.Run(sim.Limits{Until: time.Second})

	busy := [][2]time.Duration{{ms(100), ms(140)}, {ms(300), ms(330)}}
	var resumed []time.Duration
	for _, e := range tp.filter(entry{Node: "n"}) {
		for _, b := range busy {
			require.False(t, e.At > b[0] && e.At < b[1], "node ran while its disk was syncing: %s", e)
		}
		if e.Kind == "timer" && e.Msg == "after" {
			resumed = append(resumed, e.At)
		}
	}
	assert.Equal(t, []time.Duration{ms(140), ms(330), ms(501)}, resumed, "slow syncs delay what follows; after the fault, syncs are fast")
	msgs := tp.filter(entry{Node: "n", Kind: "message"})
	assert.Equal(t, upTo(len(msgs)), seqs(msgs))
	assert.Greater(t, len(tp.filter(entry{Node: "n", Kind: "message", Inc: 1})), 500)
}

func TestDiskAPI(t *testing.T) {
	w := sim.NewWorld(sim.Config{Seed: 1})
	diskNode(w, "n", func(*sim.Env) {})
	w.Run(sim.Limits{})
	d := w.Disk("n")
	require.NotNil(t, d)
	assert.Nil(t, w.Disk("ghost"))

	_, err := d.ReadFile("f")
	assert.ErrorIs(t, err, sim.ErrNotExist)
	_, err = d.ReadAt("f", 0, 1)
	assert.ErrorIs(t, err, sim.ErrNotExist)
	assert.ErrorIs(t, d.Sync("f"), sim.ErrNotExist)
	assert.ErrorIs(t, d.Remove("f"), sim.ErrNotExist)
	assert.ErrorIs(t, d.Rename("f", "g"), sim.ErrNotExist)
	_, ok := d.Size("f")
	assert.False(t, ok)

	assert.Error(t, d.WriteAt("f", -1, []byte("x")))
	assert.Error(t, d.Truncate("f", -1))

	require.NoError(t, d.WriteAt("f", 2, []byte("cd")))
	b, _ := d.ReadFile("f")
	assert.Equal(t, []byte("\x00\x00cd"), b, "a write past the end extends with zeros")
	off, err := d.Append("f", []byte("ef"))
	require.NoError(t, err)
	assert.Equal(t, int64(4), off)
	size, ok := d.Size("f")
	assert.True(t, ok)
	assert.Equal(t, int64(6), size)

	b, err = d.ReadAt("f", 3, 10)
	require.NoError(t, err)
	assert.Equal(t, []byte("def"), b, "short read at the end")
	b, err = d.ReadAt("f", 6, 1)
	require.NoError(t, err)
	assert.Empty(t, b)
	_, err = d.ReadAt("f", -1, 1)
	assert.Error(t, err)
	_, err = d.ReadAt("f", 0, -1)
	assert.Error(t, err)

	// Reads are copies.
	b, _ = d.ReadFile("f")
	b[2] = 'X'
	b2, _ := d.ReadFile("f")
	assert.Equal(t, byte('c'), b2[2])
	// Writes copy their input.
	buf := []byte("zz")
	require.NoError(t, d.WriteAt("f", 0, buf))
	buf[0] = 'Q'
	b, _ = d.ReadFile("f")
	assert.Equal(t, []byte("zzcdef"), b)

	require.NoError(t, d.Truncate("f", 3))
	b, _ = d.ReadFile("f")
	assert.Equal(t, []byte("zzc"), b)
	require.NoError(t, d.Truncate("f", 5))
	b, _ = d.ReadFile("f")
	assert.Equal(t, []byte("zzc\x00\x00"), b)

	require.NoError(t, d.Sync("f"))
	require.NoError(t, d.WriteAt("x/1", 0, nil))
	require.NoError(t, d.WriteAt("x/0", 0, nil))
	assert.Equal(t, []string{"f", "x/0", "x/1"}, d.List(""))
	assert.Equal(t, []string{"x/0", "x/1"}, d.List("x/"))
	assert.Empty(t, d.List("nothing"))

	// Rename replaces the target, durably; unsynced writes stay unsynced.
	require.NoError(t, d.WriteAt("x/0", 0, []byte("zero")))
	require.NoError(t, d.Rename("x/0", "f"))
	assert.Equal(t, []string{"f", "x/1"}, d.List(""))
	require.NoError(t, d.Remove("x/1"))
	require.NoError(t, w.Inject(sim.Crash{Nodes: ids("n")}))
	assert.Equal(t, []string{"f"}, d.List(""))
	b, _ = d.ReadFile("f")
	assert.Empty(t, b, "the renamed file's unsynced write is lost")

	st := d.Stats()
	assert.Equal(t, 1, st.Files)
	assert.Equal(t, uint64(1), st.Syncs)
	assert.Equal(t, uint64(2+2+2+4), st.BytesWritten)
}

// Disk-heal ends pending sync failures.
func TestDiskHealEndsFailuresAndSlowness(t *testing.T) {
	w := sim.NewWorld(sim.Config{Seed: 1})
	var errs []error
	diskNode(w, "n", func(env *sim.Env) {
		require.NoError(t, env.Disk().WriteAt("f", 0, []byte("x")))
		errs = append(errs, env.Disk().Sync("f"))
	})
	require.NoError(t, w.Inject(sim.DiskFail{Nodes: ids("n"), Count: 3}))
	require.NoError(t, w.Inject(sim.DiskSlow{Nodes: ids("n"), Delay: sim.Duration(time.Second), For: sim.Duration(time.Hour)}))
	require.NoError(t, w.Inject(sim.DiskHeal{Nodes: ids("n")}))
	w.Run(sim.Limits{})
	require.Len(t, errs, 1)
	assert.NoError(t, errs[0])
	assert.Equal(t, uint64(0), w.Stats("n").Crashes)
}

// Durable is the disk a crash would leave, as a copy: the synced content
// only (what ReadDurable reads of one file), and changing either disk
// leaves the other alone.
func TestDiskDurableIsACrashImage(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		ops := genDiskOps(rt)
		model := map[string]*modelFile{}
		w := sim.NewWorld(sim.Config{Seed: 1})
		diskNode(w, "n", func(env *sim.Env) { runDiskOps(rt, env.Disk(), model, ops) })
		w.Run(sim.Limits{})
		d := w.Disk("n")
		img := d.Durable()
		names := modelNames(model)
		require.Equal(rt, names, nonNilNames(img.List("")))
		for _, name := range names {
			b, err := img.ReadFile(name)
			require.NoError(rt, err)
			require.Equal(rt, nonNil(model[name].durable), nonNil(b), name)
			direct, err := d.ReadDurable(name) // the same, without the copy of the disk
			require.NoError(rt, err)
			require.Equal(rt, nonNil(b), nonNil(direct), name)
			require.NoError(rt, img.WriteAt(name, 0, []byte("zz")))
			require.NoError(rt, img.Sync(name))
			now, err := d.ReadFile(name)
			require.NoError(rt, err)
			require.Equal(rt, nonNil(model[name].current()), nonNil(now), "%s: writing the image changed the disk", name)
		}
	})
}
