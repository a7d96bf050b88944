package coordinator

import (
	"encoding/binary"
	"errors"

	"github.com/sofasim/sofasim/sim"
)

// Raft entries carry commands and results in a compact binary form
// (JSON cost a quarter of a raft-store run's CPU):
//
//	command: u8 op, uvarints xid, branch, timeout, from, to, bstatus,
//	         mode, force, a varint now, then strings tm, rm, resource, and a
//	         uvarint count of keys followed by the keys (strings are a
//	         uvarint length and the bytes)
//	result:  uvarints code, xid, branch, status, holder
var opCodes = []string{"noop", opBegin, opRegister, opBranch, opStatus, opEnd}

var errBadCommand = errors.New("coordinator: malformed command")

func encodeCommand(c *command) []byte {
	op := 0
	for i, o := range opCodes {
		if o == c.Op {
			op = i
		}
	}
	b := make([]byte, 0, 64)
	b = append(b, byte(op))
	force := uint64(0)
	if c.Force {
		force = 1
	}
	for _, v := range []uint64{uint64(c.XID), uint64(c.Branch), uint64(c.Timeout), uint64(c.From), uint64(c.To), uint64(c.BStatus), uint64(c.Mode), force} {
		b = binary.AppendUvarint(b, v)
	}
	b = binary.AppendVarint(b, c.Now)
	for _, s := range []string{string(c.TM), string(c.RM), c.Resource} {
		b = appendStr(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(c.Keys)))
	for _, k := range c.Keys {
		b = appendStr(b, k)
	}
	return b
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

type reader struct {
	b   []byte
	bad bool
}

func (r *reader) u() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) i() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) s() string {
	n := r.u()
	if r.bad || n > uint64(len(r.b)) {
		r.bad = true
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func decodeCommand(b []byte) (command, error) {
	var c command
	if len(b) == 0 || int(b[0]) >= len(opCodes) {
		return c, errBadCommand
	}
	c.Op = opCodes[b[0]]
	r := &reader{b: b[1:]}
	c.XID, c.Branch, c.Timeout = XID(r.u()), BranchID(r.u()), int64(r.u())
	c.From, c.To, c.BStatus, c.Mode = GlobalStatus(r.u()), GlobalStatus(r.u()), BranchStatus(r.u()), Mode(r.u())
	c.Force = r.u() == 1
	c.Now = r.i()
	c.TM, c.RM, c.Resource = sim.NodeID(r.s()), sim.NodeID(r.s()), r.s()
	n := r.u()
	if n > uint64(len(r.b)) {
		return c, errBadCommand
	}
	for ; n > 0; n-- {
		c.Keys = append(c.Keys, r.s())
	}
	if r.bad || len(r.b) != 0 {
		return c, errBadCommand
	}
	return c, nil
}

func encodeResult(res result) []byte {
	b := make([]byte, 0, 16)
	for _, v := range []uint64{uint64(res.Code), uint64(res.XID), uint64(res.Branch), uint64(res.Status), uint64(res.Holder)} {
		b = binary.AppendUvarint(b, v)
	}
	return b
}

func decodeResult(b []byte) (result, error) {
	r := &reader{b: b}
	res := result{Code: Code(r.u()), XID: XID(r.u()), Branch: BranchID(r.u()), Status: GlobalStatus(r.u()), Holder: XID(r.u())}
	if r.bad || len(r.b) != 0 {
		return res, errBadCommand
	}
	return res, nil
}
