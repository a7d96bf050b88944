package checkers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// JSONVersion is the version of the JSON history form that WriteJSON
// writes and ParseJSON reads.
const JSONVersion = 1

// WriteJSON writes h in sofasim's JSON history form, one op a line so that
// diffs and error messages point at ops:
//
//	{"version":1,"model":"kv","init":"","ops":[
//	{"id":0,"client":3,"key":"k","input":{"kind":"put","value":"v"},"output":{},"call":100,"return":250},
//	{"id":1,"client":1,"key":"k","input":{"kind":"get"},"output":{"value":"v","found":true},"call":120,"return":300},
//	{"id":2,"client":2,"key":"k","input":{"kind":"append","value":"w"},"output":{},"call":130,"return":0,"unknown":true}
//	]}
//
// Fields at their zero value are left out of input and output; "init" is
// left out when keys start absent. [ParseJSON] reads it back exactly.
// Strings must be valid UTF-8 (JSON cannot carry other bytes exactly).
func WriteJSON(w io.Writer, h History) error {
	if err := checkUTF8(h); err != nil {
		return fmt.Errorf("json: %w", err)
	}
	bw := bufio.NewWriter(w)
	header, err := marshal(struct {
		Version int     `json:"version"`
		Model   string  `json:"model,omitempty"`
		Init    *string `json:"init,omitempty"`
	}{JSONVersion, h.Model, h.Init})
	if err != nil {
		return err
	}
	bw.Write(header[:len(header)-1]) // without the closing brace
	bw.WriteString(`,"ops":[`)
	for i, op := range h.Ops {
		line, err := marshal(op)
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteByte('\n')
		bw.Write(line)
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func checkUTF8(h History) error {
	if !utf8.ValidString(h.Model) || h.Init != nil && !utf8.ValidString(*h.Init) {
		return errors.New("model or init is not valid UTF-8")
	}
	for _, op := range h.Ops {
		for _, s := range []string{op.Key, op.Input.Kind, op.Input.Value, op.Input.Expected, op.Output.Value, op.Output.Err} {
			if !utf8.ValidString(s) {
				return fmt.Errorf("op %d has a string that is not valid UTF-8", op.ID)
			}
		}
	}
	return nil
}

// ParseJSON reads sofasim's JSON history form (see [WriteJSON]) strictly:
// the version must be 1, "version" and "ops" are required, unknown or
// repeated fields are errors, ids must be indexes, and a named model must
// exist and know every op's kind. Errors give the line.
func ParseJSON(r io.Reader) (History, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return History{}, err
	}
	p := jsonParser{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.DisallowUnknownFields()
	h, err := p.parse()
	if err != nil {
		return History{}, fmt.Errorf("json: %w", err)
	}
	return h, nil
}

type jsonParser struct {
	data      []byte
	dec       *json.Decoder
	modelLine int
	opLines   []int
	countedTo int // newlines counts the newlines in data[:countedTo]
	newlines  int
}

// line is the 1-based line of the first token at or after the decoder's
// offset. Offsets only grow, so lines are counted incrementally.
func (p *jsonParser) line() int {
	off := int(p.dec.InputOffset())
	for off < len(p.data) && bytes.IndexByte([]byte(" \t\r\n,:"), p.data[off]) >= 0 {
		off++
	}
	off = min(off, len(p.data))
	if off < p.countedTo {
		return 1 + bytes.Count(p.data[:off], []byte("\n"))
	}
	p.newlines += bytes.Count(p.data[p.countedTo:off], []byte("\n"))
	p.countedTo = off
	return 1 + p.newlines
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("line %d: %s", p.line(), fmt.Sprintf(format, args...))
}

func (p *jsonParser) delim(want json.Delim) error {
	line := p.line()
	tok, err := p.dec.Token()
	if err != nil {
		return fmt.Errorf("line %d: %v", line, cleanJSONError(err))
	}
	if tok != want {
		return fmt.Errorf("line %d: want %q, not %v", line, want, tok)
	}
	return nil
}

func cleanJSONError(err error) error {
	if errors.Is(err, io.EOF) {
		return errors.New("unexpected end of input")
	}
	return err
}

func (p *jsonParser) parse() (History, error) {
	var h History
	if err := p.delim('{'); err != nil {
		return h, err
	}
	seen := map[string]bool{}
	for p.dec.More() {
		line := p.line()
		tok, err := p.dec.Token()
		if err != nil {
			return h, fmt.Errorf("line %d: %v", line, cleanJSONError(err))
		}
		key, _ := tok.(string)
		if seen[key] {
			return h, fmt.Errorf("line %d: repeated field %q", line, key)
		}
		seen[key] = true
		switch key {
		case "version":
			var v int
			if err := p.dec.Decode(&v); err != nil {
				return h, p.errorf("version: %v", cleanJSONError(err))
			}
			if v != JSONVersion {
				return h, fmt.Errorf("line %d: unsupported version %d (this build reads version %d)", line, v, JSONVersion)
			}
		case "model":
			p.modelLine = line
			if err := p.dec.Decode(&h.Model); err != nil {
				return h, p.errorf("model: %v", cleanJSONError(err))
			}
		case "init":
			if err := p.dec.Decode(&h.Init); err != nil {
				return h, p.errorf("init: %v", cleanJSONError(err))
			}
		case "ops":
			if err := p.ops(&h); err != nil {
				return h, err
			}
		default:
			return h, fmt.Errorf("line %d: unknown field %q (want version, model, init, ops)", line, key)
		}
	}
	if err := p.delim('}'); err != nil {
		return h, err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return h, p.errorf("unexpected data after the history")
	}
	switch {
	case !seen["version"]:
		return h, errors.New(`missing "version"`)
	case !seen["ops"]:
		return h, errors.New(`missing "ops"`)
	}
	if h.Model != "" {
		m, err := ModelByName(h.Model)
		if err != nil {
			return h, fmt.Errorf("line %d: %v", p.modelLine, err)
		}
		for i, op := range h.Ops {
			if err := m.validateOp(op); err != nil {
				return h, fmt.Errorf("line %d: %v", p.opLines[i], err)
			}
		}
	}
	return h, nil
}

func (p *jsonParser) ops(h *History) error {
	if err := p.delim('['); err != nil {
		return err
	}
	for p.dec.More() {
		line := p.line()
		i := len(h.Ops)
		var op Op
		if err := p.dec.Decode(&op); err != nil {
			return fmt.Errorf("line %d: op %d: %v", line, i, cleanJSONError(err))
		}
		if err := validateOp(i, op); err != nil {
			return fmt.Errorf("line %d: %v", line, err)
		}
		h.Ops = append(h.Ops, op)
		p.opLines = append(p.opLines, line)
	}
	return p.delim(']')
}
