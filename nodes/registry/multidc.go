package registry

// Multi-data-centre sync, after SOFARegistry 6's multi-cluster sync
// (MultiClusterSyncRepository's MultiClusterSyncInfo names the remote data
// centre and its meta address; meta DefaultMultiClusterSlotTableSyncer;
// data MultiClusterSlotManagerImpl, RemoteDataChangeNotifyHandler and
// SlotDiffSyncer; session per-data-centre push contexts):
//
//   - the meta leader asks the remote data centre's meta leader for its
//     slot table every SlotSyncInterval (1s), gives up an answer after
//     RPCTimeout (3s) and, after MaxSyncFails failures in a row (a follower's
//     answer counts as one, after learning the leader it names), tries the
//     next remote meta;
//   - each data server learns the remote tables from its meta leader (the
//     real one through its heartbeat) and, for every slot it leads in its
//     own table, syncs the same slot of the remote data centre from the
//     remote slot leader: the whole slot every SyncInterval (6s), and at
//     once (within WatchInterval, 200ms) the dataInfoIds the remote leader
//     announced as changed. A remote slot is served only after one full sync
//     since its remote leader last changed (Migrating until then);
//   - a data server announces its own changes to the remote data servers
//     that sync from it (the connections to its sync port);
//   - the remote data centre's datum of X is stored apart, under
//     RemoteID(dc, X), in X's slot, with its own version (a local one: the
//     remote's are another clock's). Sessions fetch, cache and push it like
//     any datum: a subscriber that accepts another data centre's data
//     subscribes to its RemoteID too, so what the session pushed it is kept
//     per data centre, as SOFARegistry's Subscriber.lastPushContexts are.

import (
	"strings"
	"time"

	"github.com/sofasim/sofasim/sim"
)

// BugMultiDCNoResync: a remote slot is synced whole once; afterwards only
// the dataInfoIds the remote leader announces are synced, so a change
// announced over an inter-DC connection that then broke is never repaired
// (the periodic SyncLeaderTask is what repairs it). Modelled, not a filed
// incident.
const BugMultiDCNoResync = "bug/registry/multidc-no-periodic-sync"

// BugMultiDCNotifyBypass: a data server syncs the dataInfoIds a remote
// leader announces without asking its switches, so a change reaches a
// datum whose sync is off, ignored or not in the synced list
// (dataChangeNotify without its multiSync and acceptor checks). Modelled,
// not a filed incident.
const BugMultiDCNotifyBypass = "bug/registry/multidc-notify-bypasses-switches"

// MultiDCBugs are the planted bugs of multi-data-centre sync.
var MultiDCBugs = []sim.Bug{
	{Name: BugMultiDCNoResync, Description: "a remote slot is synced whole only once, then only announced changes: one announced over a broken inter-DC connection is never repaired"},
	{Name: BugMultiDCNotifyBypass, Description: "an announced remote change is synced whatever the switches say: a datum whose sync is off or ignored still changes"},
}

// MultiDCConfig configures a cluster's sync of other data centres.
type MultiDCConfig struct {
	// DataCenter names this cluster (default "dc1").
	DataCenter string
	// Remotes are the data centres whose data this cluster syncs.
	Remotes []RemoteDC
	// SlotSyncInterval: the meta leader asks for each remote table (default
	// 1s, remoteSlotSyncerMillis). RPCTimeout: a remote request without an
	// answer failed (default 3s, remoteClusterRpcTimeoutMillis and
	// syncRemoteSlotLeaderTimeoutMillis). MaxSyncFails failures in a row
	// make the meta try the next remote meta (default 3, MAX_SYNC_FAIL_COUNT).
	SlotSyncInterval, RPCTimeout time.Duration
	MaxSyncFails                 int
	// SyncInterval: a data server syncs each remote slot whole (default
	// 6s, syncRemoteSlotLeaderIntervalSecs); WatchInterval: it looks for
	// announced changes and due syncs (default 200ms, RemoteSyncingWatchDog).
	SyncInterval, WatchInterval time.Duration
	// SwitchReload: data and session servers read the remote data
	// centres' switches (multidc_switch.go) this often (default 60s:
	// multiClusterConfigReloadMillis of data, multiClusterConfigReloadSecs
	// of session; neither is woken by a change).
	SwitchReload time.Duration
}

// RemoteDC is a data centre to sync from: its name and meta servers, and
// its switches until the console writes them (nil: DefaultMultiDCSwitch).
type RemoteDC struct {
	Name   string
	Metas  []sim.NodeID
	Switch *MultiDCSwitch
}

func (c *MultiDCConfig) defaults() {
	if c.DataCenter == "" {
		c.DataCenter = "dc1"
	}
	def := defaultDur
	def(&c.SlotSyncInterval, time.Second)
	def(&c.RPCTimeout, 3*time.Second)
	def(&c.SyncInterval, 6*time.Second)
	def(&c.WatchInterval, 200*time.Millisecond)
	def(&c.SwitchReload, time.Minute)
	if c.MaxSyncFails <= 0 {
		c.MaxSyncFails = 3
	}
}

// RemoteID names data centre dc's datum of dataID in this cluster: the
// key sessions fetch and subscribers subscribe to.
func RemoteID(dc, dataID string) string { return "@" + dc + "/" + dataID }

// splitRemote undoes RemoteID.
func splitRemote(id string) (dc, dataID string, ok bool) {
	if !strings.HasPrefix(id, "@") {
		return "", id, false
	}
	dc, dataID, ok = strings.Cut(id[1:], "/")
	return dc, dataID, ok
}

