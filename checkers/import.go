package checkers

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/sofasim/sofasim/checkers/elle"
)

// Formats lists the history formats [Parse] reads.
func Formats() []string { return []string{"json", "jepsen", "edn"} }

// NilRead says what an :ok read that returned nil means.
type NilRead string

const (
	// NilBySource takes each source's meaning: unknown for EDN histories
	// (Knossos's and Jepsen's register models), absent for Jepsen logs
	// (porcupine's etcd tests) and JSON.
	NilBySource NilRead = ""
	// NilUnknown: the value read is not known, so the read is legal in
	// every state and constrains nothing; it is left out of the check.
	NilUnknown NilRead = "unknown"
	// NilAbsent: the key was absent (never written, or deleted).
	NilAbsent NilRead = "absent"
)

// ImportOptions choose how a history file is read.
type ImportOptions struct {
	Format  string  // json, jepsen, edn; "" or "auto" detects it
	NilRead NilRead // see [NilRead]
	// Progress, when set, is called now and then with the number of
	// events read so far, for long imports.
	Progress func(events int)
}

// Imported is a history as read from a file. A history of :txn operations
// fills Txns and leaves History without ops.
type Imported struct {
	Format  string
	History History
	Txns    []elle.Txn
	// KnossosTxns is set when micro-ops are spelt :read and :write, as for
	// Knossos's multi-register model, rather than Elle's :r and :w.
	KnossosTxns bool
	// Events counts the invocations and completions read; NilReads the :ok
	// reads of nil left out as unknown; Nemesis the nemesis events skipped.
	Events, NilReads, Nemesis int
}

// Transactional reports whether the history's operations are transactions.
func (im Imported) Transactional() bool { return im.Txns != nil }

// Parse reads a register or key-value history in the named format (see
// [Formats]); "" or "auto" detects it with [DetectFormat]. Blank input
// detected automatically is an empty history. Nil reads take their
// source's meaning (see [NilBySource]).
func Parse(r io.Reader, format string) (History, error) {
	im, err := Import(r, ImportOptions{Format: format})
	if err != nil {
		return History{}, err
	}
	if im.Transactional() {
		return History{}, fmt.Errorf("%s: a history of :txn transactions: check it with a transactional model", im.Format)
	}
	return im.History, nil
}

// detectWindow is how much of a file format detection may look at.
const detectWindow = 4 << 20

// Import reads a history, streaming: memory grows with the operations
// kept, not with the file.
func Import(r io.Reader, opts ImportOptions) (Imported, error) {
	format := opts.Format
	br := bufio.NewReaderSize(r, detectWindow)
	if format == "" || format == "auto" {
		head, err := peekHead(br)
		if err != nil {
			return Imported{}, err
		}
		if len(bytes.TrimSpace(head)) == 0 {
			return Imported{Format: "empty"}, nil
		}
		if format, err = DetectFormat(head); err != nil {
			return Imported{}, err
		}
	}
	var im Imported
	var err error
	switch format {
	case "json":
		im.History, err = ParseJSON(br)
	case "jepsen":
		im, err = importJepsen(br, opts)
	case "edn":
		im, err = importEDN(br, opts)
	default:
		return Imported{}, fmt.Errorf("unknown history format %q (available: %s)", format, strings.Join(Formats(), ", "))
	}
	im.Format = format
	return im, err
}

// peekHead returns the first bytes of the input (up to detectWindow)
// without consuming them.
func peekHead(br *bufio.Reader) ([]byte, error) {
	head, err := br.Peek(detectWindow)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return head, nil
}

var (
	jepsenBare   = regexp.MustCompile(`^(\d+|:nemesis)\s+:`)
	otherLogLine = regexp.MustCompile(`^(\d{4}-\d\d-\d\d|(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s)`)
)

// DetectFormat tells json, jepsen or edn from the first line that shows
// it: JSON and EDN both open a map, with a "string" or a :keyword first;
// EDN may also open a vector or list of ops, or a tagged record;
// Jepsen's op lines come from the jepsen.util logger (other log lines
// before them are passed over).
func DetectFormat(data []byte) (string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, ";"):
			continue
		case strings.HasPrefix(line, "{"):
			rest := bytes.TrimLeft(data[bytes.IndexByte(data, '{')+1:], " \t\r\n")
			switch {
			case len(rest) == 0:
				return "", fmt.Errorf("cannot tell the history format: input ends after %q", "{")
			case rest[0] == '"' || rest[0] == '}':
				return "json", nil
			case rest[0] == ':':
				return "edn", nil
			}
			return "", fmt.Errorf("line %d: cannot tell the history format: a map that is neither JSON nor EDN with keywords", n+1)
		case strings.HasPrefix(line, "[") || strings.HasPrefix(line, "(") || strings.HasPrefix(line, "#"):
			return "edn", nil // a vector or list of ops, a tagged record, a #_ discard
		case strings.Contains(line, "jepsen.util") || jepsenBare.MatchString(line):
			return "jepsen", nil
		case otherLogLine.MatchString(line):
			continue
		}
		return "", fmt.Errorf("line %d: cannot tell the history format (json, jepsen or edn) from %q", n+1, clip(line))
	}
	return "", fmt.Errorf("cannot tell the history format of blank input")
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// lines calls fn with each line and its 1-based number. A line longer than
// 16 MiB is an error, not a panic or a silent cut.
func lines(r io.Reader, fn func(n int, line string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		if err := fn(n, strings.TrimSuffix(sc.Text(), "\r")); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", n+1, err)
	}
	return nil
}

// event is one invocation or completion by a process, from a line of a
// Jepsen log or a map of an EDN history.
type event struct {
	line    int   // where it starts, for messages
	at      int64 // its place in the history: the stamp ops get
	process int
	typ     string // invoke, ok, fail, info
	f       string
	key     string
	value   ednValue
}

