package raftkv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/sofasim/sofasim/sim"
)

// On-disk layout (all integers little-endian):
//
//	raftkv/wal       the write-ahead log: a sequence of records
//	raftkv/snap      the latest snapshot
//	raftkv/*.tmp     files being written; replaced by rename once synced
//
// A WAL record is
//
//	u32 n             length of type + body
//	u32 crc           CRC-32C (Castagnoli) of the 4 length bytes
//	u32 crc           CRC-32C of type + body
//	u8  type
//	body (n-1 bytes)
//
// with types
//
//	1 header     magic "RKVWAL01", u64 base index, u64 base term. First record;
//	             the log holds entries after the base.
//	2 entry      u64 term, u64 index, u8 raft entry type, data. An entry at
//	             index i replaces any entries at i and after (a new leader's
//	             log overrides a conflicting suffix).
//	3 hardstate  u64 term, u64 vote, u64 commit. The last one wins.
//
// Each Ready appends its records with one write and, when raft says the
// Ready must be durable (new entries, term or vote), one sync, before any
// message of that Ready is sent or any client is answered.
//
// On recovery, a record cut short (its frame, or its body running past the
// end of the file) is a torn write: it and what follows are truncated,
// durably. A complete frame or record whose checksum fails is corruption
// at rest (a torn write keeps a prefix of what was written, so it never
// yields a complete but wrong record): the server refuses to start, as
// etcd does. Corruption is only detected when the files are read, at start.
//
// The snapshot file is
//
//	magic "RKVSNAP1", u64 index, u64 term, u32 len + ConfState (protobuf),
//	u32 len + payload (sessions + state machine, see statemachine.go),
//	u32 CRC-32C of everything before it
//
// written to raftkv/snap.tmp, synced, then renamed over raftkv/snap. After a
// snapshot the WAL is compacted by rewriting it (header at the compaction
// point, the hard state, the retained entries) to raftkv/wal.tmp, syncing
// and renaming it over raftkv/wal. The snapshot is always durable before the
// WAL that relies on it.
const (
	walFile     = "raftkv/wal"
	walTmpFile  = "raftkv/wal.tmp"
	snapFile    = "raftkv/snap"
	snapTmpFile = "raftkv/snap.tmp"
)

const (
	recHeader    byte = 1
	recEntry     byte = 2
	recHardState byte = 3

	recFrame = 12 // length, its crc, the body crc
)

var (
	walMagic  = [8]byte{'R', 'K', 'V', 'W', 'A', 'L', '0', '1'}
	snapMagic = [8]byte{'R', 'K', 'V', 'S', 'N', 'A', 'P', '1'}
	crcTable  = crc32.MakeTable(crc32.Castagnoli)
)

var (
	errCorruptWAL  = errors.New("raftkv: corrupt WAL record before its end (corruption at rest)")
	errCorruptSnap = errors.New("raftkv: corrupt snapshot file")
)

// beginRecord reserves a record's frame and writes its type; finishRecord
// fills in the length and checksums once the body is appended.
func beginRecord(b []byte, typ byte) ([]byte, int) {
	start := len(b)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, typ)
	return b, start
}

func finishRecord(b []byte, start int) []byte {
	n := len(b) - start - recFrame
	binary.LittleEndian.PutUint32(b[start:], uint32(n))
	binary.LittleEndian.PutUint32(b[start+4:], crc32.Checksum(b[start:start+4], crcTable))
	binary.LittleEndian.PutUint32(b[start+8:], crc32.Checksum(b[start+recFrame:], crcTable))
	return b
}

func appendHeaderRecord(b []byte, baseIndex, baseTerm uint64) []byte {
	b, st := beginRecord(b, recHeader)
	b = append(b, walMagic[:]...)
	b = binary.LittleEndian.AppendUint64(b, baseIndex)
	b = binary.LittleEndian.AppendUint64(b, baseTerm)
	return finishRecord(b, st)
}

