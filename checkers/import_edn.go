package checkers

import (
	"fmt"
	"io"
)

// ParseEDN reads a Jepsen or Knossos EDN history of register or key-value
// operations, in any layout: one vector or list of maps (as Knossos and
// Jepsen's history.edn write it), a stream of maps, one map a line (as in
// porcupine's kv logs), maps spanning lines, with ; comments and #_
// discards anywhere and records tagged #jepsen.history.Op:
//
//	[{:process 0, :type :invoke, :f :cas, :value [0 1]}
//	 {:process 0, :type :ok, :f :cas, :value [0 1], :index 1, :time 93}]
//
// :type is :invoke, :ok, :fail (did not happen: dropped) or :info
// (unknown outcome: open to the end). :f is :get, :put, :append, :delete,
// :cas (value [expected new]), :read or :write; :key is optional, and
// jepsen.independent's [key value] tuples give one register per key. An :ok
// read of nil is a read of an unknown value, legal in every state, as in
// Knossos's models (see [NilRead] to choose otherwise). Ops are stamped
// with their place in the history; :time is ignored. Other keys are
// ignored, and events of the :nemesis (or of any keyword process) skipped.
//
// A history with kv operations (get, put, append, delete) gets Model "kv"
// and, as in porcupine's kv logs, Init "": every key starts empty. One with
// only read, write and cas is a "cas-register" starting absent.
func ParseEDN(r io.Reader) (History, error) {
	im, err := importEDN(r, ImportOptions{})
	if err == nil && im.Transactional() {
		err = fmt.Errorf("edn: a history of :txn transactions: check it with a transactional model")
	}
	return im.History, err
}

// progressEvery is how many events pass between progress calls.
const progressEvery = 100_000

func importEDN(r io.Reader, opts ImportOptions) (Imported, error) {
	b := builder{nilRead: opts.NilRead}
	if b.nilRead == NilBySource {
		b.nilRead = NilUnknown
	}
	var tb txnBuilder
	var im Imported
	txn := -1 // unknown until the first client event: 1 for :txn histories
	st := newEDNStream(r)
	rd := &ednReader{}
	wrap := func(err error) (Imported, error) { return Imported{}, fmt.Errorf("edn: %w", err) }
	for {
		text, line, col, err := st.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return wrap(err)
		}
		rd.reset(text, line, col)
		m, err := rd.value()
		if err == nil {
			err = rd.skip()
		}
		if err == nil && !rd.atEnd() {
			err = rd.errorf("unexpected text after the map")
		}
		if err != nil {
			return wrap(err)
		}
		if m.kind == ednTagged && m.items[0].kind == ednMap {
			m = m.items[0] // a record such as #jepsen.history.Op{...}
		}
		if m.kind != ednMap {
			return wrap(fmt.Errorf(`line %d: want a map like {:process 0, :type :invoke, :f :read, :value nil}, not %s`, line, clip(m.String())))
		}
		e, skip, err := eventFromMap(line, m)
		if err != nil {
			return wrap(err)
		}
		if skip {
			im.Nemesis++
			continue
		}
		im.Events++
		e.at = int64(im.Events)
		if opts.Progress != nil && im.Events%progressEvery == 0 {
			opts.Progress(im.Events)
		}
		isTxn := e.f == "txn"
		if txn == -1 {
			txn = map[bool]int{true: 1, false: 0}[isTxn]
		}
		if isTxn != (txn == 1) {
			return wrap(fmt.Errorf("line %d: a history cannot mix :txn with other operations (:%s)", line, e.f))
		}
		if isTxn {
			err = tb.add(e)
		} else {
			err = b.add(e)
		}
		if err != nil {
			return wrap(err)
		}
	}
	if txn == 1 {
		im.Txns, im.KnossosTxns = tb.txns(), tb.knossos
		return im, nil
	}
	im.History, im.NilReads = b.history(), b.nilReads
	if im.History.Model == "kv" {
		empty := ""
		im.History.Init = &empty
	}
	return im, nil
}

// eventFromMap reads the fields of one history map; skip is set for the
// nemesis (and any other process named by a keyword), whose events are not
// client operations. A map without :process (as in some of Elle's
// examples) belongs to process -1; without :f, to :txn when its value is
// a vector of micro-ops.
func eventFromMap(n int, m ednValue) (e event, skip bool, err error) {
	e.line = n
	field := func(name string) (ednValue, error) {
		v, ok := m.get(name)
		if !ok {
			return v, fmt.Errorf("line %d: missing :%s", n, name)
		}
		return v, nil
	}
	e.process = -1
	if p, ok := m.get("process"); ok && p.kind != ednNil {
		if p.kind == ednKeyword {
			return e, true, nil
		}
		if e.process, err = process(p); err != nil {
			return e, false, fmt.Errorf("line %d: :process %w", n, err)
		}
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
	e.value, _ = m.get("value")
	f, ok := m.get("f")
	switch {
	case !ok && (e.value.kind == ednVector || e.value.kind == ednList):
		e.f = "txn"
	case !ok:
		return e, false, fmt.Errorf("line %d: missing :f", n)
	case f.kind != ednKeyword:
		return e, false, fmt.Errorf("line %d: :f must be a keyword, not %s", n, f)
	default:
		e.f = f.text
	}
	if k, ok := m.get("key"); ok && k.kind != ednNil {
		if e.key, err = scalar(k); err != nil {
			return e, false, fmt.Errorf("line %d: :key %w", n, err)
		}
	} else if k, v, ok := independentTuple(e.f, e.value); ok {
		if e.key, err = scalar(k); err != nil {
			return e, false, fmt.Errorf("line %d: the tuple's key %w", n, err)
		}
		e.value = v
	}
	return e, false, nil
}

// independentTuple unpacks the [key value] tuples of Jepsen's
// jepsen.independent (one register per key, as its linearizable register
// tests record): [k nil] or [k 3] for a read or write, [k [old new]] for a
// cas, or a #jepsen.independent.Tuple{:key k, :value v} record. Register
// values are never vectors, so the shapes cannot be mistaken.
func independentTuple(f string, v ednValue) (key, value ednValue, ok bool) {
	if v.kind == ednTagged && v.items[0].kind == ednMap {
		k, okk := v.items[0].get("key")
		val, okv := v.items[0].get("value")
		return k, val, okk && okv
	}
	if (v.kind != ednVector && v.kind != ednList) || len(v.items) != 2 {
		return key, value, false
	}
	inner := v.items[1]
	switch f {
	case KindCAS:
		ok = (inner.kind == ednVector || inner.kind == ednList) && len(inner.items) == 2
	case KindRead, KindWrite, KindGet, KindPut:
		ok = inner.kind != ednVector && inner.kind != ednList && inner.kind != ednMap
	}
	return v.items[0], inner, ok
}

// process reads a process number.
func process(v ednValue) (int, error) {
	n, ok := v.int64()
	if !ok || n < 0 || n > 1<<31-1 {
		return 0, fmt.Errorf("must be a non-negative integer or :nemesis, not %s", v)
	}
	return int(n), nil
}
