package registry

// Configuration shared by every registry node, and building a cluster.

import (
	"time"

	"github.com/sofasim/sofasim/sim"
)

// Config is shared by every registry node.
type Config struct {
	Metas    []sim.NodeID
	Data     []sim.NodeID
	Sessions []sim.NodeID
	// Slots in the table (default 256).
	Slots int
	// HeartbeatInterval of members to the meta leader (default 1s,
	// SOFARegistry's schedulerHeartbeatIntervalSecs), each awaited up to
	// MetaTimeout (default 3s); see member_renew.go. HeartbeatAll sends
	// every heartbeat to every meta server instead, unawaited (the model
	// before issue 14); a Config that names no election gets it with 500ms
	// (metaDefaults). Lease is how long the meta leader keeps a silent
	// member (default 3s; SOFARegistry's is 20 s, RealMetaLease, which the
	// registry scenarios use).
	HeartbeatInterval, MetaTimeout, Lease time.Duration
	HeartbeatAll                          bool
	// ArrangeInterval: the meta leader arranges the slot table this often
	// (default 1s, registry.slot.arrange.interval.millis), and at once when
	// a member joins or leaves.
	ArrangeInterval time.Duration
	// RealAssigner fills a table's gaps with SOFARegistry's
	// DefaultSlotAssigner (all leaders first, a dead leader's follower
	// only while it leads fewer than the high water mark, followers to the
	// fewest followers) instead of the model's repair (table.go); off by
	// default: with it a data server restarted within one arrange tick
	// leads most of its old slots empty, and registry-chaos finds
	// serve-before-migration in 4 seeds of 200 (27 with the repair).
	RealAssigner bool
	// SyncInterval: session servers compare datum versions (default 5s).
	SyncInterval time.Duration
	// ReplicateInterval: data leaders batch replication (default 300ms).
	ReplicateInterval time.Duration
	// PushTimeout: a push without an ack failed, in the immediate push mode
	// (default 1s; the pipeline's is Push.Timeout); RetryInterval spaces
	// retries of immediate pushes and of writes (default 300ms).
	PushTimeout, RetryInterval time.Duration
	// SnapshotEvery for the meta raft log (default 64).
	SnapshotEvery uint64
	// Observer, if set, is told of every table proposal of the meta
	// leaders (a harness records them for a linearizability check of the
	// meta store). It is not part of the servers' state.
	Observer MetaObserver

	// The meta election (meta_elect.go, meta_db.go): see metaDefaults.
	Election      string     // ElectionDB or ElectionRaft (default)
	LockDB        sim.NodeID // the lock database node (default "lockdb")
	LockDuration  time.Duration
	ElectInterval time.Duration
	WarmUp        time.Duration
	Protection    int // protection mode at this many data servers or fewer (0: only with none)
	// Ops: provide data and the ops controls (provide.go, ops_*.go).
	Ops OpsConfig
	// Session and data side (issue 14: SOFARegistry's timings).
	// SessionSyncInterval: every session sends each data slot leader a
	// digest of its publishers there and re-sends the slots that differ
	// (default 6s, SOFARegistry's session-to-data sync).
	SessionSyncInterval time.Duration
	// SessionLease: a data server keeps the publishers of a session process
	// while the process is in the meta's table, holds a connection to it,
	// or was heard from within SessionLease (default 30s), checked every
	// SessionLeaseCheck (default 5s). EvictWithTable is the old model: the
	// publishers go as soon as the session leaves the table (its 3s meta
	// lease), so a 10s GC pause wipes what production keeps.
	SessionLease, SessionLeaseCheck time.Duration
	EvictWithTable                  bool
	// FollowerSyncInterval: a slot's follower compares its datums'
	// versions with the leader's, which sends what differs (default 180s);
	// between two, only the leader's batches of changes keep it up to date.
	FollowerSyncInterval time.Duration
	// AckAfterData: a session acknowledges a client's publish only once
	// the slot leader accepted it, and retries writes to the data servers
	// until one does (the old, stronger model). By default it acknowledges
	// once the publish is stored in the session, as SOFARegistry does, and
	// gives a write up after DataRetries (default 5) retries spaced by
	// DataRetryBackoff (default 1s); the periodic sync repairs what was
	// given up.
	AckAfterData     bool
	DataRetries      int
	DataRetryBackoff time.Duration
	// Migration: when a new slot leader serves without a session's answer
	// (data_migration.go).
	Migration MigrationConfig
	// Version: how a data server numbers a datum's versions (data_version.go):
	// VersionRepair (the default) or VersionNextID (SOFARegistry's nextId).
	Version string

	// Connection lifecycle (conn_sweep.go). OrphanSweepInterval: a session
	// cleans the registrations whose client connection is gone (default
	// 5s, SOFARegistry's ClientWatchDog). RegisterLag: a connection's close
	// handled within this time of a registration on it misses it, as the
	// real session's IO thread races its executor (default 0: the sim
	// delivers a connection's messages and its close in order).
	OrphanSweepInterval, RegisterLag time.Duration
	// Push is the session's push pipeline (push_pipeline.go).
	Push PushConfig
	// Watch: watchers (watch.go); off by default, as SOFARegistry's.
	Watch WatchConfig
	// AccessLimit: a session admits this many client registrations a
	// second (access_limit.go; default 30000, accessLimitRate).
	AccessLimit int
	// MultiDC: this data centre's name and the remote ones it syncs (multidc.go).
	MultiDC MultiDCConfig
	// ClientLiveness: the clients' heartbeat and the sessions' idle close
	// (client_liveness.go; default sofa-bolt's).
	ClientLiveness Liveness
}