func appendEntryRecord(b []byte, e *raftpb.Entry) []byte {
	b, st := beginRecord(b, recEntry)
	b = binary.LittleEndian.AppendUint64(b, e.GetTerm())
	b = binary.LittleEndian.AppendUint64(b, e.GetIndex())
	b = append(b, byte(e.GetType()))
	b = append(b, e.GetData()...)
	return finishRecord(b, st)
}

func appendHardStateRecord(b []byte, hs *raftpb.HardState) []byte {
	b, st := beginRecord(b, recHardState)
	b = binary.LittleEndian.AppendUint64(b, hs.GetTerm())
	b = binary.LittleEndian.AppendUint64(b, hs.GetVote())
	b = binary.LittleEndian.AppendUint64(b, hs.GetCommit())
	return finishRecord(b, st)
}

// walState is what a WAL holds once replayed.
type walState struct {
	baseIndex, baseTerm uint64
	terms               []uint64          // of baseIndex+1, baseIndex+2, ...
	entries             []*raftpb.Entry   // the same entries, when kept
	hs                  *raftpb.HardState // the last hard state record's, made once read
	hsv                 [3]uint64         // its term, vote and commit as read
	hasHS               bool
	hasHeader           bool
	keep                bool // build the entries, not only their terms
}

// readWAL replays a WAL image. It returns the state, the length of the
// valid prefix (what follows it is a torn tail to truncate), and
// errCorruptWAL for damage that is not a torn tail. Without keep it checks
// the same and keeps only the entries' terms: what a checker comparing the
// disk with a running server needs, without an allocation per entry.
func readWAL(data []byte, keep bool) (walState, int, error) {
	w := walState{keep: keep}
	off, err := w.read(data)
	if w.hasHS { // one message for the last of what may be thousands of records
		w.hs = &raftpb.HardState{Term: new(w.hsv[0]), Vote: new(w.hsv[1]), Commit: new(w.hsv[2])}
	}
	return w, off, err
}

func (w *walState) read(data []byte) (int, error) {
	off := 0
	for off < len(data) {
		rest := len(data) - off
		if rest < recFrame {
			return off, nil // the frame is cut short: torn
		}
		frame := data[off : off+recFrame]
		if crc32.Checksum(frame[:4], crcTable) != binary.LittleEndian.Uint32(frame[4:]) {
			return off, errCorruptWAL
		}
		n := int(binary.LittleEndian.Uint32(frame))
		if n > rest-recFrame {
			return off, nil // the body is cut short: torn
		}
		body := data[off+recFrame : off+recFrame+n]
		if n < 1 || crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(frame[8:]) {
			return off, errCorruptWAL
		}
		if err := w.apply(body[0], body[1:]); err != nil {
			return off, err
		}
		off += recFrame + n
	}
	return off, nil
}

func (w *walState) apply(typ byte, body []byte) error {
	switch typ {
	case recHeader:
		if len(body) != 24 || [8]byte(body[:8]) != walMagic || w.hasHeader {
			return errCorruptWAL
		}
		w.hasHeader = true
		w.baseIndex = binary.LittleEndian.Uint64(body[8:])
		w.baseTerm = binary.LittleEndian.Uint64(body[16:])
	case recEntry:
		if len(body) < 17 || !w.hasHeader {
			return errCorruptWAL
		}
		term := binary.LittleEndian.Uint64(body)
		index := binary.LittleEndian.Uint64(body[8:])
		next := w.baseIndex + uint64(len(w.terms)) + 1
		if index <= w.baseIndex || index > next {
			return fmt.Errorf("%w: entry %d does not follow %d", errCorruptWAL, index, next-1)
		}
		w.terms = append(w.terms[:index-w.baseIndex-1], term)
		if !w.keep {
			break
		}
		w.entries = w.entries[:index-w.baseIndex-1]
		e := &raftpb.Entry{Term: new(term), Index: new(index), Type: raftpb.EntryType(body[16]).Enum()}
		if len(body) > 17 {
			e.Data = body[17:]
		}
		w.entries = append(w.entries, e)
	case recHardState:
		if len(body) != 24 || !w.hasHeader {
			return errCorruptWAL
		}
		w.hsv = [3]uint64{binary.LittleEndian.Uint64(body), binary.LittleEndian.Uint64(body[8:]), binary.LittleEndian.Uint64(body[16:])}
		w.hasHS = true
	default:
		return errCorruptWAL
	}
	return nil
}

