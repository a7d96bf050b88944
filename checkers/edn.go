package checkers

// A small reader for the EDN values found in Jepsen histories and logs.
// Written here rather than imported: the one Go EDN library
// (olympos.io/encoding/edn) has had no release since 2020 and silently
// accepts duplicate keys and trailing text, while this subset is short,
// gives column numbers, limits nesting and is fuzzed with the importers.
// It reads all of EDN's syntax (collections, tags, #_ discards, comments)
// so that fields we ignore never stop an import.

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

type ednKind uint8

const (
	ednNil ednKind = iota
	ednBool
	ednInt
	ednFloat
	ednString
	ednChar
	ednKeyword
	ednSymbol
	ednList
	ednVector
	ednMap // items alternate key, value
	ednSet
	ednTagged // text is the tag, items[0] the value
)

type ednValue struct {
	kind  ednKind
	text  string // string contents, keyword or symbol name (no ':'), number literal, tag
	items []ednValue
}

// String prints v back as EDN, for messages and for comparing map keys.
func (v ednValue) String() string {
	switch v.kind {
	case ednNil:
		return "nil"
	case ednString:
		return strconv.Quote(v.text)
	case ednChar:
		return `\` + v.text
	case ednKeyword:
		return ":" + v.text
	case ednTagged:
		return "#" + v.text + " " + v.items[0].String()
	case ednList, ednVector, ednMap, ednSet:
		brackets := map[ednKind][2]string{ednList: {"(", ")"}, ednVector: {"[", "]"}, ednMap: {"{", "}"}, ednSet: {"#{", "}"}}[v.kind]
		parts := make([]string, len(v.items))
		for i, it := range v.items {
			parts[i] = it.String()
		}
		return brackets[0] + strings.Join(parts, " ") + brackets[1]
	}
	return v.text
}

func (v ednValue) isKeyword(name string) bool { return v.kind == ednKeyword && v.text == name }

// int64 reads an integer (with or without EDN's N suffix).
func (v ednValue) int64() (int64, bool) {
	if v.kind != ednInt {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(v.text, "N"), 10, 64)
	return n, err == nil
}

// get finds a map entry by keyword name.
func (v ednValue) get(name string) (ednValue, bool) {
	for i := 0; i+1 < len(v.items); i += 2 {
		if v.items[i].isKeyword(name) {
			return v.items[i+1], true
		}
	}
	return ednValue{}, false
}

const ednMaxDepth = 64

type ednReader struct {
	s     string
	pos   int
	depth int
}

func (r *ednReader) errorf(format string, args ...any) error {
	return fmt.Errorf("column %d: %s", r.pos+1, fmt.Sprintf(format, args...))
}

func (r *ednReader) atEnd() bool { return r.pos >= len(r.s) }

// skip passes whitespace, commas, ; comments and #_ discarded values.
func (r *ednReader) skip() error {
	for !r.atEnd() {
		switch c := r.s[r.pos]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '\f' || c == '\v':
			r.pos++
		case c == ';':
			for !r.atEnd() && r.s[r.pos] != '\n' {
				r.pos++
			}
		case strings.HasPrefix(r.s[r.pos:], "#_"):
			r.pos += 2
			err := r.nest()
			if err == nil {
				_, err = r.value()
			}
			r.depth--
			if err != nil {
				return err
			}
		default:
			return nil
		}
	}
	return nil
}

func isDelimiter(c byte) bool {
	return strings.IndexByte(" \t\n\r\f\v,()[]{}\";", c) >= 0
}

func (r *ednReader) token() string {
	start := r.pos
	for !r.atEnd() && !isDelimiter(r.s[r.pos]) {
		r.pos++
	}
	return r.s[start:r.pos]
}

// value reads one value, after skipping what precedes it.
func (r *ednReader) value() (ednValue, error) {
	if err := r.skip(); err != nil {
		return ednValue{}, err
	}
	if r.atEnd() {
		return ednValue{}, r.errorf("unexpected end of line")
	}
	switch c := r.s[r.pos]; {
	case c == '(':
		r.pos++
		return r.collection(ednList, ')')
	case c == '[':
		r.pos++
		return r.collection(ednVector, ']')
	case c == '{':
		r.pos++
		return r.collection(ednMap, '}')
	case c == ')' || c == ']' || c == '}':
		return ednValue{}, r.errorf("unexpected %q", c)
	case c == '"':
		return r.str()
	case c == '\\':
		return r.char()
	case c == '#':
		return r.dispatch()
	case c == ':':
		start := r.pos
		r.pos++
		name := r.token()
		if name == "" || strings.HasPrefix(name, ":") {
			r.pos = start
			return ednValue{}, r.errorf("bad keyword")
		}
		return ednValue{kind: ednKeyword, text: name}, nil
	}
	start := r.pos
	tok := r.token()
	if tok == "" {
		return ednValue{}, r.errorf("unexpected %q", r.s[r.pos])
	}
	switch tok {
	case "nil":
		return ednValue{kind: ednNil}, nil
	case "true", "false":
		return ednValue{kind: ednBool, text: tok}, nil
	}
	first := tok[0]
	if first >= '0' && first <= '9' || (first == '+' || first == '-') && len(tok) > 1 && tok[1] >= '0' && tok[1] <= '9' {
		kind, ok := numberKind(tok)
		if !ok {
			r.pos = start
			return ednValue{}, r.errorf("bad number %q", tok)
		}
		return ednValue{kind: kind, text: tok}, nil
	}
	return ednValue{kind: ednSymbol, text: tok}, nil
}

// numberKind tells an EDN integer (optional N) from a float (optional M).
func numberKind(tok string) (ednKind, bool) {
	s := strings.TrimLeft(tok, "+-")
	if len(tok)-len(s) > 1 {
		return 0, false
	}
	if i := strings.TrimSuffix(s, "N"); i != "" && strings.Trim(i, "0123456789") == "" {
		return ednInt, true
	}
	f := strings.TrimSuffix(s, "M")
	if f == "" || strings.ContainsAny(f, "_xXpPiInN") {
		return 0, false
	}
	if _, err := strconv.ParseFloat(f, 64); err != nil && !strings.Contains(err.Error(), "range") {
		return 0, false
	}
	return ednFloat, true
}

// nest enters one level of nesting; the caller leaves it with depth--.
func (r *ednReader) nest() error {
	r.depth++
	if r.depth > ednMaxDepth {
		return r.errorf("nesting deeper than %d", ednMaxDepth)
	}
	return nil
}

func (r *ednReader) collection(kind ednKind, close byte) (ednValue, error) {
	defer func() { r.depth-- }()
	if err := r.nest(); err != nil {
		return ednValue{}, err
	}
	v := ednValue{kind: kind}
	for {
		if err := r.skip(); err != nil {
			return ednValue{}, err
		}
		if r.atEnd() {
			return ednValue{}, r.errorf("missing %q", close)
		}
		if r.s[r.pos] == close {
			r.pos++
			break
		}
		it, err := r.value()
		if err != nil {
			return ednValue{}, err
		}
		v.items = append(v.items, it)
	}
	if kind == ednMap && len(v.items)%2 != 0 {
		return ednValue{}, r.errorf("map has a key without a value")
	}
	if kind == ednMap || kind == ednSet {
		step := 1
		if kind == ednMap {
			step = 2
		}
		seen := map[string]bool{}
		for i := 0; i < len(v.items); i += step {
			k := v.items[i].String()
			if seen[k] {
				return ednValue{}, r.errorf("duplicate key %s", k)
			}
			seen[k] = true
		}
	}
	return v, nil
}

func (r *ednReader) str() (ednValue, error) {
	start := r.pos
	r.pos++ // opening quote
	var b strings.Builder
	for !r.atEnd() {
		c := r.s[r.pos]
		switch c {
		case '"':
			r.pos++
			return ednValue{kind: ednString, text: b.String()}, nil
		case '\\':
			if r.pos+1 >= len(r.s) {
				r.pos = start
				return ednValue{}, r.errorf("unterminated string")
			}
			e := r.s[r.pos+1]
			r.pos += 2
			switch e {
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'n':
				b.WriteByte('\n')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case '\\', '"':
				b.WriteByte(e)
			case 'u':
				if r.pos+4 > len(r.s) {
					return ednValue{}, r.errorf(`bad \u escape`)
				}
				n, err := strconv.ParseUint(r.s[r.pos:r.pos+4], 16, 32)
				if err != nil {
					return ednValue{}, r.errorf(`bad \u escape`)
				}
				b.WriteRune(rune(n))
				r.pos += 4
			default:
				r.pos -= 2
				return ednValue{}, r.errorf("bad escape \\%c in string", e)
			}
		default:
			b.WriteByte(c)
			r.pos++
		}
	}
	r.pos = start
	return ednValue{}, r.errorf("unterminated string")
}

func (r *ednReader) char() (ednValue, error) {
	start := r.pos
	r.pos++ // backslash
	if r.atEnd() {
		r.pos = start
		return ednValue{}, r.errorf("bad character literal")
	}
	_, size := utf8.DecodeRuneInString(r.s[r.pos:])
	r.pos += size
	name := r.s[start+1:r.pos] + r.token()
	switch {
	case utf8.RuneCountInString(name) == 1,
		name == "newline", name == "return", name == "space", name == "tab",
		len(name) == 5 && name[0] == 'u' && strings.Trim(name[1:], "0123456789abcdefABCDEF") == "":
		return ednValue{kind: ednChar, text: name}, nil
	}
	r.pos = start
	return ednValue{}, r.errorf(`bad character literal \%s`, name)
}

func (r *ednReader) dispatch() (ednValue, error) {
	start := r.pos
	r.pos++ // '#'
	if !r.atEnd() && r.s[r.pos] == '{' {
		r.pos++
		return r.collection(ednSet, '}')
	}
	tag := r.token()
	if tag == "" || !(tag[0] >= 'a' && tag[0] <= 'z' || tag[0] >= 'A' && tag[0] <= 'Z') {
		r.pos = start
		return ednValue{}, r.errorf("bad # dispatch")
	}
	defer func() { r.depth-- }()
	if err := r.nest(); err != nil {
		return ednValue{}, err
	}
	inner, err := r.value()
	if err != nil {
		return ednValue{}, err
	}
	return ednValue{kind: ednTagged, text: tag, items: []ednValue{inner}}, nil
}
