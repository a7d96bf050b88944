package detlint

import (
	"cmp"
	"go/ast"
	"go/token"
	"os"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/tools/go/analysis"
)

const directivePrefix = "//detlint:"

// allow is one //detlint:allow <reason> comment.
type allow struct {
	comment *ast.Comment
	used    bool
}

type lineKey struct {
	file string
	line int
}

// directives reads the //detlint: comments of file, reports the malformed
// ones and records which line each well-formed one allows.
func (w *walker) directives(file *ast.File) {
	var src []byte // read on demand
	for _, group := range file.Comments {
		for _, c := range group.List {
			rest, ok := strings.CutPrefix(c.Text, directivePrefix)
			if !ok {
				continue
			}
			verb, reason := rest, ""
			if i := strings.IndexFunc(rest, unicode.IsSpace); i >= 0 {
				verb, reason = rest[:i], strings.TrimSpace(rest[i:])
			}
			if verb != "allow" {
				w.out = append(w.out, analysisDiag(c, catDirective, "unknown directive //detlint:"+verb+"; the only one is //detlint:allow <reason>"))
				continue
			}
			if reason == "" {
				w.out = append(w.out, analysisDiag(c, catDirective, "//detlint:allow needs a reason: write //detlint:allow <why this is deterministic>"))
				continue
			}
			pos := w.pass.Fset.PositionFor(c.Slash, false)
			line := pos.Line
			if src == nil {
				src = w.source(pos.Filename)
			}
			if aloneOnLine(src, pos) {
				line++ // a comment on its own line allows the next line
			}
			if w.allows == nil {
				w.allows = make(map[lineKey][]*allow)
			}
			key := lineKey{pos.Filename, line}
			w.allows[key] = append(w.allows[key], &allow{comment: c})
			w.allowOrder = append(w.allowOrder, key)
		}
	}
}

// source returns the contents of the named file, or an empty slice.
func (w *walker) source(filename string) []byte {
	read := w.pass.ReadFile
	if read == nil {
		read = os.ReadFile
	}
	if b, err := read(filename); err == nil {
		return b
	}
	return []byte{}
}

// aloneOnLine reports whether only blanks precede the comment at pos on
// its line. Without the source it can only trust a directive in column 1.
func aloneOnLine(src []byte, pos token.Position) bool {
	start := pos.Offset - (pos.Column - 1)
	if len(src) < pos.Offset || start < 0 {
		return pos.Column <= 1
	}
	for _, b := range src[start:pos.Offset] {
		if b != ' ' && b != '\t' {
			return false
		}
	}
	return true
}

// flush reports, in source order, the findings not covered by a
// directive, the malformed directives and the directives that covered
// nothing.
func (w *walker) flush() {
	for _, d := range w.diags {
		pos := w.pass.Fset.PositionFor(d.Pos, false)
		if allows := w.allows[lineKey{pos.Filename, pos.Line}]; len(allows) > 0 {
			for _, a := range allows {
				a.used = true
			}
			continue
		}
		w.out = append(w.out, d)
	}
	for _, key := range w.allowOrder {
		for _, a := range w.allows[key] {
			if !a.used {
				a.used = true // report once even if the key repeats in allowOrder
				w.out = append(w.out, analysisDiag(a.comment, catDirective, "unused //detlint:allow: nothing on this line is a determinism hazard; remove the directive"))
			}
		}
	}
	slices.SortStableFunc(w.out, func(a, b analysis.Diagnostic) int { return cmp.Compare(a.Pos, b.Pos) })
	for _, d := range w.out {
		w.pass.Report(d)
	}
}
