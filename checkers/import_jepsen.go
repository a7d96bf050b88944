package checkers

import (
	"fmt"
	"io"
	"strings"
	"unicode"
)

// ParseJepsen reads the operation lines of a Jepsen log of one register,
// as in Jepsen's etcd logs:
//
//	INFO  jepsen.util - 3	:invoke	:cas	[1 4]
//	INFO  jepsen.util - 3	:fail	:cas	[1 4]
//
// (the bare form "3 :invoke :cas [1 4]" works too). :invoke, :ok, :fail
// (did not happen: dropped) and :info (unknown outcome: open to the end;
// Jepsen then gives the client a new process number). :f is :read,
// :write or :cas ([expected new]); a read of nil means absent, as in
// porcupine's etcd tests (see [NilRead] to choose otherwise). Lines from
// other loggers are passed over and :nemesis lines skipped; line numbers
// stand in for time. The result has Model "cas-register", starting absent.
func ParseJepsen(r io.Reader) (History, error) {
	im, err := importJepsen(r, ImportOptions{})
	return im.History, err
}

func importJepsen(r io.Reader, opts ImportOptions) (Imported, error) {
	b := builder{nilRead: opts.NilRead}
	if b.nilRead == NilBySource {
		b.nilRead = NilAbsent
	}
	var im Imported
	opLines, otherLines := 0, 0
	err := lines(r, func(n int, line string) error {
		trimmed := strings.TrimSpace(line)
		var rest string
		switch {
		case trimmed == "":
			return nil
		case strings.Contains(trimmed, "jepsen.util"):
			rest = trimmed[strings.Index(trimmed, "jepsen.util")+len("jepsen.util"):]
			rest = strings.TrimLeft(strings.TrimLeft(rest, " \t"), "-:")
		case jepsenBare.MatchString(trimmed):
			rest = trimmed
		default:
			otherLines++
			return nil
		}
		opLines++
		off := len(strings.TrimRightFunc(line, unicode.IsSpace)) - len(rest)
		e, skip, err := jepsenEvent(n, line, off)
		if skip {
			im.Nemesis++
		}
		if err != nil || skip {
			return err
		}
		im.Events++
		if opts.Progress != nil && im.Events%progressEvery == 0 {
			opts.Progress(im.Events)
		}
		return b.add(e)
	})
	if err == nil && opLines == 0 && otherLines > 0 {
		err = fmt.Errorf("no operation lines (like \"INFO  jepsen.util - 3\\t:invoke\\t:cas\\t[1 4]\") in %d lines", otherLines)
	}
	if err != nil {
		return Imported{}, fmt.Errorf("jepsen: %w", err)
	}
	im.History, im.NilReads = b.history(), b.nilReads
	return im, nil
}

// jepsenEvent reads "process :type :f value" from line, starting at off.
// The value of a :fail or :info line (often an error such as :timed-out)
// is not needed and not read.
func jepsenEvent(n int, line string, off int) (e event, skip bool, err error) {
	e.line, e.at = n, int64(n)
	rd := &ednReader{s: line, pos: off}
	wrap := func(err error) error { return fmt.Errorf("line %d: %w", n, err) }
	p, err := rd.value()
	if err != nil {
		return e, false, wrap(err)
	}
	if p.isKeyword("nemesis") {
		return e, true, nil
	}
	if e.process, err = process(p); err != nil {
		return e, false, fmt.Errorf("line %d: process %w", n, err)
	}
	t, err := rd.value()
	if err != nil {
		return e, false, wrap(err)
	}
	switch {
	case t.isKeyword("invoke"), t.isKeyword("ok"), t.isKeyword("fail"), t.isKeyword("info"):
		e.typ = t.text
	default:
		return e, false, fmt.Errorf("line %d: unknown type %s (want :invoke, :ok, :fail or :info)", n, t)
	}
	f, err := rd.value()
	if err != nil {
		return e, false, wrap(err)
	}
	if f.kind != ednKeyword {
		return e, false, fmt.Errorf("line %d: the operation must be a keyword like :read, not %s", n, f)
	}
	e.f = f.text
	if e.typ == "fail" || e.typ == "info" {
		return e, false, nil
	}
	if e.value, err = rd.value(); err == nil {
		err = rd.skip()
	}
	if err == nil && !rd.atEnd() {
		err = rd.errorf("unexpected text after the value")
	}
	if err != nil {
		return e, false, wrap(err)
	}
	return e, false, nil
}
