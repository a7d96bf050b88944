package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
)

// ErrSyncFailed is returned by Disk.Sync when a disk fault fails the sync.
// As with Linux fsync, the writes it was to make durable are then dropped
// from the durable path: code must treat it as fatal. A torn failure
// (DiskFail.Torn) first lets the writeback get partway: a random prefix of
// those writes is on the disk, the last possibly cut short, which recovery
// must cope with.
var ErrSyncFailed = errors.New("sim: sync failed (injected disk fault)")

// ErrNotExist is returned for a file that does not exist.
var ErrNotExist = errors.New("sim: file does not exist")

// Disk is one machine's durable storage. It survives crashes of the node
// process; what survives a crash is what was synced (see package doc).
type Disk struct {
	files map[string]*file
	// faults
	failSyncs int  // the next n syncs fail
	failTorn  bool // they are torn, drawing how far the writeback got from rng
	slow      []slowSpell
	busy      int64      // set by a slow sync: the node is busy this long
	busyFlag  *bool      // raised with busy, so that the world looks only when set
	rng       *rand.Rand // the node's disk stream (World.diskOf)
	syncs     uint64
	written   uint64
}

type file struct {
	durable []byte
	current []byte
	pending []pendingWrite
	// buf holds the data of the pending writes. It is emptied when they
	// are (sync, crash) and reused, so writing allocates nothing once it
	// has grown.
	buf []byte
}

// dropPending forgets the pending writes.
func (f *file) dropPending() {
	f.pending = f.pending[:0]
	f.buf = f.buf[:0]
}

type pendingWrite struct {
	truncate bool
	off      int64
	data     []byte // write
	size     int64  // truncate
}

// slowSpell is one disk-slow fault in force: each sync takes delay, until
// the virtual time until. Overlapping spells: the slowest one counts.
type slowSpell struct{ delay, until int64 }

// endSlow ends the spells whose time is up.
func (d *Disk) endSlow(now int64) {
	d.slow = slices.DeleteFunc(d.slow, func(s slowSpell) bool { return s.until <= now })
}

func newDisk() *Disk { return &Disk{files: map[string]*file{}} }

func (d *Disk) get(name string, create bool) *file {
	f := d.files[name]
	if f == nil && create {
		f = &file{}
		d.files[name] = f
	}
	return f
}

// WriteAt writes p at offset off of the named file, creating it, extending
// it with zeros as needed. The write is durable only after Sync.
func (d *Disk) WriteAt(name string, off int64, p []byte) error {
	if off < 0 {
		return fmt.Errorf("sim: negative offset %d writing %s", off, name)
	}
	f := d.get(name, true)
	start := len(f.buf)
	f.buf = append(f.buf, p...)
	data := f.buf[start:len(f.buf):len(f.buf)]
	f.current = applyWrite(f.current, off, data)
	f.pending = append(f.pending, pendingWrite{off: off, data: data})
	d.written += uint64(len(p))
	return nil
}

// Append writes p at the end of the named file and returns its offset.
func (d *Disk) Append(name string, p []byte) (int64, error) {
	f := d.get(name, true)
	off := int64(len(f.current))
	return off, d.WriteAt(name, off, p)
}

// Truncate sets the size of the named file, creating it.
func (d *Disk) Truncate(name string, size int64) error {
	if size < 0 {
		return fmt.Errorf("sim: negative size %d truncating %s", size, name)
	}
	f := d.get(name, true)
	f.current = applyTruncate(f.current, size)
	f.pending = append(f.pending, pendingWrite{truncate: true, size: size})
	return nil
}

// ReadFile returns a copy of the named file's contents as the process sees
// them (synced or not).
func (d *Disk) ReadFile(name string) ([]byte, error) {
	f := d.files[name]
	if f == nil {
		return nil, ErrNotExist
	}
	return append([]byte(nil), f.current...), nil
}

// ReadDurable returns a copy of the named file's contents as a crash now
// would leave them (synced writes only, none torn): what a checker reads to
// ask whether the node could start from its disk, without copying the disk
// (Durable).
func (d *Disk) ReadDurable(name string) ([]byte, error) {
	f := d.files[name]
	if f == nil {
		return nil, ErrNotExist
	}
	return append([]byte(nil), f.durable...), nil
}

// ReadAt reads up to n bytes at off; it returns fewer at the end of file.
func (d *Disk) ReadAt(name string, off int64, n int) ([]byte, error) {
	f := d.files[name]
	if f == nil {
		return nil, ErrNotExist
	}
	if off < 0 || n < 0 {
		return nil, fmt.Errorf("sim: bad read of %s at %d len %d", name, off, n)
	}
	if off >= int64(len(f.current)) {
		return nil, nil
	}
	end := off + int64(n)
	if end > int64(len(f.current)) {
		end = int64(len(f.current))
	}
	return append([]byte(nil), f.current[off:end]...), nil
}

// Size returns the size of the named file and whether it exists.
func (d *Disk) Size(name string) (int64, bool) {
	f := d.files[name]
	if f == nil {
		return 0, false
	}
	return int64(len(f.current)), true
}

