package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fingerprint is a running FNV-1a hash of everything that happened in a run.
// It is seeded by nothing but the run itself (never hash/maphash).
type fingerprint struct{ h uint64 }

func newFingerprint() fingerprint { return fingerprint{h: fnvOffset} }

func (f *fingerprint) u64(v uint64) {
	h := f.h
	for i := 0; i < 8; i++ {
		h ^= v & 0xff
		h *= fnvPrime
		v >>= 8
	}
	f.h = h
}

func (f *fingerprint) str(s string) {
	h := f.h
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	f.h = h
	f.u64(uint64(len(s)))
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
