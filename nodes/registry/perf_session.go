package registry

// Memos of a session server's pure computations that its hot paths repeat:
// the digest of a cached datum (which every fetch of it carries); and
// regSet, its small indexes.

import (
	"slices"
)

// regSet is a set of registerIds kept sorted: the session's indexes hold
// one or a few each (a connection's publishers, a slot's), where a Go map
// costs at least 256 bytes from its first entry.
type regSet []string

func (r *regSet) add(reg string) {
	if i, ok := slices.BinarySearch(*r, reg); !ok {
		*r = slices.Insert(*r, i, reg)
	}
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

type digestMemo struct {
	d   *Datum
	sum uint64
}

type sessionMemo struct {
	bySlot  map[int]regSet // slot -> registerIds published in it (may name removed ones)
	digests map[string]digestMemo
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
		s.memo.bySlot = map[int]regSet{}
	}
	idx := s.memo.bySlot[slot]
	idx.add(reg)
	s.memo.bySlot[slot] = idx
}

// slotRegs is the registerIds of the session's publishers in a slot,
// sorted: the index itself, to read before the next publish. Publishers
// removed (anywhere) or moved to another dataInfoId since they were
// indexed are dropped from the index here.
func (s *SessionServer) slotRegs(slot int) []string {
	idx := slices.DeleteFunc(s.memo.bySlot[slot], func(reg string) bool {
		p := s.pubs[reg]
		return p == nil || s.slotOf(p.DataID) != slot
	})
	if len(idx) == 0 {
		delete(s.memo.bySlot, slot)
		return nil
	}
	s.memo.bySlot[slot] = idx
	return idx
}

// slotDigest is pubsDigest(s.slotPubs(slot)), without the copies.
func (s *SessionServer) slotDigest(slot int) uint64 {
	h := newFNV()
	for _, reg := range s.slotRegs(slot) {
		h.pub(&s.pubs[reg].Pub)
	}
	return uint64(h)
}
