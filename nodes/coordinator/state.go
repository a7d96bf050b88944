package coordinator

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/sofasim/sofasim/sim"
)

// Session is a global transaction as the TC stores it.
type Session struct {
	XID      XID          `json:"xid"`
	Status   GlobalStatus `json:"status"`
	Timeout  int64        `json:"timeout"` // ns
	Began    int64        `json:"began"`   // the deciding TC's wall clock, ns
	TM       sim.NodeID   `json:"tm"`
	Branches []*Branch    `json:"branches"` // registration order
}

// Branch is one registered branch.
type Branch struct {
	ID       BranchID     `json:"id"`
	RM       sim.NodeID   `json:"rm"`
	Resource string       `json:"resource"`
	Mode     Mode         `json:"mode"`
	Keys     []string     `json:"keys,omitempty"`
	Status   BranchStatus `json:"status"`
}

func (s *Session) branch(id BranchID) *Branch {
	for _, b := range s.Branches {
		if b.ID == id {
			return b
		}
	}
	return nil
}

func (s *Session) clone() *Session {
	c := *s
	c.Branches = make([]*Branch, len(s.Branches))
	for i, b := range s.Branches {
		bb := *b
		c.Branches[i] = &bb
	}
	return &c
}

// Command ops.
const (
	opBegin    = "begin"
	opRegister = "register"
	opBranch   = "branch" // a branch's status (phase-one report, phase-two result)
	opStatus   = "status" // compare-and-set of the global status
	opEnd      = "end"    // final status; the session leaves the store
)

// command is one change of the TC's state, applied identically by the file
// store and by every raft replica.
type command struct {
	Op       string       `json:"op"`
	XID      XID          `json:"xid,omitempty"`
	Branch   BranchID     `json:"branch,omitempty"`
	TM       sim.NodeID   `json:"tm,omitempty"`
	RM       sim.NodeID   `json:"rm,omitempty"`
	Resource string       `json:"resource,omitempty"`
	Mode     Mode         `json:"mode,omitempty"`
	Keys     []string     `json:"keys,omitempty"`
	Timeout  int64        `json:"timeout,omitempty"`
	Now      int64        `json:"now,omitempty"`
	From     GlobalStatus `json:"from,omitempty"`
	To       GlobalStatus `json:"to,omitempty"`
	BStatus  BranchStatus `json:"bstatus,omitempty"`
	// Force skips the status checks: only planted bugs set it.
	Force bool `json:"force,omitempty"`
}

// Result codes.
type Code uint8

const (
	CodeOK           Code = iota + 1
	CodeNotLeader         // Leader holds a hint
	CodeNotExist          // no such session (and none finished)
	CodeNotActive         // the session is past Begin; Status says where
	CodeLockConflict      // a key is held by Holder
	CodeBadStatus         // compare-and-set failed; Status is current
	CodeFailed            // anything else
)

func (c Code) String() string {
	return [...]string{"?", "ok", "not-leader", "not-exist", "not-active", "lock-conflict", "bad-status", "failed"}[min(int(c), 7)]
}

type result struct {
	Code   Code         `json:"code"`
	XID    XID          `json:"xid,omitempty"`
	Branch BranchID     `json:"branch,omitempty"`
	Status GlobalStatus `json:"status,omitempty"`
	Holder XID          `json:"holder,omitempty"`
}

// tcState is the TC's durable state: sessions, the global lock table, the
// final status of finished sessions, and the id counter.
type tcState struct {
	Next     uint64               `json:"next"`
	Sessions map[XID]*Session     `json:"sessions"`
	Finished map[XID]GlobalStatus `json:"finished"`
	locks    map[string]XID       // derived from Sessions
	emit     func(TCEvent)        // set by the owner; nil drops
	dirty    map[XID]bool         // sessions changed since the owner last asked
}

func newState() *tcState {
	return &tcState{Sessions: map[XID]*Session{}, Finished: map[XID]GlobalStatus{}, locks: map[string]XID{}, dirty: map[XID]bool{}}
}

// rebuildLocks derives the lock table from the sessions.
func (st *tcState) rebuildLocks() {
	st.locks = map[string]XID{}
	for _, x := range slices.Sorted(maps.Keys(st.Sessions)) {
		s := st.Sessions[x]
		if !s.Status.holdsLocks() {
			continue
		}
		for _, b := range s.Branches {
			if b.Status == BranchPhaseOneFailed {
				continue
			}
			for _, k := range b.Keys {
				st.locks[k] = x
			}
		}
	}
}

func (st *tcState) out(ev TCEvent) {
	if st.emit != nil {
		st.emit(ev)
	}
}