// termAt returns the term of the entry at index, if the WAL holds it.
func (w *walState) termAt(index uint64) (uint64, bool) {
	if index == w.baseIndex && w.hasHeader {
		return w.baseTerm, true
	}
	if index <= w.baseIndex || index > w.baseIndex+uint64(len(w.terms)) {
		return 0, false
	}
	return w.terms[index-w.baseIndex-1], true
}

func encodeSnapshotFile(s *raftpb.Snapshot) ([]byte, error) {
	conf, err := proto.Marshal(raftpb.EnsureConfState(s.GetMetadata().GetConfState()))
	if err != nil {
		return nil, err
	}
	data := s.GetData()
	b := make([]byte, 0, 8+16+4+len(conf)+4+len(data)+4)
	b = append(b, snapMagic[:]...)
	b = binary.LittleEndian.AppendUint64(b, s.GetMetadata().GetIndex())
	b = binary.LittleEndian.AppendUint64(b, s.GetMetadata().GetTerm())
	b = binary.LittleEndian.AppendUint32(b, uint32(len(conf)))
	b = append(b, conf...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crcTable)), nil
}

func decodeSnapshotFile(b []byte) (*raftpb.Snapshot, error) {
	if len(b) < 8+16+4+4+4 || [8]byte(b[:8]) != snapMagic {
		return nil, errCorruptSnap
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, crcTable) != sum {
		return nil, errCorruptSnap
	}
	index := binary.LittleEndian.Uint64(b[8:])
	term := binary.LittleEndian.Uint64(b[16:])
	r := body[24:]
	cl := int(binary.LittleEndian.Uint32(r))
	if cl > len(r)-4 {
		return nil, errCorruptSnap
	}
	cs := &raftpb.ConfState{}
	if err := proto.Unmarshal(r[4:4+cl], cs); err != nil {
		return nil, errCorruptSnap
	}
	r = r[4+cl:]
	if len(r) < 4 {
		return nil, errCorruptSnap
	}
	dl := int(binary.LittleEndian.Uint32(r))
	if dl != len(r)-4 {
		return nil, errCorruptSnap
	}
	return &raftpb.Snapshot{
		Data: r[4:],
		Metadata: &raftpb.SnapshotMetadata{
			ConfState: raftpb.EnsureConfState(cs),
			Index:     new(index),
			Term:      new(term),
		},
	}, nil
}

// writeFileAtomic writes data to tmp, syncs it and renames it to name.
func writeFileAtomic(d *sim.Disk, tmp, name string, data []byte) error {
	_ = d.Remove(tmp) // a leftover from a crash mid-write
	if err := d.WriteAt(tmp, 0, data); err != nil {
		return err
	}
	if err := d.Sync(tmp); err != nil {
		return err
	}
	return d.Rename(tmp, name)
}

// recovered is the durable state read back at start.
type recovered struct {
	snap    *raftpb.Snapshot // nil: none
	entries []*raftpb.Entry  // after the snapshot (or from index 1); nil unless kept
	count   int              // how many entries follow the snapshot, kept or not
	hs      *raftpb.HardState
	// margin holds the WAL's entries at or before the snapshot index (the
	// catch-up margin kept by compaction); raft does not need them.
	margin []*raftpb.Entry
	// truncated is the number of torn bytes cut from the WAL's tail.
	truncated int
	empty     bool // nothing on disk at all
	walOK     bool // the WAL exists with its header
}