// Multi-data-centre messages.
type (
	// RemoteSlotSync: meta leader -> a meta of a remote data centre: its
	// slot table, if newer than Epoch.
	RemoteSlotSync struct {
		ReqID uint64
		Epoch uint64
	}
	// RemoteSlotSyncResp: Leader false names the leader it knows (Hint);
	// Table is set when newer than asked for and the leader has warmed up.
	RemoteSlotSyncResp struct {
		ReqID  uint64
		Leader bool
		Hint   sim.NodeID
		Table  *Table
	}
	// RemoteTableFetch: data server -> its meta servers, every heartbeat:
	// the remote tables newer than Have.
	RemoteTableFetch struct{ Have map[string]uint64 }
	// RemoteTables: meta leader -> data server.
	RemoteTables struct{ Tables map[string]*Table }
	// RemoteSyncReq: data server -> the remote data centre's leader of
	// Slot (Epoch: the remote table it routes by): the slot's datums whose
	// versions differ from Have (Only: just these dataInfoIds), of those
	// Accept accepts (the real request carries its acceptor manager).
	RemoteSyncReq struct {
		ReqID  uint64
		Slot   int
		Epoch  uint64
		Only   []string
		Have   map[string]uint64
		Accept MultiDCSwitch
	}
	// RemoteSyncResp: the datums that differ, and the dataInfoIds of Have
	// the leader does not hold.
	RemoteSyncResp struct {
		ReqID      uint64
		DataCenter string
		Slot       int
		Status     Status
		Datums     []*Datum
		Removed    []string
	}
	// RemoteChanged: data server -> the remote data servers syncing from
	// it: these dataInfoIds of DataCenter changed.
	RemoteChanged struct {
		DataCenter string
		DataIDs    []string
	}
)

// metaMultiDC is the meta leader's view of the remote data centres.
type metaMultiDC struct {
	peers   peers
	remotes map[string]*remoteMeta
	next    uint64
}

type remoteMeta struct {
	table    Table
	target   int        // index of the remote meta asked
	hint     sim.NodeID // the remote leader learnt, tried first
	fails    int
	inflight uint64
	sentAt   time.Duration
}

type remoteSlotTick struct{}

func (m *MetaServer) startMultiDC() {
	mc := m.cfg.MultiDC
	m.mdc = metaMultiDC{peers: peers{env: m.env, conns: map[sim.NodeID]sim.ConnID{}}, remotes: map[string]*remoteMeta{}}
	for _, r := range mc.Remotes {
		m.mdc.remotes[r.Name] = &remoteMeta{}
	}
	if len(mc.Remotes) > 0 {
		m.env.SetTimer(mc.SlotSyncInterval, remoteSlotTick{})
	}
}

func (m *MetaServer) multiDCTimer(tag any) bool {
	if _, ok := tag.(remoteSlotTick); !ok {
		return false
	}
	m.env.SetTimer(m.cfg.MultiDC.SlotSyncInterval, remoteSlotTick{})
	m.checkLeader()
	if !m.acting() {
		return true
	}
	mc := m.cfg.MultiDC
	now := m.env.Monotonic()
	for _, r := range mc.Remotes {
		st := m.mdc.remotes[r.Name]
		if st.inflight != 0 {
			if now-st.sentAt < mc.RPCTimeout {
				continue
			}
			st.inflight = 0
			m.remoteSyncFailed(st, r)
		}
		to := st.hint
		if to == "" {
			to = r.Metas[st.target%len(r.Metas)]
		}
		m.mdc.next++
		st.inflight, st.sentAt = m.mdc.next, now
		m.mdc.peers.send(to, &RemoteSlotSync{ReqID: st.inflight, Epoch: st.table.Epoch})
	}
	return true
}

// remoteSyncFailed counts a failure; MaxSyncFails in a row move on to the
// next remote meta (resetLeader).
func (m *MetaServer) remoteSyncFailed(st *remoteMeta, r RemoteDC) {
	if st.fails++; st.fails >= m.cfg.MultiDC.MaxSyncFails {
		st.fails, st.hint = 0, ""
		st.target++
		m.env.Reached("registry/multidc-remote-meta-reset")
	}
}

func (m *MetaServer) multiDCMessage(conn sim.ConnID, msg any) bool {
	switch x := msg.(type) {
	case *RemoteSlotSync:
		m.checkLeader()
		resp := &RemoteSlotSyncResp{ReqID: x.ReqID, Leader: m.acting()}
		if !resp.Leader {
			if m.db != nil && m.db.leader != string(m.env.ID()) {
				resp.Hint = sim.NodeID(m.db.leader)
			}
		} else if t := m.table(); m.warmed() && t.Epoch > x.Epoch {
			c := copyTable(t)
			resp.Table = &c
		}
		m.env.Send(conn, resp)
	case *RemoteSlotSyncResp:
		for _, r := range m.cfg.MultiDC.Remotes {
			st := m.mdc.remotes[r.Name]
			if st.inflight != x.ReqID {
				continue
			}
			st.inflight = 0
			if !x.Leader {
				st.hint = x.Hint
				m.remoteSyncFailed(st, r)
				break
			}
			st.fails = 0
			if x.Table != nil && x.Table.Epoch > st.table.Epoch {
				st.table = copyTable(x.Table)
				m.env.Trace("registry/remote-table", r.Name, st.table.Epoch)
			}
		}
	case *RemoteTableFetch:
		m.checkLeader()
		if !m.acting() || len(m.mdc.remotes) == 0 {
			return true
		}
		out := &RemoteTables{Tables: map[string]*Table{}}
		for _, name := range sortedKeys(m.mdc.remotes) {
			if t := m.mdc.remotes[name].table; t.Epoch > x.Have[name] {
				c := copyTable(&t)
				out.Tables[name] = &c
			}
		}
		if len(out.Tables) > 0 {
			m.env.Send(conn, out)
		}
	default:
		return false
	}
	return true
}
