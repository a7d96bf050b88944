package checkers

import (
	"fmt"
	"io"
)

// ParseEDN reads a Jepsen-style EDN history, one map a line, as in
// porcupine's kv logs:
//
//	{:process 0, :type :invoke, :f :get, :key "k", :value nil}
//	{:process 0, :type :ok, :f :get, :key "k", :value "v"}
//
// :type is :invoke, :ok, :fail (did not happen: dropped) or :info
// (unknown outcome: open to the end). :f is :get, :put, :append, :delete,
// :cas (value [expected new]), :read or :write; :key is optional; a nil
// read means absent. A :time on every line (nanoseconds, as Jepsen's
// history.edn has) gives the stamps, otherwise line numbers do. Other
// keys are ignored, and :nemesis lines skipped.
//
// A history with kv operations (get, put, append, delete) gets Model "kv"
// and, as in porcupine's kv logs, Init "": every key starts empty. One with
// only read, write and cas is a "cas-register" starting absent.
func ParseEDN(r io.Reader) (History, error) {
	var b builder
	err := lines(r, func(n int, line string) error {
		rd := &ednReader{s: line}
		if err := rd.skip(); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if rd.atEnd() {
			return nil // blank or comment
		}
		m, err := rd.value()
		if err == nil {
			err = rd.skip()
		}
		if err == nil && !rd.atEnd() {
			err = rd.errorf("unexpected text after the map")
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if m.kind != ednMap {
			return fmt.Errorf(`line %d: want a map like {:process 0, :type :invoke, :f :get, :key "k", :value nil}, not %s`, n, clip(m.String()))
		}
		e, skip, err := eventFromMap(n, m)
		if err != nil || skip {
			return err
		}
		return b.add(e)
	})
	if err != nil {
		return History{}, fmt.Errorf("edn: %w", err)
	}
	h, err := b.history()
	if err != nil {
		return History{}, fmt.Errorf("edn: %w", err)
	}
	if h.Model == "kv" {
		empty := ""
		h.Init = &empty
	}
	return h, nil
}

// eventFromMap reads the fields of one history map; skip is set for the
// nemesis, whose events are not client operations.
func eventFromMap(n int, m ednValue) (e event, skip bool, err error) {
	e.line = n
	field := func(name string) (ednValue, error) {
		v, ok := m.get(name)
		if !ok {
			return v, fmt.Errorf("line %d: missing :%s", n, name)
		}
		return v, nil
	}
	p, err := field("process")
	if err != nil {
		return e, false, err
	}
	if p.isKeyword("nemesis") {
		return e, true, nil
	}
	if e.process, err = process(p); err != nil {
		return e, false, fmt.Errorf("line %d: :process %w", n, err)
	}
	t, err := field("type")
	if err != nil {
		return e, false, err
	}
	if t.kind != ednKeyword {
		return e, false, fmt.Errorf("line %d: :type must be a keyword, not %s", n, t)
	}
	e.typ = t.text
	switch e.typ {
	case "invoke", "ok", "fail", "info":
	default:
		return e, false, fmt.Errorf("line %d: unknown :type :%s (want :invoke, :ok, :fail or :info)", n, e.typ)
	}
	f, err := field("f")
	if err != nil {
		return e, false, err
	}
	if f.kind != ednKeyword {
		return e, false, fmt.Errorf("line %d: :f must be a keyword, not %s", n, f)
	}
	e.f = f.text
	if k, ok := m.get("key"); ok && k.kind != ednNil {
		if e.key, err = scalar(k); err != nil {
			return e, false, fmt.Errorf("line %d: :key %w", n, err)
		}
	}
	e.value, _ = m.get("value")
	if t, ok := m.get("time"); ok {
		if e.time, e.hasTime = t.int64(); !e.hasTime {
			return e, false, fmt.Errorf("line %d: :time must be an integer, not %s", n, t)
		}
	}
	return e, false, nil
}

// process reads a process number.
func process(v ednValue) (int, error) {
	n, ok := v.int64()
	if !ok || n < 0 || n > 1<<31-1 {
		return 0, fmt.Errorf("must be a non-negative integer or :nemesis, not %s", v)
	}
	return int(n), nil
}
