package raftkv

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// OpKind names a key-value operation.
type OpKind uint8

const (
	// OpGet reads a key (linearizable, through ReadIndex).
	OpGet OpKind = iota + 1
	// OpPut sets a key.
	OpPut
	// OpDelete removes a key; Result.Found says whether it existed.
	OpDelete
	// OpCAS sets Key to Value if it currently holds Expected (or, with
	// ExpectAbsent, if it is absent). Result.OK says whether it swapped.
	OpCAS
	// OpAppend appends Value to the key's value (absent counts as "") and
	// returns the new value. Not idempotent, so it exposes double
	// application (Jepsen's append workloads).
	OpAppend
)

func (k OpKind) String() string {
	switch k {
	case OpGet:
		return "get"
	case OpPut:
		return "put"
	case OpDelete:
		return "delete"
	case OpCAS:
		return "cas"
	case OpAppend:
		return "append"
	}
	return fmt.Sprintf("op(%d)", uint8(k))
}

// Op is one key-value operation. Values are strings; an absent key is
// distinct from one holding "".
type Op struct {
	Kind         OpKind
	Key          string
	Value        string // Put, CAS (the new value), Append (the suffix)
	Expected     string // CAS
	ExpectAbsent bool   // CAS: swap only if the key is absent
}

func (o Op) String() string {
	switch o.Kind {
	case OpGet, OpDelete:
		return fmt.Sprintf("%s(%q)", o.Kind, o.Key)
	case OpCAS:
		if o.ExpectAbsent {
			return fmt.Sprintf("cas(%q, absent -> %q)", o.Key, o.Value)
		}
		return fmt.Sprintf("cas(%q, %q -> %q)", o.Key, o.Expected, o.Value)
	}
	return fmt.Sprintf("%s(%q, %q)", o.Kind, o.Key, o.Value)
}

// IsRead reports whether the op only reads.
func (o Op) IsRead() bool { return o.Kind == OpGet }

// Result is the outcome of an Op.
//
// Err == nil: the op completed. Get: Found and Value. Put: OK. Delete: OK,
// Found says whether the key existed. CAS: OK says whether it swapped;
// Found and Value give the value the key held when it was evaluated.
// Append: OK, Value is the new value.
//
// Err != nil: for a write (Put, Delete, CAS, Append), the outcome is
// unknown — it may or may not have been applied, and may still be applied
// later (at most once); record it as indeterminate. For a Get, it read
// nothing.
type Result struct {
	OK    bool
	Found bool
	Value string
	Err   error
}

func (r Result) String() string {
	if r.Err != nil {
		return "error: " + r.Err.Error()
	}
	if !r.Found {
		return fmt.Sprintf("ok=%v absent", r.OK)
	}
	return fmt.Sprintf("ok=%v %q", r.OK, r.Value)
}

// EncodeOp encodes an op as a KV command or query:
//
//	u8 kind, u8 flags (1: expect absent), uvarint-prefixed key, value, expected
func EncodeOp(o Op) []byte {
	b := make([]byte, 0, 2+3*binary.MaxVarintLen32+len(o.Key)+len(o.Value)+len(o.Expected))
	flags := byte(0)
	if o.ExpectAbsent {
		flags = 1
	}
	b = append(b, byte(o.Kind), flags)
	b = appendString(b, o.Key)
	b = appendString(b, o.Value)
	return appendString(b, o.Expected)
}

var errBadOp = errors.New("raftkv: malformed kv op")

// DecodeOp decodes an op encoded by EncodeOp.
func DecodeOp(b []byte) (Op, error) {
	if len(b) < 2 {
		return Op{}, errBadOp
	}
	o := Op{Kind: OpKind(b[0]), ExpectAbsent: b[1]&1 != 0}
	r := b[2:]
	var ok bool
	if o.Key, r, ok = readString(r); !ok {
		return Op{}, errBadOp
	}
	if o.Value, r, ok = readString(r); !ok {
		return Op{}, errBadOp
	}
	if o.Expected, _, ok = readString(r); !ok {
		return Op{}, errBadOp
	}
	return o, nil
}

