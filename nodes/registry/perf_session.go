package registry

// Memos of a session server's pure computations that its hot paths repeat:
// the digest of a cached datum (which every fetch of it carries); and
// regSet, its small indexes.

import (
	"slices"
	"strings"
)

// regSet is a set of registerIds kept sorted: the session's indexes hold
// one or a few each (a connection's publishers, a slot's), where a Go map
// costs at least 256 bytes from its first entry.
type regSet []string

// add adds reg; it reports whether reg was new.
func (r *regSet) add(reg string) bool {
	i, ok := slices.BinarySearch(*r, reg)
	if !ok {
		*r = slices.Insert(*r, i, reg)
	}
	return !ok
}

func (r *regSet) remove(reg string) {
	if i, ok := slices.BinarySearch(*r, reg); ok {
		*r = slices.Delete(*r, i, i+1)
	}
}

// slotSet is a set of slots, a bit each (a map of them cost a session
// 1.7 KB).
type slotSet []uint64

func (s *slotSet) add(slot int) {
	if w := slot / 64; w >= len(*s) {
		*s = append(*s, make([]uint64, w+1-len(*s))...)
	}
	(*s)[slot/64] |= 1 << (slot % 64)
}

func (s slotSet) has(slot int) bool {
	return slot >= 0 && slot/64 < len(s) && s[slot/64]&(1<<(slot%64)) != 0
}

// subList is a dataInfoId's subscribers sorted by registerId: the
// subscribers themselves, each the one s.subs holds, so that the walks of
// a datum's subscribers (each fetch, push and version scan) do not look
// each up in s.subs by its registerId.
type subList []*sub

func (l *subList) add(x *sub) {
	i, ok := slices.BinarySearchFunc(*l, x.regID, cmpSubReg)
	if ok {
		(*l)[i] = x
		return
	}
	*l = slices.Insert(*l, i, x)
}

func (l *subList) remove(reg string) {
	if i, ok := slices.BinarySearchFunc(*l, reg, cmpSubReg); ok {
		*l = slices.Delete(*l, i, i+1)
	}
}

func cmpSubReg(x *sub, reg string) int { return strings.Compare(x.regID, reg) }

// sortedKeysIf is sortedKeys of the keys keep accepts, sorting only them:
// the watcher and interface scans look for a few among every subscribed
// dataInfoId.
func sortedKeysIf[V any](m map[string]V, keep func(string) bool) []string {
	var out []string
	for k := range m { //detlint:allow collecting keys; sorted below
		if keep(k) {
			out = append(out, k)
		}
	}
	sortStrings(out)
	return out
}

type digestMemo struct {
	d   *Datum
	sum uint64
}

type sessionMemo struct {
	bySlot  map[int]slotIndex // slot -> registerIds published in it (may name removed ones)
	indexed int               // the registerIds in bySlot, counted once a slot
	digests map[string]digestMemo
}

// slotIndex is a slot's entry in the slot index: its registerIds, and the
// last digest of its publishers (slotDigest), kept here rather than in a
// slice of every slot (80 bytes a client).
type slotIndex struct {
	regs regSet
	sum  slotSum
}

func (s *SessionServer) slotOf(id string) int { return s.m.slotOf(id) }

// digestOf is d.Digest() for the datum cached under d.DataID: the one its
// data server computed, else remembered while that datum stays cached.
func (s *SessionServer) digestOf(d *Datum) uint64 {
	if d.digested {
		return d.digest
	}
	if m, ok := s.memo.digests[d.DataID]; ok && m.d == d {
		return m.sum
	}
	if s.memo.digests == nil {
		s.memo.digests = map[string]digestMemo{}
	}
	sum := datumDigest(d)
	s.memo.digests[d.DataID] = digestMemo{d: d, sum: sum}
	return sum
}

// indexPub notes that publisher reg is in slot (onPublish, the only place
// that adds to s.pubs).
func (s *SessionServer) indexPub(reg string, slot int) {
	if s.memo.bySlot == nil {
		s.memo.bySlot = map[int]slotIndex{}
	}
	idx := s.memo.bySlot[slot]
	if idx.regs.add(reg) {
		s.memo.indexed++
	}
	s.memo.bySlot[slot] = idx
}

// slotRegs is the registerIds of the session's publishers in a slot,
// sorted: the index itself, to read before the next publish.
//
// Every publisher is indexed in its slot when stored, so the index holds
// a stale entry (a publisher removed, anywhere, or moved to another
// dataInfoId) exactly when it holds more entries than there are
// publishers; only then is it pruned, whole. Pruning each slot at each
// read was 5% of the 10,000-client benchmark.
func (s *SessionServer) slotRegs(slot int) []string {
	if s.memo.indexed != len(s.pubs) {
		s.pruneIndex()
	}
	return s.memo.bySlot[slot].regs
}