// MetaObserver hears of the meta store's compare-and-set proposals: a new
// table of epoch Expected+1 applies only on a table of epoch Expected.
type MetaObserver interface {
	// ProposeTable: node proposed the table of epoch expected+1; the
	// returned id names the proposal in ProposeDone.
	ProposeTable(node sim.NodeID, expected uint64) int
	// ProposeDone: applied says whether the table applied; known is false
	// when the outcome is unknown (leadership was lost).
	ProposeDone(id int, known, applied bool)
}

func (c *Config) defaults() {
	if c.Slots <= 0 {
		c.Slots = 256
	}
	if c.Lease <= 0 {
		c.Lease = 3 * time.Second
	}
	if c.SyncInterval <= 0 {
		c.SyncInterval = 5 * time.Second // SOFARegistry's version scan
	}
	if c.ReplicateInterval <= 0 {
		c.ReplicateInterval = 300 * time.Millisecond
	}
	if c.PushTimeout <= 0 {
		c.PushTimeout = time.Second
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = 300 * time.Millisecond
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = 64
	}
	c.metaDefaults()
	c.Ops.defaults()
	c.dataDefaults()
	c.Migration.defaults()
	if c.Version == "" {
		c.Version = VersionRepair
	}
	if c.OrphanSweepInterval <= 0 {
		c.OrphanSweepInterval = 5 * time.Second
	}
	c.Push.defaults()
	c.Watch.defaults()
	if c.AccessLimit <= 0 {
		c.AccessLimit = 30000
	}
	c.MultiDC.defaults()
	c.ClientLiveness.defaults()
}

// AddServers adds every meta, data and session server to the world.
func AddServers(w *sim.World, cfg Config) {
	cfg.defaults()
	if cfg.Election == ElectionDB {
		w.AddNode(cfg.LockDB, func() sim.Node { return &LockDB{cfg: cfg} })
	}
	for _, id := range cfg.Metas {
		id := id
		w.AddNode(id, func() sim.Node { return NewMeta(cfg, id) })
	}
	for _, id := range cfg.Data {
		w.AddNode(id, func() sim.Node { return &DataServer{cfg: cfg} })
	}
	for _, id := range cfg.Sessions {
		w.AddNode(id, func() sim.Node { return &SessionServer{cfg: cfg} })
	}
}

// OpsConfig configures provide data and the ops controls.
type OpsConfig struct {
	// ProvideInterval: session and data servers poll a meta server for
	// newer provide data (default 1s). The real servers are also notified
	// of a change at once and poll every 3s; one fast poll stands for both.
	ProvideInterval time.Duration
	// SessionOffDelay: with BugSessionOffAfterDisconnect, a data server
	// erases a session's publishers once its connection has been gone this
	// long (default 30s, sofa-registry#57).
	SessionOffDelay time.Duration
}

func (c *OpsConfig) defaults() {
	if c.ProvideInterval <= 0 {
		c.ProvideInterval = time.Second
	}
	if c.SessionOffDelay <= 0 {
		c.SessionOffDelay = 30 * time.Second
	}
}

