package checkers

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// Formats lists the history formats [Parse] reads.
func Formats() []string { return []string{"json", "jepsen", "edn"} }

// Parse reads a history in the named format (see [Formats]); "" or "auto"
// detects it with [DetectFormat]. Blank input detected automatically is an
// empty history: both line formats read it so.
func Parse(r io.Reader, format string) (History, error) {
	if format != "" && format != "auto" {
		switch format {
		case "json":
			return ParseJSON(r)
		case "jepsen":
			return ParseJepsen(r)
		case "edn":
			return ParseEDN(r)
		}
		return History{}, fmt.Errorf("unknown history format %q (available: %s)", format, strings.Join(Formats(), ", "))
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return History{}, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return History{}, nil
	}
	format, err = DetectFormat(data)
	if err != nil {
		return History{}, err
	}
	return Parse(bytes.NewReader(data), format)
}

var (
	jepsenBare   = regexp.MustCompile(`^(\d+|:nemesis)\s+:`)
	otherLogLine = regexp.MustCompile(`^(\d{4}-\d\d-\d\d|(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s)`)
)

// DetectFormat tells json, jepsen or edn from the first line that shows
// it: JSON and EDN both open a map, with a "string" or a :keyword first;
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

// event is one line of a Jepsen-style history: an invocation or a
// completion by a process.
type event struct {
	line    int
	process int
	typ     string // invoke, ok, fail, info
	f       string
	key     string
	value   ednValue
	time    int64
	hasTime bool
}

var supportedF = []string{KindGet, KindPut, KindAppend, KindDelete, KindCAS, KindRead, KindWrite}

// builder turns events into a History with Jepsen's semantics: a process
// runs one op at a time; :ok completes it, :fail means it did not happen
// (dropped), :info means its outcome is unknown (open to the end, and
// Jepsen moves on with a new process number). Ops still pending at the end
// are unknown too.
type builder struct {
	ops      []Op
	dropped  []bool
	lines    []int       // line of each op's invocation
	retLines []int       // line of each op's completion (0: none)
	pending  map[int]int // process -> op index awaiting completion
	untimed  bool        // some event has no :time, so lines stand in for time
}

func (b *builder) add(e event) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("line %d: %s", e.line, fmt.Sprintf(format, args...))
	}
	if !slices.Contains(supportedF, e.f) {
		return fail("unsupported :f :%s (supported: :%s)", e.f, strings.Join(supportedF, ", :"))
	}
	if b.pending == nil {
		b.pending = map[int]int{}
	}
	if !e.hasTime {
		b.untimed = true
	}
	at := e.time
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
		b.ops = append(b.ops, Op{Client: e.process, Key: e.key, Input: in, Call: at})
		b.dropped = append(b.dropped, false)
		b.lines = append(b.lines, e.line)
		b.retLines = append(b.retLines, 0)
		return nil
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
		op.Return = at
		switch e.f {
		case KindGet, KindRead:
			if e.value.kind != ednNil {
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
		op.Unknown, op.Return = true, at
	default:
		return fail("unknown :type :%s (want :invoke, :ok, :fail or :info)", e.typ)
	}
	return nil
}

// history finishes the build: ops still pending become unknown, dropped
// ops go, ids are renumbered, and without a :time on every event the line
// numbers become the call and return stamps.
func (b *builder) history() (History, error) {
	for _, idx := range b.pending {
		b.ops[idx].Unknown = true
	}
	h := History{Model: "cas-register"}
	for i, op := range b.ops {
		if b.dropped[i] {
			continue
		}
		switch op.Input.Kind {
		case KindGet, KindPut, KindAppend, KindDelete:
			h.Model = "kv"
		}
		if b.untimed {
			op.Call, op.Return = int64(b.lines[i]), int64(b.retLines[i])
		}
		if b.retLines[i] == 0 {
			op.Return = 0 // never completed
		} else if op.Return < op.Call {
			return History{}, fmt.Errorf("line %d: :time %d precedes the invocation's :time %d (line %d)",
				b.retLines[i], op.Return, op.Call, b.lines[i])
		}
		op.ID = len(h.Ops)
		h.Ops = append(h.Ops, op)
	}
	return h, nil
}

// scalar reads a key or register value: a string, or an integer as its
// decimal text.
func scalar(v ednValue) (string, error) {
	switch v.kind {
	case ednString:
		return v.text, nil
	case ednInt:
		if n, ok := v.int64(); ok {
			return fmt.Sprint(n), nil
		}
		return strings.TrimSuffix(v.text, "N"), nil
	}
	return "", fmt.Errorf("want a string or an integer, not %s", v)
}
