package checkers

// A reader for the EDN values found in Jepsen and Knossos histories and logs.
// Written here rather than imported: the one Go EDN library
// (olympos.io/encoding/edn) has had no release since 2020 and silently
// accepts duplicate keys and trailing text, while this subset is short,
// gives column numbers, limits nesting and is fuzzed with the importers.
// It reads all of EDN's syntax (collections, tags, #_ discards, comments)
// so that fields we ignore never stop an import.

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
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

// ednReader reads values from one piece of text: a line of a Jepsen log, or
// one element of an EDN history cut out by [ednStream]. When line is set,
// errors give the line and column in the whole file (the text starts at
// line, column col); otherwise only the column, for the caller to add
// the line.
type ednReader struct {
	s         string
	pos       int
	depth     int
	line, col int
	// scratch collects the items of the collections being read (a stack:
	// nested ones above their parent's); arena then holds them. reset
	// reuses both, so values read before a reset must no longer be used:
	// importers copy what they keep.
	scratch, arena []ednValue
}

// reset points the reader at new text, keeping its scratch space.
func (r *ednReader) reset(s string, line, col int) {
	r.s, r.pos, r.depth, r.line, r.col = s, 0, 0, line, col
	r.scratch, r.arena = r.scratch[:0], r.arena[:0]
}

func (r *ednReader) errorf(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if r.line == 0 {
		return fmt.Errorf("column %d: %s", r.pos+1, msg)
	}
	pos := min(r.pos, len(r.s))
	line, col := r.line, r.col+pos
	if nl := strings.LastIndexByte(r.s[:pos], '\n'); nl >= 0 {
		line += strings.Count(r.s[:pos], "\n")
		col = pos - nl
	}
	return fmt.Errorf("line %d: column %d: %s", line, col, msg)
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
	base := len(r.scratch)
	defer func() { r.scratch = r.scratch[:base] }()
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
		r.scratch = append(r.scratch, it)
	}
	if len(r.scratch) > base {
		start := len(r.arena)
		r.arena = append(r.arena, r.scratch[base:]...)
		v.items = r.arena[start:len(r.arena):len(r.arena)]
	}
	if kind == ednMap && len(v.items)%2 != 0 {
		return ednValue{}, r.errorf("map has a key without a value")
	}
	if kind == ednMap || kind == ednSet {
		step := 1
		if kind == ednMap {
			step = 2
		}
		if k, dup := duplicateKey(v.items, step); dup {
			return ednValue{}, r.errorf("duplicate key %s", k)
		}
	}
	return v, nil
}

// duplicateKey finds a repeated key among every step-th item. Small maps
// (every op of a history) compare pairwise, without printing their keys.
func duplicateKey(items []ednValue, step int) (string, bool) {
	n := len(items) / step
	if n <= 16 {
		for i := 0; i < len(items); i += step {
			for j := i + step; j < len(items); j += step {
				if items[i].equal(items[j]) {
					return items[j].String(), true
				}
			}
		}
		return "", false
	}
	seen := make(map[string]bool, n)
	for i := 0; i < len(items); i += step {
		k := items[i].String()
		if seen[k] {
			return k, true
		}
		seen[k] = true
	}
	return "", false
}

// equal compares two values as their printed forms would (collections item
// by item in order, which is enough to find repeated keys as written).
func (v ednValue) equal(w ednValue) bool {
	if v.kind != w.kind || v.text != w.text || len(v.items) != len(w.items) {
		return false
	}
	for i := range v.items {
		if !v.items[i].equal(w.items[i]) {
			return false
		}
	}
	return true
}