// PushConfig is the session's push pipeline (push_pipeline.go), after
// SOFARegistry's ChangeProcessor, PushProcessor and PushEfficiencyConfig.
type PushConfig struct {
	// Mode: PushPipeline (SOFARegistry's, the registry scenarios' default)
	// or PushImmediate (a change pushed at once, a failed push retried every
	// RetryInterval forever; the default of a Config that names none, for
	// the systems that embed a small registry sized for quick failovers).
	Mode string
	// ChangeDebounce merges a dataInfoId's changes (default 1s) and
	// ChangeMaxDelay fires them at most this long after the first
	// (default 3s): changeDebouncingMillis and changeDebouncingMaxMillis.
	ChangeDebounce, ChangeMaxDelay time.Duration
	// Debounce: a subscriber's push waits this long for newer ones
	// (default 500ms, pushDataTaskDebouncingMillis).
	Debounce time.Duration
	// Retries: a failed push is retried this many times (default 3,
	// pushTaskRetryTimes), the n-th after RetryFirst + (n-1)*RetryIncrement
	// (default 500ms each); then it waits for the next version scan.
	Retries                    int
	RetryFirst, RetryIncrement time.Duration
	// Timeout: a push without an ack failed (default 2s: the session's
	// ClientNodeExchanger waits clientNodeExchangeTimeoutMillis). The
	// immediate mode keeps Config.PushTimeout (1s): it retries every
	// RetryInterval forever, and the registries embedded in the mesh,
	// coordinator and rehearsals are sized for quick failovers with it.
	Timeout time.Duration
	// StuckTimeout: a push in flight this long is dropped so that the next
	// one can go (default 3 x Timeout: PushProcessor.getPushingMaxSpanMillis).
	StuckTimeout time.Duration
	// More than BreakerFailures failed pushes to a subscriber that was
	// pushed before open its circuit breaker until BreakerSilence after the
	// last failure; one success closes it; the next version scan pushes
	// (defaults 10 and 60s: pushCircuitBreakerThreshold,
	// pushCircuitBreakerSilenceMillis and pushConsecutiveSuccess of
	// SessionServerConfigBean; the statistic is the subscriber's,
	// DefaultCircuitBreakerService.pushCircuitBreaker). With the address
	// switch on (provide data ProvideCircuitBreaker, off by default) a
	// connection with more than AddressBreakerFailures failed pushes
	// (default 50, pushAddressCircuitBreakerThreshold) is held too.
	BreakerFailures        int
	BreakerSilence         time.Duration
	AddressBreakerFailures int
	// Adaptive is the large-change adaptive delay (off by default, as
	// SOFARegistry's largeChangeAdaptiveDelayConfig).
	Adaptive AdaptiveDelay
}

// AdaptiveDelay is LargeChangeAdaptiveDelayConfig: with On, a change of
// a datum with more than Threshold publishers (default 2000) is merged for
// Base + PerPublisher x (publishers - Threshold), counting at most
// MaxPublishers (default 4900): 1 s to 30 s at the defaults (1 s, 10 ms).
type AdaptiveDelay struct {
	On                       bool
	Threshold, MaxPublishers int
	Base, PerPublisher       time.Duration
}

func (a *AdaptiveDelay) defaults() {
	if a.Threshold <= 0 {
		a.Threshold = 2000
	}
	if a.MaxPublishers <= 0 {
		a.MaxPublishers = 4900
	}
	defaultDur(&a.Base, time.Second)
	defaultDur(&a.PerPublisher, 10*time.Millisecond)
}

// delay is a change's adaptive delay (0: not a large change).
func (a AdaptiveDelay) delay(pubs int) time.Duration {
	if !a.On || pubs <= a.Threshold {
		return 0
	}
	return a.Base + a.PerPublisher*time.Duration(min(pubs, a.MaxPublishers)-a.Threshold)
}

// The push pipeline's modes.
const (
	PushPipeline  = "pipeline"
	PushImmediate = "immediate"
)

func (c *PushConfig) defaults() {
	if c.Mode == "" {
		c.Mode = PushImmediate
	}
	def := defaultDur
	def(&c.ChangeDebounce, time.Second)
	def(&c.ChangeMaxDelay, 3*time.Second)
	def(&c.Debounce, 500*time.Millisecond)
	def(&c.RetryFirst, 500*time.Millisecond)
	def(&c.RetryIncrement, 500*time.Millisecond)
	def(&c.Timeout, 2*time.Second)
	def(&c.StuckTimeout, 3*c.Timeout)
	def(&c.BreakerSilence, 60*time.Second)
	if c.Retries <= 0 {
		c.Retries = 3
	}
	if c.BreakerFailures <= 0 {
		c.BreakerFailures = 10
	}
	if c.AddressBreakerFailures <= 0 {
		c.AddressBreakerFailures = 50
	}
	c.Adaptive.defaults()
}

// defaultDur sets *d to v unless it is positive.
func defaultDur(d *time.Duration, v time.Duration) {
	if *d <= 0 {
		*d = v
	}
}

// BreakerHold is how long an open circuit breaker may hold a subscriber's
// pushes after the faults that opened it: its silence (0 when pushes are
// immediate, which have no breaker).
func (c PushConfig) BreakerHold() time.Duration {
	c.defaults()
	if c.immediate() {
		return 0
	}
	return c.BreakerSilence
}

// PushBound is how long a change may take from the session hearing of it
// to the subscriber's push away from failures: the merge window's maximum
// plus the push debounce.
func (c PushConfig) PushBound() time.Duration {
	c.defaults()
	if c.immediate() {
		return 0
	}
	return max(c.ChangeMaxDelay, c.Adaptive.delay(c.Adaptive.MaxPublishers)) + c.Debounce
}

// LoneBound is how long a lone change waits away from failures: the
// change debounce plus the push debounce (0 when pushes are immediate).
func (c PushConfig) LoneBound() time.Duration {
	c.defaults()
	if c.immediate() {
		return 0
	}
	return c.ChangeDebounce + c.Debounce
}

func (c PushConfig) immediate() bool { return c.Mode != PushPipeline }

// pushTimeout is how long a session waits for a push's ack.
func (c *Config) pushTimeout() time.Duration {
	if c.Push.immediate() {
		return c.PushTimeout
	}
	return c.Push.Timeout
}
