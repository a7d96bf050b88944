package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"math/bits"
	"time"
	"unsafe"
)

// FNV-1a, for deriving stream seeds from names (see StreamSeed).
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// xxHash64's primes.
const (
	prime1 = 0x9E3779B185EBCA87
	prime2 = 0xC2B2AE3D27D4EB4F
	prime3 = 0x165667B19E3779F9
	prime4 = 0x85EBCA77C2B2AE63
	prime5 = 0x27D4EB2F165667C5
)

// Mix folds the word v into the running hash h with xxHash64's step for an
// 8-byte lane. For a fixed h it is a bijection of v, and for a fixed v one
// of h, so two sequences of words that differ in a single word never hash
// alike. The fingerprint is built from it; Digest methods may use it too.
func Mix(h, v uint64) uint64 {
	k := bits.RotateLeft64(v*prime2, 31) * prime1
	return bits.RotateLeft64(h^k, 27)*prime1 + prime4
}

// fingerprint is a running hash of everything that happened in a run,
// seeded by nothing but the run itself (never hash/maphash). It hashes
// 64-bit words (Mix), strings 8 bytes at a time, and the reading goes
// through xxHash64's final avalanche.
type fingerprint struct{ h uint64 }

func newFingerprint() fingerprint { return fingerprint{h: prime5} }

func (f *fingerprint) u64(v uint64) { f.h = Mix(f.h, v) }

// str hashes s as little-endian words, the last one zero-padded, then
// its length, so that no two strings hash alike by padding.
func (f *fingerprint) str(s string) {
	h := f.h
	i := 0
	for ; i+8 <= len(s); i += 8 {
		h = Mix(h, uint64(s[i])|uint64(s[i+1])<<8|uint64(s[i+2])<<16|uint64(s[i+3])<<24|
			uint64(s[i+4])<<32|uint64(s[i+5])<<40|uint64(s[i+6])<<48|uint64(s[i+7])<<56)
	}
	if i < len(s) {
		var v uint64
		for j := len(s) - 1; j >= i; j-- {
			v = v<<8 | uint64(s[j])
		}
		h = Mix(h, v)
	}
	f.h = Mix(h, uint64(len(s)))
}

// sum is the fingerprint's value: xxHash64's avalanche of the state.
func (f *fingerprint) sum() uint64 {
	h := f.h
	h ^= h >> 33
	h *= prime2
	h ^= h >> 29
	h *= prime3
	h ^= h >> 32
	return h
}

// value hashes a trace field without formatting the common kinds.
func (f *fingerprint) value(v any) {
	switch x := v.(type) {
	case nil:
		f.u64(0)
	case string:
		f.str(x)
	case NodeID:
		f.str(string(x))
	case int:
		f.u64(uint64(x))
	case int32:
		f.u64(uint64(x))
	case int64:
		f.u64(uint64(x))
	case uint:
		f.u64(uint64(x))
	case uint32:
		f.u64(uint64(x))
	case uint64:
		f.u64(x)
	case bool:
		if x {
			f.u64(1)
		} else {
			f.u64(2)
		}
	case time.Duration:
		f.u64(uint64(x))
	case ConnID:
		f.u64(uint64(x))
	case Digester:
		f.u64(x.Digest())
	case error:
		f.str(x.Error())
	case fmt.Stringer:
		f.str(x.String())
	default:
		f.str(fmt.Sprint(x))
	}
}

// Digester is implemented by messages that want their content, not only
// their arrival, to count in the run's fingerprint.
type Digester interface{ Digest() uint64 }

// digester is msg.(Digester) with its answer cached for the last dynamic
// type asked about: a type assertion to an interface looks the type up in
// a table on every delivery, where a world mostly sends one or a few
// types. It holds the type and, when the type is a Digester, the method
// table (itab) that makes an interface value of it; both live as long as
// the program.
type digester struct{ typ, tab unsafe.Pointer }

// of reports whether msg is a Digester.
func (c *digester) of(msg any) bool {
	if (*eface)(unsafe.Pointer(&msg)).typ != c.typ {
		c.learn(msg)
	}
	return c.tab != nil
}

// learn caches msg's type.
//
//go:noinline
func (c *digester) learn(msg any) {
	c.typ, c.tab = (*eface)(unsafe.Pointer(&msg)).typ, nil
	if dg, ok := msg.(Digester); ok {
		c.tab = (*eface)(unsafe.Pointer(&dg)).typ
	}
}

// digest is msg.(Digester).Digest() for the msg of's last call, which said yes.
func (c *digester) digest(msg any) uint64 {
	dg := eface{c.tab, (*eface)(unsafe.Pointer(&msg)).data}
	return (*(*Digester)(unsafe.Pointer(&dg))).Digest()
}

// eface is an interface value's layout: the dynamic type, or for a
// non-empty interface the method table, and the data word.
type eface struct{ typ, data unsafe.Pointer }

// TraceRecord is one line of the optional full trace.
type TraceRecord struct {
	T      int64    `json:"t"` // virtual ns
	Kind   string   `json:"kind"`
	Node   NodeID   `json:"node,omitempty"`
	Peer   NodeID   `json:"peer,omitempty"`
	Conn   ConnID   `json:"conn,omitempty"`
	Event  string   `json:"event,omitempty"`
	Msg    string   `json:"msg,omitempty"`
	Fields []string `json:"fields,omitempty"`
}

// tracer writes the full trace as JSON lines when enabled.
type tracer struct {
	enc *json.Encoder
	err error
}

func newTracer(w io.Writer) *tracer {
	if w == nil {
		return nil
	}
	return &tracer{enc: json.NewEncoder(w)}
}

func (t *tracer) write(r *TraceRecord) {
	if t == nil || t.err != nil {
		return
	}
	t.err = t.enc.Encode(r)
}

func fieldStrings(fields []any) []string {
	if len(fields) == 0 {
		return nil
	}
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = fmt.Sprint(f)
	}
	return out
}