func (r *ednReader) str() (ednValue, error) {
	start := r.pos
	r.pos++ // opening quote
	if end := strings.IndexAny(r.s[r.pos:], `"\\`); end >= 0 && r.s[r.pos+end] == '"' {
		text := r.s[r.pos : r.pos+end] // no escapes: the text as it stands
		r.pos += end + 1
		return ednValue{kind: ednString, text: text}, nil
	}
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
				if e < ' ' || e > '~' {
					return ednValue{}, r.errorf("bad escape \\x%02x in string", e)
				}
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
	c, size := utf8.DecodeRuneInString(r.s[r.pos:])
	if unicode.IsSpace(c) || unicode.IsControl(c) {
		r.pos = start
		return ednValue{}, r.errorf("bad character literal")
	}
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

// ednStream cuts an EDN history into its operations without reading the
// whole file: the history may be one vector or list of maps, a stream of
// maps, or several of either, with maps spanning lines, comments and
// discarded values anywhere. next returns the text of one element (a map,
// a tagged record, or whatever stands there, for the caller to judge) with
// the line and column it starts at, so memory holds one operation at a time.
type ednStream struct {
	r         *bufio.Reader
	line, col int  // of the next byte
	inside    bool // inside a top-level vector or list
	closer    byte
	buf       []byte
}

// ednMaxElement bounds one operation's text: more is an error, not an
// allocation as large as the file.
const ednMaxElement = 64 << 20

func newEDNStream(r io.Reader) *ednStream {
	return &ednStream{r: bufio.NewReaderSize(r, 256<<10), line: 1, col: 1}
}

func (s *ednStream) errorf(format string, args ...any) error {
	return fmt.Errorf("line %d: column %d: %s", s.line, s.col, fmt.Sprintf(format, args...))
}

func (s *ednStream) peek() (byte, bool) {
	b, err := s.r.Peek(1)
	if err != nil {
		return 0, false
	}
	return b[0], true
}

// read takes one byte, recording it in buf when keep is set.
func (s *ednStream) read(keep bool) (byte, bool) {
	c, err := s.r.ReadByte()
	if err != nil {
		return 0, false
	}
	if keep {
		s.buf = append(s.buf, c)
	}
	if c == '\n' {
		s.line, s.col = s.line+1, 1
	} else {
		s.col++
	}
	return c, true
}

// skipSpace passes whitespace, commas and comments between elements.
func (s *ednStream) skipSpace(keep bool) {
	for {
		c, ok := s.peek()
		switch {
		case !ok:
			return
		case c == ';':
			for c != '\n' && ok {
				c, ok = s.read(keep)
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '\f' || c == '\v':
			s.read(keep)
		case c == 0xef && s.line == 1 && s.col == 1: // a UTF-8 byte order mark
			if b, _ := s.r.Peek(3); string(b) == "\xef\xbb\xbf" {
				s.r.Discard(3)
				continue
			}
			return
		default:
			return
		}
	}
}

// next returns the next operation's text, io.EOF after the last.
func (s *ednStream) next() (text string, line, col int, err error) {
	for {
		s.skipSpace(false)
		c, ok := s.peek()
		if !ok {
			if s.inside {
				return "", 0, 0, s.errorf("missing %q at the end of the history", s.closer)
			}
			return "", 0, 0, io.EOF
		}
		switch {
		case !s.inside && (c == '[' || c == '('):
			s.read(false)
			s.inside, s.closer = true, map[byte]byte{'[': ']', '(': ')'}[c]
			continue
		case s.inside && c == s.closer:
			s.read(false)
			s.inside = false
			continue
		case c == ')' || c == ']' || c == '}':
			return "", 0, 0, s.errorf("unexpected %q", c)
		}
		line, col = s.line, s.col
		s.buf = s.buf[:0]
		if err := s.element(0); err != nil {
			return "", 0, 0, err
		}
		text = string(s.buf)
		if strings.HasPrefix(text, "#_") {
			continue // discarded: the reader checks its syntax no further
		}
		return text, line, col, nil
	}
}

// element copies one whole element into buf: a collection by its brackets
// (passing over strings, characters and comments inside), a string, a
// tagged or discarded element with its tag, or a token. Its syntax is
// checked later by [ednReader].
func (s *ednStream) element(depth int) error {
	if depth > ednMaxDepth {
		return s.errorf("nesting deeper than %d", ednMaxDepth)
	}
	c, _ := s.peek()
	switch c {
	case '#':
		s.read(true)
		next, ok := s.peek()
		switch {
		case ok && next == '{':
			return s.collection()
		case ok && next == '_':
			s.read(true)
		default:
			s.token() // the tag
		}
		s.buf = append(s.buf, ' ')
		s.skipSpace(false)
		if _, ok := s.peek(); !ok {
			return s.errorf("a tag or #_ with nothing after it")
		}
		return s.element(depth + 1)
	case '(', '[', '{':
		return s.collection()
	case '"':
		s.read(true)
		return s.stringRest()
	case '\\':
		s.read(true)
		s.read(true) // the character itself, even a delimiter
	}
	s.token()
	if len(s.buf) == 0 {
		return s.errorf("unexpected %q", c)
	}
	return nil
}

func (s *ednStream) token() {
	for {
		c, ok := s.peek()
		if !ok || isDelimiter(c) {
			return
		}
		s.read(true)
	}
}

func (s *ednStream) stringRest() error {
	for {
		c, ok := s.read(true)
		switch {
		case !ok:
			return nil // cut short: the reader says where
		case c == '"':
			return nil
		case c == '\\':
			s.read(true)
		}
		if len(s.buf) > ednMaxElement {
			return s.errorf("an operation longer than %d MiB", ednMaxElement>>20)
		}
	}
}

// collection copies a bracketed element, counting brackets of any kind;
// whether they match is for the reader to say.
func (s *ednStream) collection() error {
	open := 0
	for {
		c, ok := s.read(true)
		if !ok {
			return nil // cut short: the reader says which bracket is missing
		}
		switch c {
		case '(', '[', '{':
			open++
			if open > ednMaxDepth+1 {
				return s.errorf("nesting deeper than %d", ednMaxDepth)
			}
		case ')', ']', '}':
			open--
			if open == 0 {
				return nil
			}
		case '"':
			if err := s.stringRest(); err != nil {
				return err
			}
		case '\\':
			s.read(true)
		case ';':
			for c != '\n' && ok {
				c, ok = s.read(true)
			}
		}
		if len(s.buf) > ednMaxElement {
			return s.errorf("an operation longer than %d MiB", ednMaxElement>>20)
		}
	}
}
