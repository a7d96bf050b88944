package coordinator

import (
	"encoding/binary"
)

// Group commit (raft store): with Config.GroupCommit set, the leader
// gathers the commands submitted within that window into one raft entry,
// as SOFAJRaft batches the tasks it applies (Seata's raft mode runs on
// it). One entry, one disk sync and one round of append messages then
// carry many commands: at a rehearsal's thousands of commands a second
// each its own entry cost most of the TC's CPU. Commands keep their
// order and each gets its own result; a batch is applied whole or not
// at all.

// batchMarker starts a batch entry; single commands start with an op
// code, all below it.
const batchMarker = 0xff

type groupTick struct{}

type proposal struct {
	cmd  []byte
	done func([]byte, error)
}

// propose hands one encoded command to raft, now or with the next batch.
func (tc *TC) propose(cmd []byte, done func([]byte, error)) {
	if tc.cfg.GroupCommit <= 0 {
		tc.rs.Propose(cmd, done)
		return
	}
	if len(tc.batch) == 0 {
		tc.env.SetTimer(tc.cfg.GroupCommit, groupTick{})
	}
	tc.batch = append(tc.batch, proposal{cmd, done})
}

// flush proposes the gathered commands as one entry.
func (tc *TC) flush() {
	b := tc.batch
	tc.batch = nil
	switch len(b) {
	case 0:
		return
	case 1:
		tc.rs.Propose(b[0].cmd, b[0].done)
		return
	}
	cmds := make([][]byte, len(b))
	for i, p := range b {
		cmds[i] = p.cmd
	}
	tc.rs.Propose(encodeBatch(cmds), func(resp []byte, err error) {
		var rs [][]byte
		if err == nil {
			if rs, err = decodeBatch(resp); err == nil && len(rs) != len(b) {
				err = errBadCommand
			}
		}
		for i, p := range b {
			if err != nil {
				p.done(nil, err)
			} else {
				p.done(rs[i], nil)
			}
		}
	})
}

// encodeBatch: the marker, a uvarint count, then each part as a uvarint
// length and its bytes. Batch results use the same framing.
func encodeBatch(parts [][]byte) []byte {
	n := 1 + binary.MaxVarintLen64
	for _, p := range parts {
		n += binary.MaxVarintLen64 + len(p)
	}
	b := make([]byte, 0, n)
	b = append(b, batchMarker)
	b = binary.AppendUvarint(b, uint64(len(parts)))
	for _, p := range parts {
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	return b
}

func isBatch(b []byte) bool { return len(b) > 0 && b[0] == batchMarker }

func decodeBatch(b []byte) ([][]byte, error) {
	if !isBatch(b) {
		return nil, errBadCommand
	}
	r := &reader{b: b[1:]}
	n := r.u()
	if r.bad || n > uint64(len(r.b)) {
		return nil, errBadCommand
	}
	out := make([][]byte, 0, n)
	for ; n > 0; n-- {
		l := r.u()
		if r.bad || l > uint64(len(r.b)) {
			return nil, errBadCommand
		}
		out = append(out, r.b[:l:l])
		r.b = r.b[l:]
	}
	if len(r.b) != 0 {
		return nil, errBadCommand
	}
	return out, nil
}