// pruneIndex drops the stale entries of the slot index.
func (s *SessionServer) pruneIndex() {
	n := 0
	for slot, idx := range s.memo.bySlot { //detlint:allow each slot pruned alone
		idx.regs = slices.DeleteFunc(idx.regs, func(reg string) bool {
			p := s.pubs[reg]
			return p == nil || s.slotOf(p.DataID) != slot
		})
		if len(idx.regs) == 0 {
			delete(s.memo.bySlot, slot)
		} else {
			s.memo.bySlot[slot] = idx
		}
		n += len(idx.regs)
	}
	s.memo.indexed = n
}

// slotDigest is pubsDigest(s.slotPubs(slot)), without the copies, and
// remembered with the publishers it was computed from: a publisher held
// is never changed in place (a publish stores a new one), so the same
// publishers have the same digest. Most of a session's slots are unchanged
// between two digest syncs, where hashing them was 4% of the benchmark.
func (s *SessionServer) slotDigest(slot int) uint64 {
	regs := s.slotRegs(slot)
	if len(regs) == 0 {
		return uint64(newFNV())
	}
	idx := s.memo.bySlot[slot]
	m := &idx.sum
	same := len(m.pubs) == len(regs)
	for i, reg := range regs {
		if same && m.pubs[i] != s.pubs[reg] {
			same = false
		}
	}
	if same {
		return m.sum
	}
	h := newFNV()
	m.pubs = m.pubs[:0]
	for _, reg := range regs {
		p := s.pubs[reg]
		m.pubs = append(m.pubs, p)
		h.pub(&p.Pub)
	}
	m.sum = uint64(h)
	s.memo.bySlot[slot] = idx
	return m.sum
}

// syncPubs is s.slotPubs(p.w.Slot) for a pending sync: the list its last
// send carried when the slot holds the same publishers (held ones are
// never changed in place), since every table a session installs resends
// its pending syncs. A list sent is never changed: a new one is built.
func (s *SessionServer) syncPubs(p *pending) []Pub {
	regs := s.slotRegs(p.w.Slot)
	same := len(p.from) == len(regs) && p.built != nil
	for i, reg := range regs {
		if same && p.from[i] != s.pubs[reg] {
			same = false
		}
	}
	if same {
		return p.built
	}
	p.from, p.built = p.from[:0], nil
	for _, reg := range regs {
		x := s.pubs[reg]
		p.from = append(p.from, x)
		p.built = append(p.built, x.Pub)
	}
	return p.built
}

// slotSum is a slot's remembered digest and the publishers it is of.
type slotSum struct {
	pubs []*sessPub
	sum  uint64
}

// isRegWrite: a publish or unpublish, which replaces the registration's
// pending ones.
func isRegWrite(w *DataWrite) bool { return w.Kind == "pub" || w.Kind == "unpub" }

// pendingRegs indexes the outbox's publishes and unpublishes by
// registerId, so that a new one finds those it replaces without a walk of
// the outbox (quadratic when a burst of publishes waits for a table). It
// may name writes since removed from the outbox (accepted, given up,
// dropped with their connection): each is looked up there.
type pendingRegs struct {
	byReg map[string][]uint64
	n     int // the request ids in byReg
}

func (p *pendingRegs) add(s *SessionServer, reg string, req uint64) {
	if p.byReg == nil {
		p.byReg = map[string][]uint64{}
	}
	p.byReg[reg] = append(p.byReg[reg], req)
	if p.n++; p.n > 2*len(s.outbox)+64 {
		p.rebuild(s.outbox) // most named writes are gone
	}
}

// rebuild indexes the outbox afresh.
func (p *pendingRegs) rebuild(outbox map[uint64]*pending) {
	p.byReg, p.n = map[string][]uint64{}, 0
	for r, q := range outbox { //detlint:allow an index: each list is used as a set
		if isRegWrite(q.w) {
			p.byReg[q.w.Pub.RegID] = append(p.byReg[q.w.Pub.RegID], r)
			p.n++
		}
	}
}

// dropPendingRegs removes the outbox's publishes and unpublishes of
// registerId reg in dataInfoId dataID.
func (s *SessionServer) dropPendingRegs(reg, dataID string) {
	p := &s.pendingRegs
	reqs, ok := p.byReg[reg]
	if !ok {
		return
	}
	kept := reqs[:0]
	for _, r := range reqs {
		q := s.outbox[r]
		switch {
		case q == nil:
		case isRegWrite(q.w) && q.w.Pub.RegID == reg && q.w.Pub.DataID == dataID:
			delete(s.outbox, r)
		default:
			kept = append(kept, r)
		}
	}
	p.n -= len(reqs) - len(kept)
	if len(kept) == 0 {
		delete(p.byReg, reg)
	} else {
		p.byReg[reg] = kept
	}
}
