package coordinator

import (
	"time"

	"github.com/sofasim/sofasim/nodes/rowdb"
	"github.com/sofasim/sofasim/sim"
)

// Store selects where the TC keeps sessions and locks.
type Store string

const (
	// StoreFile: each TC keeps its sessions in a rowdb on its own disk
	// (use one TC); a restart reloads them.
	StoreFile Store = "file"
	// StoreRaft: the TCs form a raftkv cluster; the leader serves.
	StoreRaft Store = "raft"
)

// Config is shared by every node of a coordinator deployment.
type Config struct {
	TCs   []sim.NodeID
	RMs   []sim.NodeID
	Store Store // default StoreFile
	// Registry, when set, makes the TCs publish themselves and clients
	// find them through these registry session servers (discovery=registry);
	// otherwise clients use the static TCs list.
	Registry []sim.NodeID
	// Observer hears TC, RM and TM events (nil: none).
	Observer Observer

	// RPCTimeout bounds one attempt of an RPC (default 1s); OpTimeout
	// bounds a TC call with its retries (default 4s); RetryBackoff spaces
	// retries (default 50ms).
	RPCTimeout, OpTimeout, RetryBackoff time.Duration
	// TxTimeout is the default global transaction timeout (default 3s).
	TxTimeout time.Duration
	// RecoveryInterval: the TC's recovery jobs run this often (default 500ms).
	RecoveryInterval time.Duration
	// LockRetryInterval and LockRetryTimes bound an RM's wait for a global
	// lock at branch registration (defaults 20ms, 10).
	LockRetryInterval time.Duration
	LockRetryTimes    int
	// UndoCleanInterval: RMs delete committed branches' undo logs and
	// sweep leftovers this often (default 200ms).
	UndoCleanInterval time.Duration
	// DB configures every RM's database (and the file store's).
	DB rowdb.Config
	// GroupCommit, for the raft store, gathers the commands of this
	// window into one raft entry (default 0: each command its own entry).
	GroupCommit time.Duration
	// SnapshotEvery for the raft store (default 200).
	SnapshotEvery uint64
	// Accounts per RM and their initial balance (defaults 4 and 1000);
	// Items per RM for TCC and their initial stock (defaults 2 and 100).
	Accounts, Items int
	Balance, Stock  int64
	// Lists per RM for the list-append workload (default none), each
	// starting empty.
	Lists int
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.RPCTimeout, time.Second)
	def(&c.OpTimeout, 4*time.Second)
	def(&c.RetryBackoff, 50*time.Millisecond)
	def(&c.TxTimeout, 3*time.Second)
	def(&c.RecoveryInterval, 500*time.Millisecond)
	def(&c.LockRetryInterval, 20*time.Millisecond)
	def(&c.UndoCleanInterval, 200*time.Millisecond)
	if c.LockRetryTimes <= 0 {
		c.LockRetryTimes = 10
	}
	if c.Store == "" {
		c.Store = StoreFile
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = 200
	}
	if c.Accounts <= 0 {
		c.Accounts = 4
	}
	if c.Items <= 0 {
		c.Items = 2
	}
	if c.Balance <= 0 {
		c.Balance = 1000
	}
	if c.Stock <= 0 {
		c.Stock = 100
	}
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
}

// AddServers adds every TC and RM of the config to the world.
func AddServers(w *sim.World, cfg Config) {
	cfg.defaults()
	for _, id := range cfg.TCs {
		w.AddNode(id, func() sim.Node { return NewTC(cfg, id) })
	}
	for _, id := range cfg.RMs {
		w.AddNode(id, func() sim.Node { return NewRM(cfg) })
	}
}