// Sync makes the named file's writes durable. A slow-sync fault makes the
// node busy for the delay; a sync fault fails it (see ErrSyncFailed).
func (d *Disk) Sync(name string) error {
	f := d.files[name]
	if f == nil {
		return ErrNotExist
	}
	d.syncs++
	var delay int64
	for _, s := range d.slow {
		delay = max(delay, s.delay)
	}
	d.busy += delay
	if d.busy > 0 && d.busyFlag != nil {
		*d.busyFlag = true
	}
	if d.failSyncs > 0 {
		d.failSyncs--
		if d.failTorn {
			f.tear(d.rng) // the writeback got this far
		}
		f.dropPending() // (the rest) lost to the durable path, as after a failed fsync
		if d.failSyncs == 0 {
			d.failTorn = false
		}
		return ErrSyncFailed
	}
	for _, w := range f.pending {
		f.durable = w.apply(f.durable)
	}
	f.dropPending()
	return nil
}

// Remove deletes the named file durably.
func (d *Disk) Remove(name string) error {
	if d.files[name] == nil {
		return ErrNotExist
	}
	delete(d.files, name)
	return nil
}

// Rename atomically and durably renames a file, replacing any target; the
// unsynced writes of the source stay unsynced.
func (d *Disk) Rename(from, to string) error {
	f := d.files[from]
	if f == nil {
		return ErrNotExist
	}
	delete(d.files, from)
	d.files[to] = f
	return nil
}

// List returns the sorted names of the files whose names start with prefix.
func (d *Disk) List(prefix string) []string {
	var out []string
	for name := range d.files { //detlint:allow keys are sorted below
		if strings.HasPrefix(name, prefix) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Durable returns a copy of the disk as a crash now would leave it (no torn
// writes): what a checker hands to the node's recovery code to ask whether
// it could start from this disk, without crashing the node.
func (d *Disk) Durable() *Disk {
	c := newDisk()
	for _, name := range d.List("") {
		b := append([]byte(nil), d.files[name].durable...)
		c.files[name] = &file{durable: b, current: append([]byte(nil), b...)}
	}
	return c
}

// DiskStats counts a disk's activity.
type DiskStats struct {
	Files        int    `json:"files"`
	Syncs        uint64 `json:"syncs"`
	BytesWritten uint64 `json:"bytes_written"`
}

// Stats reports the disk's activity.
func (d *Disk) Stats() DiskStats {
	return DiskStats{Files: len(d.files), Syncs: d.syncs, BytesWritten: d.written}
}

// crash drops what was not synced. With torn set, a random prefix of the
// pending writes survives, the last of them possibly cut short.
func (d *Disk) crash(r *rand.Rand, torn bool) {
	for _, name := range d.List("") {
		f := d.files[name]
		if torn {
			f.tear(r)
		}
		f.dropPending()
		f.current = append(f.current[:0], f.durable...)
	}
	d.busy = 0
}

// tear makes a random prefix of the pending writes durable, the last of them
// possibly cut short: what reached the platter of writes in flight.
func (f *file) tear(r *rand.Rand) {
	if len(f.pending) == 0 {
		return
	}
	k := r.IntN(len(f.pending) + 1)
	for _, w := range f.pending[:k] {
		f.durable = w.apply(f.durable)
	}
	if k < len(f.pending) {
		if w := f.pending[k]; !w.truncate && len(w.data) > 0 {
			w.data = w.data[:r.IntN(len(w.data))]
			f.durable = w.apply(f.durable)
		}
	}
}

// corrupt flips one random bit of synced data at rest in the named file (or
// a random file with synced data when name is empty). It reports the file
// and offset, or false when there was nothing to corrupt.
func (d *Disk) corrupt(r *rand.Rand, name string) (string, int64, bool) {
	var candidates []string
	for _, n := range d.List("") {
		if (name == "" || n == name) && len(d.files[n].durable) > 0 {
			candidates = append(candidates, n)
		}
	}
	if len(candidates) == 0 {
		return "", 0, false
	}
	n := candidates[r.IntN(len(candidates))]
	f := d.files[n]
	off := r.Int64N(int64(len(f.durable)))
	bit := byte(1) << r.IntN(8)
	// The process sees the flip unless it has written that byte since the
	// last sync: then it reads its own newer data, until a crash.
	if off < int64(len(f.current)) && f.current[off] == f.durable[off] && !f.overwritten(off) {
		f.current[off] ^= bit
	}
	f.durable[off] ^= bit
	return n, off, true
}

// overwritten reports whether a pending write or truncate replaced the
// byte at off since the last sync.
func (f *file) overwritten(off int64) bool {
	for _, w := range f.pending {
		if w.truncate && w.size <= off || !w.truncate && off >= w.off && off < w.off+int64(len(w.data)) {
			return true
		}
	}
	return false
}

func (w pendingWrite) apply(b []byte) []byte {
	if w.truncate {
		return applyTruncate(b, w.size)
	}
	return applyWrite(b, w.off, w.data)
}

func applyWrite(b []byte, off int64, p []byte) []byte {
	end := off + int64(len(p))
	if end > int64(len(b)) {
		if end <= int64(cap(b)) {
			old := len(b)
			b = b[:end]
			clear(b[old:])
		} else {
			nb := make([]byte, end, end+end/2)
			copy(nb, b)
			b = nb
		}
	}
	copy(b[off:], p)
	return b
}

func applyTruncate(b []byte, size int64) []byte {
	if size <= int64(len(b)) {
		return b[:size]
	}
	return applyWrite(b, size, nil)
}