// KV responses: u8 flags (1: ok, 2: found), uvarint-prefixed value.
func encodeKVResult(ok, found bool, value string) []byte {
	flags := byte(0)
	if ok {
		flags |= 1
	}
	if found {
		flags |= 2
	}
	b := make([]byte, 0, 1+binary.MaxVarintLen32+len(value))
	b = append(b, flags)
	return appendString(b, value)
}

// DecodeResult decodes a KV state machine response.
func DecodeResult(b []byte) Result {
	if len(b) < 1 {
		return Result{Err: errBadOp}
	}
	v, _, ok := readString(b[1:])
	if !ok {
		return Result{Err: errBadOp}
	}
	return Result{OK: b[0]&1 != 0, Found: b[0]&2 != 0, Value: v}
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func readString(b []byte) (string, []byte, bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return "", nil, false
	}
	return string(b[k : k+int(n)]), b[k+int(n):], true
}

// KV is the key-value state machine: a map from string keys to string
// values.
type KV struct {
	data map[string]string
}

// NewKV returns an empty KV state machine.
func NewKV() *KV { return &KV{data: map[string]string{}} }

// NewKVStateMachine is a ServerConfig.NewStateMachine for the KV store.
func NewKVStateMachine() StateMachine { return NewKV() }

// Apply executes a write op.
func (kv *KV) Apply(_ uint64, cmd []byte) []byte {
	o, err := DecodeOp(cmd)
	if err != nil {
		return encodeKVResult(false, false, "")
	}
	cur, found := kv.data[o.Key]
	switch o.Kind {
	case OpPut:
		kv.data[o.Key] = o.Value
		return encodeKVResult(true, true, o.Value)
	case OpDelete:
		delete(kv.data, o.Key)
		return encodeKVResult(true, found, cur)
	case OpCAS:
		if (o.ExpectAbsent && !found) || (!o.ExpectAbsent && found && cur == o.Expected) {
			kv.data[o.Key] = o.Value
			return encodeKVResult(true, found, cur)
		}
		return encodeKVResult(false, found, cur)
	case OpAppend:
		v := cur + o.Value
		kv.data[o.Key] = v
		return encodeKVResult(true, true, v)
	case OpGet:
		return encodeKVResult(true, found, cur)
	}
	return encodeKVResult(false, false, "")
}

// Query answers a Get.
func (kv *KV) Query(q []byte) []byte {
	o, err := DecodeOp(q)
	if err != nil || o.Kind != OpGet {
		return encodeKVResult(false, false, "")
	}
	v, found := kv.data[o.Key]
	return encodeKVResult(true, found, v)
}

// Get reads a key directly, for tests and checkers.
func (kv *KV) Get(key string) (string, bool) {
	v, ok := kv.data[key]
	return v, ok
}

// Len returns the number of keys.
func (kv *KV) Len() int { return len(kv.data) }

// Snapshot encodes the store, keys sorted: uvarint n, then n (key, value).
func (kv *KV) Snapshot() []byte {
	keys := make([]string, 0, len(kv.data))
	for k := range kv.data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	size := binary.MaxVarintLen64
	for _, k := range keys {
		size += 2*binary.MaxVarintLen32 + len(k) + len(kv.data[k])
	}
	b := make([]byte, 0, size)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendString(b, k)
		b = appendString(b, kv.data[k])
	}
	return b
}

// Restore replaces the store with a snapshot.
func (kv *KV) Restore(b []byte) error {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return errors.New("raftkv: kv snapshot: bad count")
	}
	r := b[k:]
	data := make(map[string]string, n)
	for i := uint64(0); i < n; i++ {
		key, rest, ok := readString(r)
		if !ok {
			return fmt.Errorf("raftkv: kv snapshot: bad key %d", i)
		}
		val, rest, ok := readString(rest)
		if !ok {
			return fmt.Errorf("raftkv: kv snapshot: bad value %d", i)
		}
		data[key] = val
		r = rest
	}
	kv.data = data
	return nil
}
