// Package coordinator is a Seata-like distributed-transaction coordinator
// written as sans-IO sofasim nodes: the TC (transaction coordinator), RMs
// (resource managers: microservices with their own rowdb database, running
// AT and TCC branches), the TM client library and an App workload node.
//
// # Topology
//
// Config lists the TCs, the RMs and (optionally) the registry session
// servers; AddServers adds the TCs and RMs to a world, AddApps the
// application nodes (Workload: think time, the shares of AT transfers,
// TCC reservations, audits and SELECT FOR UPDATE reads). Every RM seeds
// Config.Accounts accounts with Config.Balance and Config.Items items with
// Config.Stock, once, durably.
//
// # TC
//
// The TC state (state.go) is sessions with their branches in registration
// order, the global lock table ("table:pk" -> xid, derived from the
// sessions), the final status of finished sessions, and one id counter
// for xids and branch ids. Every change is a command applied
// deterministically: begin, register, branch (a branch status), status (a
// compare-and-set of the global status, legal transitions only) and end.
// Two stores run the same commands:
//
//   - StoreFile: one TC; each command's changed sessions, finished
//     statuses and the counter are written in one synced rowdb transaction
//     (Seata's db mode tables). A restart reloads them, Rollbacking and
//     Committing sessions included, and rebuilds the lock table.
//   - StoreRaft: a cluster of TCs; each TC embeds a raftkv.Server whose
//     StateMachine is the TC state (commands in a binary codec, the state as
//     JSON in the snapshot). The leader serves once its term's no-op has applied;
//     a new leader drives every unfinished session; others answer
//     CodeNotLeader with a hint.
//
// Ids come from the replicated or durable counter, so they stay unique
// across restarts and failovers.
//
// GlobalStatus and BranchStatus are Seata's, same numbers. The decision is
// the transition out of Begin: AsyncCommitting (all branches AT: the TM is
// answered at once and the branches commit in the background) or
// Committing (TCC branches), Rollbacking (TM rollback) or
// TimeoutRollbacking (the timeout check). A commit decision releases the
// global locks; a rollback keeps them until every branch is rolled back,
// and a failed rollback (RollbackFailed: dirty data) keeps them and the
// session for an operator. Phase two runs one branch at a time: commit in
// registration order, rollback in reverse registration order; a retryable
// failure or an RPC timeout moves the session to its Retrying status and
// leaves it to the recovery jobs, which run every RecoveryInterval: the
// timeout check (Begin sessions older than their timeout, by the TC's
// wall clock), then retry committing, retry rollbacking and async
// committing for every decided session nobody is driving. Branches
// register only while the session is Begin; a registration whose keys are
// held by another xid gets CodeLockConflict and takes nothing.
//
// # RM: AT
//
// Phase one (CallAdd) runs a local transaction: SELECT FOR UPDATE on the
// row (local lock), the update, branch registration with the row's lock
// key (retried LockRetryTimes every LockRetryInterval on a conflict, the
// local lock held meanwhile, as Seata does), the undo record (before and
// after images, each with its row version) inserted in the same local
// transaction, one synced commit. A register RPC that times out is not
// retried: the TC may hold an orphan branch, which the global rollback
// cleans up. A local failure after registration reports PhaseOne_Failed,
// which releases the branch's global locks.
//
// Phase-two commit queues the undo row for deletion and answers at once;
// a background job deletes queued rows, and a sweep asks the TC about
// leftovers (a crash loses the queue). Phase-two rollback locks the undo
// row, checks each after image (value and version) against the current
// row: equal -> restore the before image (with its version); equal to the
// before image -> already restored; anything else is a dirty write:
// RollbackFailed_Unretryable, never an overwrite. No undo row: insert the
// UndoMarker ("global finished"), so that a late phase one of that branch
// finds it and fails (anti-suspension). The sweep removes markers once the
// TC reports the transaction final.
//
// CallRead with ForUpdate is SELECT FOR UPDATE: the local lock, then a TC
// lock query; while another xid holds the row it lets the local lock go
// and retries (bounded). Plain reads see phase one's local commits (read
// uncommitted, as in Seata). Audits (CallAudit) read every account in a
// branch that holds the accounts' global locks until the global
// transaction ends, so an audit sees a consistent cut. A raft TC answers
// a lock query only once a no-op of its term is applied, so a deposed
// leader with a lagging lock table cannot let a read through.
//
// Lists (table list, Config.Lists per RM, space-separated elements) serve
// the list-append workload (TxnList): CallAppend is an AT branch like
// CallAdd whose change appends an element; CallRead with List reads a
// list with SELECT FOR UPDATE, so its history is Elle's list-append.
//
// # RM: TCC
//
// The caller registers the TCC branch (Resource = item) and calls the RM's
// try with the branch id. The fence row (tcc_fence, "<xid>:<branch>" ->
// "<status>:<amount>:<item>") and the business change commit in one local
// transaction: try inserts tried (stock -= n, frozen += n); confirm moves
// tried -> committed (frozen -= n); cancel moves tried -> rollbacked
// (stock += n, frozen -= n), or with no row inserts suspended (empty
// rollback). A try that finds a row does nothing (idempotent, or
// anti-hanging after a cancel); a repeated confirm or cancel answers its
// earlier result.
//
// # TM and apps
//
// TM (tm.go) begins (retried: a lost answer leaves an orphan session that
// times out), commits and rolls back through tcClient: per-attempt
// RPCTimeout, redirects on NotLeader, failover to the next TC, up to
// OpTimeout. It tells the caller OutcomeCommitted or OutcomeRolledBack
// from the TC's answer (a late commit of a timed-out transaction is told
// rolled back), or OutcomeUnknown when no TC answered. App runs global
// transactions with it: a transfer debits an account (in two branches on
// the same row for SplitPPM of them) and credits another, rolling back if
// any call fails. With Workload.Scripted an App draws nothing itself and
// runs the transactions its host asks for (App.Run with a Txn), so that
// scenarios can draw their workload from their own seed.
//
// # Discovery
//
// Static (Config.TCs), or with Config.Registry set the TCs publish
// themselves under TCDataID through the registry client and RMs and apps
// subscribe, using the pushed list (the static list until the first push).
//
// # Messages
//
//	*TCRequest{Req, Kind, XID, Branch, Timeout, RM, Resource, Mode, Keys, BStatus}
//	                      TM/RM/app -> TC: begin, commit, rollback, status, register, report, lock-query
//	*TCResponse{Req, Code, XID, Branch, Status, Holder, Leader}
//	*PhaseTwo{Req, Commit, XID, Branch, Resource, Mode}   TC -> RM
//	*PhaseTwoResp{Req, Status}
//	*Call{Req, Op, XID, Branch, Account, Amount, ForUpdate, List, Element}   app -> RM
//	*CallResp{Req, OK, Err, Values, Version, Text}
//
// # What checkers need, and where they get it
//
// Config.Observer receives TCEvent, RMEvent and TMEvent from inside the
// nodes (the harness stamps virtual time). TC events carry Index, the raft
// log index or file-store LSN of the command: every replica applies each
// command and a restarted replica replays some, so judge each Index once
// (from the first node that reported it, during its first application).
// Inspect(w, cfg) reads the end state.
//
//   - Atomicity: TMEvent audits (Sum, Complete) equal the initial money
//     (Inspect.ExpectedMoney); at the end Inspect.Money equals it and
//     every TCC item has Stock+Frozen+Confirmed = InitialStock, Frozen 0.
//   - One decision per xid, legal transitions: EvTransition (From, To);
//     the first From=Begin is the decision; LegalTransition.
//   - Outcome told = decision: TMEvent commit/rollback Outcome against the
//     decision (OutcomeUnknown is free).
//   - Branches register only while Begin: EvRegister.To.
//   - Global lock exclusivity: EvLockGrant/EvLockRelease (Keys, XID).
//   - No lock or undo log left after the liveness phase: Inspect
//     (GlobalLocks, Open, UndoLogs, LocalLocks).
//   - TCC fence: EvFence (From, To) per xid:branch, RM.Fences.
//   - Recovery: EvEnd per xid, Inspect.Open empty.
//   - Unique xids and branch ids: EvBegin / EvRegister per Index.
//   - No aborted read under SELECT FOR UPDATE: EvRead (ForUpdate, Key,
//     Version) against EvPhaseOne (Key, Version) of rolled-back xids;
//     versions are unique per RM (the LSN of the commit).
//
// The package's tests (harness_test.go: violations, checkTCLog,
// checkReads) implement each of these as a reference.
//
// # Trace events
//
// tc/<TCEventKind> (xid, branch, from, to, branch status), tc/reloaded,
// tc/leader, tc/timeout, tc/bug; rm/<RMEventKind>, rm/dirty, rm/bug,
// rm/fence-conflict; tm/<op> (xid, outcome, sum, complete);
// rowdb/recovered, rowdb/fatal.
//
// # Planted bugs
//
// Eight failpoints (bugs.go), each in the real code path, each shown by a
// seed loop in bugs_test.go (and the same plans pass with no bug armed):
//
//   - register-after-rollback (seata#4969, #3220): the TC registers a
//     branch for a session past Begin. Needs phase ones racing timeouts
//     (short TxTimeout, pauses): the late branch's update stays. Caught by
//     the register-while-Begin check, audits and money.
//   - timeout-commit-race (seata#5404): the timeout check rolls back a
//     committed but unfinished session. Short TxTimeout plus slow phase
//     two (pauses, clogs): illegal transition, the TM told committed for a
//     rolled-back xid, money.
//   - undo-not-durable (seata#152): the undo row is committed unsynced
//     after the business rows. Frequent torn RM crashes: the rollback
//     finds no undo log, leaves the update: money.
//   - no-reload-rollbacking (seata#1180): at reload (file restart or raft
//     election) Rollbacking sessions are not driven. An RM down while a
//     TC restarts: locks, undo logs and sessions left at the end.
//   - deadlock-swallowed (seata#2976): a local deadlock or lock timeout in
//     phase one is reported as success. Hot rows (few accounts, many
//     apps): money.
//   - tcc-no-suspend (seata#5256, #6374): an empty rollback records no
//     suspended row, so a late try reserves for good. TCC-heavy load with
//     partitions or clogs between apps and RMs: Frozen left at the end.
//   - rollback-registration-order (seata#5666): rollback in registration
//     order; with two branches on one row the first one's after image no
//     longer matches: RollbackFailed, locks and undo logs left.
//   - orphan-branch (seata#2841): rolling back a branch with no undo log
//     fails unretryably. Short RPCTimeout so register RPCs time out:
//     RollbackFailed sessions keep locks and undo logs.
//
// # Cost
//
// File store, 1 TC, 3 RMs, 4 apps: about 15 ms of virtual time per
// uncontended transfer and about 20 events per TC command. Measured on
// the shared 2-core CI machine (go test ./nodes/coordinator -run XXX
// -bench Chaos -benchtime 20x): the chaos plan runs about 1400x faster
// than real time with the file store and about 470x with the raft store
// (every TC command is a raft entry; raft is most of the CPU). With 3
// raft TCs, 20 RMs and 1,000 apps (about 1,000 open global transactions;
// -bench Concurrent1000 -benchtime 1x, about a minute):
// about 2,300 commits per virtual second, 340 per wall second, commit
// latency p50 150 ms and p99 700 ms of virtual time, about 110 KB of heap
// per open transaction (the test recorder's event log included).
package coordinator
