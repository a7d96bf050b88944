package rowdb

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

const (
	walFile    = "db/wal"
	walTmpFile = "db/wal.tmp"

	recCommit     byte = 1
	recCheckpoint byte = 2

	frameLen = 12
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt: a complete WAL record failed its checksum (corruption at
// rest, not a torn write).
var ErrCorrupt = errors.New("rowdb: corrupt WAL record (corruption at rest)")

// write is one row change inside a record.
type write struct {
	key     Key
	deleted bool
	row     Row
}

// record is one WAL record: a commit's writes, or a checkpoint of all rows.
type record struct {
	typ    byte
	lsn    uint64
	writes []write
}

func appendRecord(b []byte, r *record) []byte {
	start := len(b)
	b = append(b, make([]byte, frameLen)...)
	b = append(b, r.typ)
	b = binary.AppendUvarint(b, r.lsn)
	b = binary.AppendUvarint(b, uint64(len(r.writes)))
	for _, w := range r.writes {
		b = appendString(b, w.key.Table)
		b = appendString(b, w.key.PK)
		if w.deleted {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
		b = binary.AppendUvarint(b, w.row.Version)
		b = appendString(b, w.row.Value)
	}
	n := len(b) - start - frameLen
	binary.LittleEndian.PutUint32(b[start:], uint32(n))
	binary.LittleEndian.PutUint32(b[start+4:], crc32.Checksum(b[start:start+4], crcTable))
	binary.LittleEndian.PutUint32(b[start+8:], crc32.Checksum(b[start+frameLen:], crcTable))
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// readLog parses a WAL image. It returns the records, the length of the
// valid prefix (the rest is a torn tail) and ErrCorrupt for damage that is
// not a torn tail.
func readLog(data []byte) ([]record, int, error) {
	var out []record
	off := 0
	for off < len(data) {
		if len(data)-off < frameLen {
			return out, off, nil // torn frame
		}
		n := int(binary.LittleEndian.Uint32(data[off:]))
		if crc32.Checksum(data[off:off+4], crcTable) != binary.LittleEndian.Uint32(data[off+4:]) {
			// A torn write never yields a complete but wrong length: the
			// bytes are a prefix of what was written, zeros past it.
			if allZero(data[off:]) {
				return out, off, nil
			}
			return out, off, ErrCorrupt
		}
		if len(data)-off-frameLen < n {
			return out, off, nil // torn body
		}
		body := data[off+frameLen : off+frameLen+n]
		if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(data[off+8:]) {
			return out, off, ErrCorrupt
		}
		r, ok := decodeBody(body)
		if !ok {
			return out, off, ErrCorrupt
		}
		out = append(out, r)
		off += frameLen + n
	}
	return out, off, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func decodeBody(b []byte) (record, bool) {
	var r record
	if len(b) == 0 {
		return r, false
	}
	r.typ = b[0]
	if r.typ != recCommit && r.typ != recCheckpoint {
		return r, false
	}
	b = b[1:]
	uv := func() (uint64, bool) {
		v, k := binary.Uvarint(b)
		if k <= 0 {
			return 0, false
		}
		b = b[k:]
		return v, true
	}
	str := func() (string, bool) {
		n, ok := uv()
		if !ok || n > uint64(len(b)) {
			return "", false
		}
		s := string(b[:n])
		b = b[n:]
		return s, true
	}
	var ok bool
	if r.lsn, ok = uv(); !ok {
		return r, false
	}
	cnt, ok := uv()
	if !ok || cnt > uint64(len(b)) {
		return r, false
	}
	r.writes = make([]write, 0, cnt)
	for i := uint64(0); i < cnt; i++ {
		var w write
		var ok1, ok2, ok3, ok4 bool
		w.key.Table, ok1 = str()
		w.key.PK, ok2 = str()
		if !ok1 || !ok2 || len(b) == 0 {
			return r, false
		}
		w.deleted = b[0] == 1
		b = b[1:]
		w.row.Version, ok3 = uv()
		w.row.Value, ok4 = str()
		if !ok3 || !ok4 {
			return r, false
		}
		r.writes = append(r.writes, w)
	}
	return r, len(b) == 0
}