// Recoverable reports whether a server could start from the disk as a
// crash now would leave it (the disk itself is not touched): the error its
// recovery stops on, or nil. For checkers.
func Recoverable(d *sim.Disk) error {
	_, err := recoverImage(d)
	return err
}

// recoverDisk reads the snapshot and the WAL, truncates a torn WAL tail
// durably, and reconciles the two. It returns an error for damage it must
// not paper over.
func recoverDisk(d *sim.Disk) (recovered, error) {
	_ = d.Remove(snapTmpFile)
	_ = d.Remove(walTmpFile)
	return recoverFiles(d.ReadFile, func(good int64) error {
		if err := d.Truncate(walFile, good); err != nil {
			return err
		}
		return d.Sync(walFile)
	}, true)
}

// recoverImage is recoverDisk on the disk a crash now would leave, for
// checkers: it reads the synced contents, touches nothing, and only counts
// the entries (readWAL without keep).
func recoverImage(d *sim.Disk) (recovered, error) {
	return recoverFiles(d.ReadDurable, nil, false)
}

// recoverFiles is recovery over the files read: truncate, if not nil,
// cuts a torn WAL tail to its valid prefix.
func recoverFiles(read func(name string) ([]byte, error), truncate func(good int64) error, keep bool) (recovered, error) {
	var rec recovered
	if b, err := read(snapFile); err == nil {
		s, err := decodeSnapshotFile(b)
		if err != nil {
			return rec, err
		}
		rec.snap = s
	}
	var w walState
	if data, err := read(walFile); err == nil {
		var good int
		w, good, err = readWAL(data, keep)
		if err != nil {
			return rec, err
		}
		if good < len(data) {
			rec.truncated = len(data) - good
			if truncate != nil {
				if err := truncate(int64(good)); err != nil {
					return rec, err
				}
			}
		}
	}
	rec.empty = rec.snap == nil && !w.hasHeader
	rec.walOK = w.hasHeader
	rec.hs = w.hs
	snapIndex, snapTerm := uint64(0), uint64(0)
	if rec.snap != nil {
		snapIndex, snapTerm = rec.snap.GetMetadata().GetIndex(), rec.snap.GetMetadata().GetTerm()
	}
	switch {
	case !w.hasHeader:
		// No WAL yet (or only a torn header): the snapshot alone.
	case w.baseIndex > snapIndex:
		return rec, fmt.Errorf("raftkv: WAL starts after entry %d but the snapshot is at %d", w.baseIndex, snapIndex)
	case rec.snap == nil:
		rec.entries, rec.count = w.entries, len(w.terms)
	default:
		if t, ok := w.termAt(snapIndex); ok && t == snapTerm {
			at := snapIndex - w.baseIndex
			if keep {
				rec.margin = w.entries[:at]
				rec.entries = w.entries[at:]
			}
			rec.count = len(w.terms) - int(at)
		}
		// Otherwise the log does not reach the snapshot or conflicts with
		// it (a snapshot from the leader replaced a divergent log and the
		// crash came before the WAL was rewritten): the snapshot wins and
		// the log after it is discarded.
	}
	if rec.hs != nil {
		hs := &raftpb.HardState{Term: new(rec.hs.GetTerm()), Vote: new(rec.hs.GetVote()), Commit: new(rec.hs.GetCommit())}
		last := snapIndex + uint64(rec.count)
		c := max(hs.GetCommit(), snapIndex)
		c = min(c, last)
		hs.Commit = new(c)
		if hs.GetTerm() < snapTerm {
			hs.Term, hs.Vote = new(snapTerm), new(uint64(0))
		}
		rec.hs = hs
	} else if rec.snap != nil {
		rec.hs = &raftpb.HardState{Term: new(snapTerm), Vote: new(uint64(0)), Commit: new(snapIndex)}
	}
	return rec, nil
}
