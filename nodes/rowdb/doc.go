// Package rowdb is the local database of one resource manager: a small row
// store with local ACID transactions, exclusive row locks with a bounded
// wait (deadlock and timeout errors), and a checksummed write-ahead log on
// the node's simulated disk with crash recovery. It is a sans-IO library
// hosted by a node, which forwards its timers (HandleTimer).
//
// # Transactions
//
// A Tx takes exclusive row locks (Lock, GetForUpdate) before it writes
// (Put, Insert, Delete); its writes are buffered and become visible to
// others at Commit, atomically. Commit appends one WAL record holding every
// write and syncs it before it returns: a commit that returned is durable.
// A failed sync is fatal (Linux fsync semantics): the process exits and
// Commit returns ErrSyncFailed. Rollback discards the writes. Both release
// the locks, handing each to its first waiter (FIFO).
//
// A lock request that finds the row held waits up to Config.LockWait; a
// request that would close a cycle in the wait-for graph fails at once
// with ErrDeadlock (the requester is the victim, as in InnoDB), a wait that
// outlasts the bound fails with ErrLockTimeout. The transaction stays open:
// the caller rolls it back.
//
// Plain reads (DB.Read, Tx.Get of a row it has not written) see committed
// rows without locking: read committed locally. Every committed row carries
// Version, the log sequence number of the commit that last wrote it, so an
// image check can tell a row rewritten to the same value (ABA) apart.
//
// # Disk
//
// db/wal holds records framed as
//
//	u32 n | u32 CRC-32C of the 4 length bytes | u32 CRC-32C of the body | body (n bytes)
//
// and a body is u8 type (1 commit, 2 checkpoint), uvarint lsn, uvarint
// count, then per row: uvarint len + table, uvarint len + pk, u8 deleted,
// uvarint version, uvarint len + value. A checkpoint holds every row. When
// the log outgrows Config.CheckpointBytes, a checkpoint is written to
// db/wal.tmp, synced and renamed over db/wal.
//
// Recovery replays the log. A record cut short (a torn write keeps a
// prefix) ends the log: the tail is truncated durably. A complete record
// with a bad checksum is corruption at rest: Open fails and the node must
// not serve.
//
// # Trace events
//
// rowdb/recovered (commits replayed, rows, torn bytes cut), rowdb/fatal.
package rowdb
