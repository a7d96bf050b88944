package registry

// The switches of multi-data-centre sync, after SOFARegistry's
// MultiClusterSyncInfo (one row per remote data centre, written through the
// meta's MultiClusterSyncResource and read back every 60 s by data servers,
// FetchMultiSyncService, and sessions, MetadataCacheRegistry):
//
//   - enableSyncDatum: data servers sync the remote data centre at all
//     (MultiClusterSlotManagerImpl.doSyncRemoteLeader and dataChangeNotify
//     skip it when off); what was synced stays, frozen;
//   - enablePush: sessions push the remote data centre's datums
//     (PushSwitchService, FirePushService.doExecuteOnReg and the version
//     scan take only push-enabled data centres); re-enabled, the next scan
//     pushes what subscribers lack;
//   - syncDataInfoIds ("ACCEPT_ALL": every one) and ignoreDataInfoIds:
//     which dataInfoIds sync (SyncSlotDataInfoIdAcceptor; both sides of a
//     diff filter, so a dataInfoId that stops being accepted is neither
//     updated nor removed: it stays as last synced).
//
// Here the row is provide data under MultiDCSwitchKey(remote), written to
// every meta server by the console; data and session servers read it every
// MultiDCConfig.SwitchReload. synPublisherGroups is not modelled: our
// dataInfoIds have no group.

import (
	"slices"
	"strings"

	"github.com/sofasim/sofasim/sim"
)

// AcceptAll in MultiDCSwitch.DataIDs accepts every dataInfoId
// (MultiValueConstants.SYNC_ACCEPT_ALL).
const AcceptAll = "ACCEPT_ALL"

// MultiDCSwitch is one remote data centre's sync switches.
type MultiDCSwitch struct {
	Sync, Push bool
	DataIDs    []string // synced (AcceptAll: every one)
	Ignore     []string // never synced, whatever DataIDs says
}

// DefaultMultiDCSwitch is a remote data centre whose Switch is unset: synced
// and pushed whole, as an operator configures it once the real /save
// (sync on, push off, nothing accepted) is followed by push/enable and an
// ACCEPT_ALL.
var DefaultMultiDCSwitch = MultiDCSwitch{Sync: true, Push: true, DataIDs: []string{AcceptAll}}

// MultiDCSwitchKey is the provide data key of a remote data centre's switches.
func MultiDCSwitchKey(remote string) string { return "multi.cluster.sync/" + remote }

// Values encodes the switches as provide data values.
func (w MultiDCSwitch) Values() []string {
	out := []string{"row"} // never empty: an empty value reads as no row
	if w.Sync {
		out = append(out, "sync")
	}
	if w.Push {
		out = append(out, "push")
	}
	for _, id := range w.DataIDs {
		out = append(out, "id:"+id)
	}
	for _, id := range w.Ignore {
		out = append(out, "ignore:"+id)
	}
	return out
}

func parseSwitch(values []string) MultiDCSwitch {
	var w MultiDCSwitch
	for _, v := range values {
		switch {
		case v == "sync":
			w.Sync = true
		case v == "push":
			w.Push = true
		case strings.HasPrefix(v, "id:"):
			w.DataIDs = append(w.DataIDs, v[3:])
		case strings.HasPrefix(v, "ignore:"):
			w.Ignore = append(w.Ignore, v[7:])
		}
	}
	return w
}

// accepts: dataID syncs (an ignore wins over an accept, as
// BaseSyncSlotAcceptorManager checks filterOut first).
func (w MultiDCSwitch) accepts(dataID string) bool {
	return !slices.Contains(w.Ignore, dataID) && (slices.Contains(w.DataIDs, AcceptAll) || slices.Contains(w.DataIDs, dataID))
}

// filter keeps the dataInfoIds w accepts.
func (w MultiDCSwitch) filter(ids []string) []string {
	var out []string
	for _, id := range ids {
		if w.accepts(id) {
			out = append(out, id)
		}
	}
	return out
}

// switches is a member's copy of every remote data centre's switches, read
// every SwitchReload (data servers ask every meta server; sessions take
// their provide data view, polled every ProvideInterval). A member that
// (re)starts holds every remote sync and push until it has read them once,
// as the real servers load the row before they serve: a restart must not
// undo an operator's sync-off or push-off for a reload period.
type switches struct {
	cfg    MultiDCConfig
	seen   map[string]ProvideData // by remote data centre: the newest row read
	cur    map[string]MultiDCSwitch
	loaded bool // read once since the start
}

type switchReloadTick struct{}

func (s *switches) start(env *sim.Env, cfg MultiDCConfig) {
	s.cfg, s.seen, s.cur = cfg, map[string]ProvideData{}, map[string]MultiDCSwitch{}
	for _, r := range cfg.Remotes {
		s.cur[r.Name] = r.initial()
	}
	if len(cfg.Remotes) > 0 {
		env.SetTimer(cfg.SwitchReload, switchReloadTick{})
	}
}

// of is the switches of remote data centre dc as last read.
func (s *switches) of(dc string) MultiDCSwitch { return s.cur[dc] }

// read takes rows newer than those held from an answer of the metas.
func (s *switches) read(env *sim.Env, data []ProvideData) {
	s.loaded = true
	for _, r := range s.cfg.Remotes {
		key := MultiDCSwitchKey(r.Name)
		for _, d := range data {
			if d.Key == key && d.Version > s.seen[r.Name].Version {
				s.seen[r.Name] = d
				s.cur[r.Name] = parseSwitch(d.Values)
				env.Trace("registry/multidc-switch", r.Name, strings.Join(d.Values, ","))
			}
		}
	}
}

func (r RemoteDC) initial() MultiDCSwitch {
	if r.Switch != nil {
		return *r.Switch
	}
	return DefaultMultiDCSwitch
}

// The data server's reload: every meta server is asked (the real one
// reads the database).
func (d *DataServer) reloadSwitches() {
	d.env.SetTimer(d.cfg.MultiDC.SwitchReload, switchReloadTick{})
	d.fetchSwitches()
}

func (d *DataServer) fetchSwitches() {
	d.mdc.askedSw = d.env.Monotonic()
	have := map[string]uint64{}
	for _, r := range d.cfg.MultiDC.Remotes {
		have[MultiDCSwitchKey(r.Name)] = d.mdc.sw.seen[r.Name].Version
	}
	for _, id := range d.cfg.Metas {
		d.m.peers.send(id, &ProvideFetch{Have: have})
	}
}

// The session's reload: its provide data view.
func (s *SessionServer) reloadSwitches() {
	s.env.SetTimer(s.cfg.MultiDC.SwitchReload, switchReloadTick{})
	s.readSwitches()
}

// readSwitches takes the switches from the provide data view once the view
// has had an answer (at the first one, then every reload).
func (s *SessionServer) readSwitches() {
	if !s.ops.view.answered {
		return
	}
	var rows []ProvideData
	for _, r := range s.cfg.MultiDC.Remotes {
		if d, ok := s.ops.view.data[MultiDCSwitchKey(r.Name)]; ok {
			rows = append(rows, d)
		}
	}
	s.ops.mdc.read(s.env, rows)
}

// remotePushOff: x follows a remote data centre's datum whose push is off.
func (s *SessionServer) remotePushOff(x *sub) bool {
	dc, _, ok := splitRemote(x.dataID)
	if !ok || len(s.cfg.MultiDC.Remotes) == 0 {
		return false
	}
	if w, known := s.ops.mdc.cur[dc]; known && (!w.Push || !s.ops.mdc.loaded) {
		s.env.Reached("registry/multidc-push-held")
		return true
	}
	return false
}
