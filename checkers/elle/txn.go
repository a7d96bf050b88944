package elle

import (
	"fmt"
	"strings"
)

// Kind is a micro-operation's function.
type Kind uint8

const (
	Append Kind = iota + 1 // append Value to the list at Key
	Read                   // read Key: a list (List) or a register (Value)
	Write                  // set the register at Key to Value
)

func (k Kind) String() string {
	switch k {
	case Append:
		return "append"
	case Read:
		return "r"
	case Write:
		return "w"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Mop is one micro-operation of a transaction, Jepsen's [:append k v],
// [:r k [v ...]], [:w k v] or [:r k v]. Values are their printed form, so
// 1 and "1" are the same value; histories use one or the other.
type Mop struct {
	Kind  Kind
	Key   string
	Value string   // the value appended or written, or a register read's value
	List  []string // a list read's elements, in order
	// Nil marks a read that returned nil: for a list, the empty list; for
	// a register, its initial (never written) state. In an invocation a
	// nil read is one whose result is not known yet.
	Nil bool
}

func (m Mop) String() string {
	switch {
	case m.Kind == Read && m.Nil:
		return fmt.Sprintf("[:r %s nil]", m.Key)
	case m.Kind == Read && m.List != nil:
		return fmt.Sprintf("[:r %s [%s]]", m.Key, strings.Join(m.List, " "))
	}
	return fmt.Sprintf("[:%s %s %s]", m.Kind, m.Key, m.Value)
}

// Status is what the client learnt of a transaction.
type Status uint8

const (
	OK   Status = iota + 1 // committed
	Info                   // unknown: it may or may not have committed, at any time after its call
	Fail                   // aborted: it did not happen
)

func (s Status) String() string {
	return map[Status]string{OK: "ok", Info: "info", Fail: "fail"}[s]
}

// Txn is one transaction as a client saw it. Call and Return order it in
// real time: Call is when it was invoked and Return when it completed (0
// for an Info transaction, which never did). Transactions with Call 0
// have no known start and get no real-time predecessors.
type Txn struct {
	ID      int
	Process int
	Status  Status
	Call    int64
	Return  int64
	Mops    []Mop
}

func (t Txn) String() string {
	parts := make([]string, len(t.Mops))
	for i, m := range t.Mops {
		parts[i] = m.String()
	}
	return "[" + strings.Join(parts, " ") + "]"
}
