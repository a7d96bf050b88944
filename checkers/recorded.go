package checkers

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// CheckerOf judges a history of type H. A system's checkers are written
// against its own history type; Checker is the key-value one.
type CheckerOf[H any] interface {
	Name() string
	Check(h H, opts Options) Result
}

// Recorded is a run's history as reports and the CLI see it, whatever the
// system's own type: entries to describe by index (the ids that checker
// results name) and the JSON written beside the report.
type Recorded interface {
	Len() int
	Entry(i int) Entry
	WriteJSON(w io.Writer) error
}

// Entry is one operation or event of a history, rendered for people.
type Entry struct {
	ID      int
	Client  int
	Key     string
	Call    int64
	Return  int64
	Unknown bool
	Op      string // what was asked or observed, e.g. put("k1", "v3")
	Result  string // what came back, e.g. ok
}

// When renders the entry's return time: "never" for an operation the client
// never stopped waiting for.
func (e Entry) When() string {
	switch {
	case e.Unknown && e.Return == 0:
		return "never"
	case e.Unknown:
		return time.Duration(e.Return).String() + " (gave up)"
	}
	return time.Duration(e.Return).String()
}

// Len is the number of operations.
func (h History) Len() int { return len(h.Ops) }

// Entry describes operation i.
func (h History) Entry(i int) Entry {
	op := h.Ops[i]
	e := Entry{ID: op.ID, Client: op.Client, Key: op.Key, Call: op.Call, Return: op.Return, Unknown: op.Unknown}
	e.Op, e.Result = DescribeOp(op)
	return e
}

// WriteJSON writes the history in sofasim's JSON format (see [WriteJSON]).
func (h History) WriteJSON(w io.Writer) error { return WriteJSON(w, h) }

// WriteJSONLine writes v as one line of JSON: how the systems' typed
// histories are written beside a report.
func WriteJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ReadStrictJSON reads one JSON value into a new T, refusing unknown
// fields; what names the history in the error.
func ReadStrictJSON[T any](r io.Reader, what string) (*T, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var v T
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	return &v, nil
}
