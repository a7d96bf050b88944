package coordinator

import (
	"errors"
	"strconv"
	"strings"

	"github.com/sofasim/sofasim/nodes/rowdb"
)

// TCC with a fence table (seata-go's tcc_fence_log): one row per branch,
// tried -> committed or rollbacked, or suspended when a cancel arrives
// before the try (empty rollback). The fence row and the business change
// commit in one local transaction, which gives idempotent confirm and
// cancel, empty rollback and anti-hanging (a try that finds the row does
// nothing).

// A fence row's value is "<status>:<amount>:<item>".
func parseFence(v string) (FenceStatus, int64, string) {
	parts := strings.SplitN(v, ":", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	a, _ := strconv.ParseInt(parts[1], 10, 64)
	return FenceStatus(parts[0]), a, parts[2]
}

func fenceValue(st FenceStatus, n int64, item string) string {
	return string(st) + ":" + strconv.FormatInt(n, 10) + ":" + item
}

func stockKeys(item string) []rowdb.Key {
	return []rowdb.Key{{Table: TableStock, PK: item}, {Table: TableFrozen, PK: item}}
}

// try reserves m.Amount of item m.Account for branch m.Branch (registered
// by the caller): stock -= n, frozen += n.
func (rm *RM) try(m *Call, done func(error)) {
	tx := rm.db.Begin()
	fk := fenceKey(m.XID, m.Branch)
	fail := func(err error) {
		tx.Rollback()
		done(err)
	}
	tx.GetForUpdate(fk, func(row rowdb.Row, ok bool, err error) {
		if err != nil {
			fail(err)
			return
		}
		if ok {
			st, _, _ := parseFence(row.Value)
			if st == FenceTried || st == FenceCommitted {
				tx.Rollback()
				done(nil) // a retried try: idempotent
				return
			}
			fail(errors.New("tcc: try after cancel (anti-hanging)"))
			return
		}
		keys := stockKeys(m.Account)
		lockAll(tx, keys, func(err error) {
			if err != nil {
				fail(err)
				return
			}
			s, ok1 := tx.Get(keys[0])
			f, ok2 := tx.Get(keys[1])
			if !ok1 || !ok2 || balance(s) < m.Amount {
				fail(errors.New("tcc: insufficient stock"))
				return
			}
			_ = tx.Put(keys[0], strconv.FormatInt(balance(s)-m.Amount, 10))
			_ = tx.Put(keys[1], strconv.FormatInt(balance(f)+m.Amount, 10))
			_ = tx.Insert(fk, fenceValue(FenceTried, m.Amount, m.Account))
			if tx.Commit() != nil {
				return
			}
			rm.obs(RMEvent{Kind: EvFence, XID: m.XID, Branch: m.Branch, From: FenceNone, To: FenceTried, OK: true})
			done(nil)
		})
	})
}

// tccPhaseTwo confirms (frozen -= n) or cancels (stock += n, frozen -= n)
// a branch through its fence row.
func (rm *RM) tccPhaseTwo(m *PhaseTwo, reply func(BranchStatus)) {
	tx := rm.db.Begin()
	fk := fenceKey(m.XID, m.Branch)
	retry, ok, fail := BranchRollbackFailedRetryable, BranchRollbacked, BranchRollbackFailedUnretryable
	if m.Commit {
		retry, ok, fail = BranchCommitFailedRetryable, BranchCommitted, BranchCommitFailedUnretryable
	}
	tx.GetForUpdate(fk, func(row rowdb.Row, exists bool, err error) {
		if err != nil {
			tx.Rollback()
			reply(retry)
			return
		}
		st, n, _ := parseFence(row.Value)
		if !exists {
			st = FenceNone
		}
		switch {
		case m.Commit && st == FenceCommitted, !m.Commit && (st == FenceRollbacked || st == FenceSuspended):
			tx.Rollback()
			reply(ok) // idempotent
			return
		case !m.Commit && st == FenceNone:
			// Empty rollback: the try never ran (or failed). Record the
			// cancel so that a late try does nothing.
			if _, fire := rm.env.Failpoint(BugTCCNoSuspend); fire {
				tx.Rollback()
				rm.env.Trace("rm/bug", BugTCCNoSuspend, uint64(m.XID), uint64(m.Branch))
				reply(ok)
				return
			}
			_ = tx.Insert(fk, fenceValue(FenceSuspended, 0, m.Resource))
			if tx.Commit() == nil {
				rm.obs(RMEvent{Kind: EvFence, XID: m.XID, Branch: m.Branch, From: FenceNone, To: FenceSuspended, OK: true})
				reply(ok)
			}
			return
		case st != FenceTried:
			// Confirm without a try, or the opposite of a settled branch.
			tx.Rollback()
			rm.env.Trace("rm/fence-conflict", uint64(m.XID), uint64(m.Branch), string(st))
			reply(fail)
			return
		}
		keys := stockKeys(m.Resource)
		lockAll(tx, keys, func(err error) {
			if err != nil {
				tx.Rollback()
				reply(retry)
				return
			}
			s, _ := tx.Get(keys[0])
			f, _ := tx.Get(keys[1])
			to := FenceCommitted
			if !m.Commit {
				to = FenceRollbacked
				_ = tx.Put(keys[0], strconv.FormatInt(balance(s)+n, 10))
			}
			_ = tx.Put(keys[1], strconv.FormatInt(balance(f)-n, 10))
			_ = tx.Put(fk, fenceValue(to, n, m.Resource))
			if tx.Commit() == nil {
				rm.obs(RMEvent{Kind: EvFence, XID: m.XID, Branch: m.Branch, From: FenceTried, To: to, OK: true})
				reply(ok)
			}
		})
	})
}