var supportedF = []string{KindGet, KindPut, KindAppend, KindDelete, KindCAS, KindRead, KindWrite, KindAcquire, KindRelease}

// builder turns events into a History with Jepsen's and Knossos's
// semantics: a process runs one op at a time; :ok completes it, :fail
// means it did not happen (dropped), :info means its outcome is unknown
// (open to the end: it may take effect at any time after its call, and
// Jepsen gives the crashed client a new process number). Ops still
// pending at the end are unknown too. Stamps are the events' places in
// the history, which Jepsen writes in real-time order (its :time field is
// not monotonic across processes, and Knossos ignores it too).
type builder struct {
	ops      []Op
	dropped  []bool
	lines    []int       // line of each op's invocation
	retLines []int       // line of each op's completion (0: none)
	pending  map[int]int // process -> op index awaiting completion
	nilRead  NilRead     // NilUnknown or NilAbsent
	nilReads int
}

func (b *builder) add(e event) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("line %d: %s", e.line, fmt.Sprintf(format, args...))
	}
	if !slices.Contains(supportedF, e.f) {
		return fail("unsupported :f :%s (supported: :%s, or :txn for a whole history of transactions)", e.f, strings.Join(supportedF, ", :"))
	}
	if b.pending == nil {
		b.pending = map[int]int{}
	}
	idx, busy := b.pending[e.process]
	if e.typ == "invoke" {
		if busy {
			return fail("process %d invokes :%s while its :%s from line %d is still pending", e.process, e.f, b.ops[idx].Input.Kind, b.lines[idx])
		}
		in := Input{Kind: e.f}
		switch e.f {
		case KindPut, KindAppend, KindWrite:
			v, err := scalar(e.value)
			if err != nil {
				return fail(":%s value: %v", e.f, err)
			}
			in.Value = v
		case KindCAS:
			v := e.value
			if (v.kind != ednVector && v.kind != ednList) || len(v.items) != 2 {
				return fail(":cas value must be [expected new], not %s", v)
			}
			if v.items[0].kind == ednNil {
				in.ExpectAbsent = true
			} else if exp, err := scalar(v.items[0]); err != nil {
				return fail(":cas expected value: %v", err)
			} else {
				in.Expected = exp
			}
			nv, err := scalar(v.items[1])
			if err != nil {
				return fail(":cas new value: %v", err)
			}
			in.Value = nv
		}
		b.pending[e.process] = len(b.ops)
		b.ops = append(b.ops, Op{Client: e.process, Key: e.key, Input: in, Call: e.at})
		b.dropped = append(b.dropped, false)
		b.lines = append(b.lines, e.line)
		b.retLines = append(b.retLines, 0)
		return nil
	}
	if !busy && e.typ == "info" {
		return nil // an :info with nothing pending (a crash report) tells nothing
	}
	if !busy {
		return fail("process %d completes :%s (:%s) but has no pending invocation", e.process, e.f, e.typ)
	}
	op := &b.ops[idx]
	if op.Input.Kind != e.f {
		return fail("process %d completes :%s but invoked :%s at line %d", e.process, e.f, op.Input.Kind, b.lines[idx])
	}
	delete(b.pending, e.process)
	b.retLines[idx] = e.line
	switch e.typ {
	case "ok":
		op.Return = e.at
		switch e.f {
		case KindGet, KindRead:
			if e.value.kind == ednNil && b.nilRead == NilUnknown {
				// Legal in every state: it constrains nothing.
				b.dropped[idx] = true
				b.nilReads++
			} else if e.value.kind != ednNil {
				v, err := scalar(e.value)
				if err != nil {
					return fail(":%s result: %v", e.f, err)
				}
				op.Output = Output{Value: v, Found: true}
			}
		case KindCAS:
			op.Output.OK = true
		}
	case "fail":
		b.dropped[idx] = true
	case "info":
		op.Unknown, op.Return = true, e.at
	default:
		return fail("unknown :type :%s (want :invoke, :ok, :fail or :info)", e.typ)
	}
	return nil
}

// history finishes the build: ops still pending become unknown, dropped
// ops go and ids are renumbered.
func (b *builder) history() History {
	for _, idx := range b.pending {
		b.ops[idx].Unknown = true
	}
	h := History{Model: "cas-register"}
	kept := b.ops[:0] // in place: the ops are most of the memory
	for i, op := range b.ops {
		if b.dropped[i] {
			continue
		}
		switch op.Input.Kind {
		case KindGet, KindPut, KindAppend, KindDelete:
			h.Model = "kv"
		case KindAcquire, KindRelease:
			h.Model = "mutex"
		}
		if b.retLines[i] == 0 {
			op.Return = 0 // never completed
		}
		op.ID = len(kept)
		kept = append(kept, op)
	}
	if len(kept) > 0 {
		// An exact copy: append's doubling may have left half the
		// backing array empty, and the check holds the ops to the end.
		h.Ops = slices.Clone(kept)
	}
	b.ops = nil
	return h
}

// scalar reads a key or register value: a string as its text, an integer
// as its decimal text, a keyword as its name, anything else as printed.
// Strings are copied, so the op's text can be freed.
func scalar(v ednValue) (string, error) {
	switch v.kind {
	case ednString:
		return strings.Clone(v.text), nil
	case ednInt:
		if n, ok := v.int64(); ok {
			return strconv.FormatInt(n, 10), nil
		}
		return strings.TrimSuffix(v.text, "N"), nil
	case ednKeyword:
		return strings.Clone(v.text), nil
	case ednNil:
		return "", fmt.Errorf("want a value, not nil")
	}
	return v.String(), nil
}