// apply executes one command. It is deterministic.
func (st *tcState) apply(c *command) result {
	switch c.Op {
	case opBegin:
		st.Next++
		x := XID(st.Next)
		st.Sessions[x] = &Session{XID: x, Status: StatusBegin, Timeout: c.Timeout, Began: c.Now, TM: c.TM}
		st.dirty[x] = true
		st.out(TCEvent{Kind: EvBegin, XID: x, To: StatusBegin})
		return result{Code: CodeOK, XID: x, Status: StatusBegin}
	case opRegister:
		return st.register(c)
	}
	s := st.Sessions[c.XID]
	if s == nil {
		if f, ok := st.Finished[c.XID]; ok {
			return result{Code: CodeNotActive, Status: f}
		}
		return result{Code: CodeNotExist}
	}
	switch c.Op {
	case opBranch:
		b := s.branch(c.Branch)
		if b == nil {
			return result{Code: CodeNotExist, Status: s.Status}
		}
		b.Status = c.BStatus
		st.dirty[s.XID] = true
		st.out(TCEvent{Kind: EvBranch, XID: s.XID, Branch: b.ID, RM: b.RM, Mode: b.Mode, BranchStatus: b.Status, To: s.Status})
		if c.BStatus == BranchPhaseOneFailed {
			st.releaseBranch(s, b)
		}
		return result{Code: CodeOK, Status: s.Status}
	case opStatus:
		if !c.Force && (s.Status != c.From || !LegalTransition(s.Status, c.To)) {
			return result{Code: CodeBadStatus, Status: s.Status}
		}
		st.transition(s, c.To)
		return result{Code: CodeOK, Status: s.Status}
	case opEnd:
		if !c.Force && s.Status != c.To && !LegalTransition(s.Status, c.To) {
			return result{Code: CodeBadStatus, Status: s.Status}
		}
		if s.Status != c.To {
			st.transition(s, c.To)
		}
		if c.To.holdsLocks() {
			// A failed rollback stays, locks and all, for an operator.
			return result{Code: CodeOK, Status: s.Status}
		}
		st.releaseAll(s)
		delete(st.Sessions, s.XID)
		st.Finished[s.XID] = s.Status
		st.dirty[s.XID] = true
		st.out(TCEvent{Kind: EvEnd, XID: s.XID, To: s.Status})
		return result{Code: CodeOK, Status: s.Status}
	}
	return result{Code: CodeFailed}
}

func (st *tcState) transition(s *Session, to GlobalStatus) {
	from := s.Status
	s.Status = to
	st.dirty[s.XID] = true
	st.out(TCEvent{Kind: EvTransition, XID: s.XID, From: from, To: to})
	if from.holdsLocks() && !to.holdsLocks() {
		st.releaseAll(s)
	}
}

func (st *tcState) register(c *command) result {
	s := st.Sessions[c.XID]
	if s == nil {
		if f, ok := st.Finished[c.XID]; ok {
			return result{Code: CodeNotActive, Status: f}
		}
		return result{Code: CodeNotExist}
	}
	if s.Status != StatusBegin && !c.Force {
		return result{Code: CodeNotActive, Status: s.Status}
	}
	for _, k := range c.Keys {
		if h, ok := st.locks[k]; ok && h != s.XID {
			return result{Code: CodeLockConflict, Holder: h, Status: s.Status}
		}
	}
	st.Next++
	b := &Branch{ID: BranchID(st.Next), RM: c.RM, Resource: c.Resource, Mode: c.Mode, Keys: slices.Clone(c.Keys), Status: BranchRegistered}
	s.Branches = append(s.Branches, b)
	st.dirty[s.XID] = true
	st.out(TCEvent{Kind: EvRegister, XID: s.XID, Branch: b.ID, RM: b.RM, Mode: b.Mode, To: s.Status, Keys: b.Keys, BranchStatus: b.Status})
	var granted []string
	for _, k := range b.Keys {
		if _, ok := st.locks[k]; !ok {
			st.locks[k] = s.XID
			granted = append(granted, k)
		}
	}
	if len(granted) > 0 {
		st.out(TCEvent{Kind: EvLockGrant, XID: s.XID, Branch: b.ID, Keys: granted})
	}
	return result{Code: CodeOK, XID: s.XID, Branch: b.ID, Status: s.Status}
}

// releaseAll lets go of every lock the session holds.
func (st *tcState) releaseAll(s *Session) {
	var keys []string
	for _, b := range s.Branches {
		for _, k := range b.Keys {
			if st.locks[k] == s.XID {
				delete(st.locks, k)
				keys = append(keys, k)
			}
		}
	}
	if len(keys) > 0 {
		st.out(TCEvent{Kind: EvLockRelease, XID: s.XID, Keys: keys})
	}
}

// releaseBranch lets go of a failed branch's locks that no other branch of
// the session holds.
func (st *tcState) releaseBranch(s *Session, b *Branch) {
	other := map[string]bool{}
	for _, o := range s.Branches {
		if o != b && o.Status != BranchPhaseOneFailed {
			for _, k := range o.Keys {
				other[k] = true
			}
		}
	}
	var keys []string
	for _, k := range b.Keys {
		if !other[k] && st.locks[k] == s.XID {
			delete(st.locks, k)
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		st.out(TCEvent{Kind: EvLockRelease, XID: s.XID, Branch: b.ID, Keys: keys})
	}
}

func (st *tcState) encode() []byte {
	b, err := json.Marshal(st)
	if err != nil {
		panic(err)
	}
	return b
}

func (st *tcState) decode(b []byte) error {
	n := newState()
	if len(b) > 0 {
		if err := json.Unmarshal(b, n); err != nil {
			return err
		}
	}
	st.Next, st.Sessions, st.Finished = n.Next, n.Sessions, n.Finished
	if st.Sessions == nil {
		st.Sessions = map[XID]*Session{}
	}
	if st.Finished == nil {
		st.Finished = map[XID]GlobalStatus{}
	}
	st.rebuildLocks()
	return nil
}

// Locks returns the global lock table (key -> holder), for inspection.
func (st *tcState) lockTable() map[string]XID { return maps.Clone(st.locks) }
